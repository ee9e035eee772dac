import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, etagOf, ok, type Schemas } from "../../api/client";
import { Markdown } from "../../components/Markdown";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { Tabs } from "../../components/Tabs";
import { useMembers } from "../../app/projectData";
import { formatDateTime, relativeTime } from "../../lib/format";
import type { Item } from "./ItemScreen";

/** Comments, links, pull requests, blockers and history of an item, as tabs. */
export function Activity({ item, writable }: { item: Item; writable: boolean }) {
  return (
    <section className="card" aria-label="Activity">
      <Tabs
        label="Item activity"
        tabs={[
          { id: "comments", label: "Comments", render: () => <Comments item={item} writable={writable} /> },
          { id: "links", label: "Links", render: () => <Links item={item} writable={writable} /> },
          { id: "prs", label: "Pull requests", render: () => <PullRequests item={item} /> },
          { id: "blockers", label: "Blockers", render: () => <Blockers item={item} writable={writable} /> },
          { id: "history", label: "History", render: () => <History item={item} /> },
        ]}
      />
    </section>
  );
}

function who(user: { display_name?: string; username?: string | null } | null | undefined, fallback = "Someone") {
  return user?.display_name || user?.username || fallback;
}

function Comments({ item, writable }: { item: Item; writable: boolean }) {
  const client = useQueryClient();
  const comments = useQuery({
    queryKey: ["comments", item.key],
    queryFn: () =>
      ok(api.GET("/api/v1/items/{item_key}/comments", { params: { path: { item_key: item.key }, query: { limit: 100 } } })),
  });
  const [body, setBody] = useState("");
  const add = useMutation({
    mutationFn: () => ok(api.POST("/api/v1/items/{item_key}/comments", { params: { path: { item_key: item.key } }, body: { body } })),
    onSuccess: () => {
      setBody("");
      void client.invalidateQueries({ queryKey: ["comments", item.key] });
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    if (body.trim()) add.mutate();
  }
  if (comments.isPending) return <SkeletonRows rows={2} />;
  if (comments.isError) return <ErrorState error={comments.error} retry={() => void comments.refetch()} />;
  return (
    <div className="stack">
      {comments.data.data.length === 0 && <p className="muted">No comments yet.</p>}
      <ol className="comment-list">
        {comments.data.data.map((c) => (
          <li key={c.id} className="comment">
            <div className="small">
              <strong>{c.author ? who(c.author) : (c.imported_author ?? "Someone")}</strong>{" "}
              <time className="muted" dateTime={c.created_at} title={formatDateTime(c.created_at)}>
                {relativeTime(c.created_at)}
              </time>
            </div>
            <Markdown source={c.body} />
          </li>
        ))}
      </ol>
      {writable && (
        <form onSubmit={submit} className="stack">
          <label htmlFor="new-comment">Add a comment</label>
          <textarea
            id="new-comment"
            rows={3}
            maxLength={65536}
            placeholder="Markdown; @username to mention someone"
            value={body}
            onChange={(e) => setBody(e.target.value)}
          />
          <div className="row">
            <span className="spacer" />
            <button type="submit" className="primary" disabled={!body.trim() || add.isPending}>
              Comment
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

const LINK_LABEL: Record<Schemas["LinkType"], string> = {
  blocks: "blocks",
  blocked_by: "is blocked by",
  relates_to: "relates to",
  duplicates: "duplicates",
  duplicated_by: "is duplicated by",
};

function Links({ item, writable }: { item: Item; writable: boolean }) {
  const client = useQueryClient();
  const links = useQuery({
    queryKey: ["links", item.key],
    queryFn: () => ok(api.GET("/api/v1/items/{item_key}/links", { params: { path: { item_key: item.key } } })),
  });
  const [type, setType] = useState<Schemas["LinkType"]>("relates_to");
  const [target, setTarget] = useState("");
  const add = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/items/{item_key}/links", {
          params: { path: { item_key: item.key } },
          body: { type, target: target.trim().toUpperCase() },
        }),
      ),
    onSuccess: () => {
      setTarget("");
      void client.invalidateQueries({ queryKey: ["links", item.key] });
      void client.invalidateQueries({ queryKey: ["history", item.key] });
    },
  });
  const remove = useMutation({
    mutationFn: (link: { type: Schemas["LinkType"]; target: string }) =>
      ok(
        api.DELETE("/api/v1/items/{item_key}/links", {
          params: { path: { item_key: item.key }, query: { type: link.type, target: link.target } },
        }),
      ),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["links", item.key] });
      void client.invalidateQueries({ queryKey: ["history", item.key] });
    },
  });
  if (links.isPending) return <SkeletonRows rows={2} />;
  if (links.isError) return <ErrorState error={links.error} retry={() => void links.refetch()} />;
  return (
    <div className="stack">
      {links.data.data.length === 0 ? (
        <p className="muted">No links. Link items that block, relate to or duplicate this one.</p>
      ) : (
        <ul className="plain-list">
          {links.data.data.map((l) => (
            <li key={l.id}>
              <span className="muted">{LINK_LABEL[l.type]}</span>{" "}
              <Link to={`/p/${item.project_key}/items/${l.target}`} className="mono">
                {l.target}
              </Link>{" "}
              {l.target_title}
              {writable && (
                <button
                  type="button"
                  className="ghost small"
                  aria-label={`Remove link: ${LINK_LABEL[l.type]} ${l.target}`}
                  disabled={remove.isPending}
                  onClick={() => remove.mutate({ type: l.type, target: l.target })}
                >
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {writable && (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (target.trim()) add.mutate();
          }}
        >
          <label htmlFor="link-type" className="visually-hidden">
            Link type
          </label>
          <select id="link-type" value={type} onChange={(e) => setType(e.target.value as Schemas["LinkType"])}>
            {Object.entries(LINK_LABEL).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
          <label htmlFor="link-target" className="visually-hidden">
            Item key to link
          </label>
          <input
            id="link-target"
            className="mono"
            placeholder={`${item.project_key}-1`}
            maxLength={20}
            value={target}
            onChange={(e) => setTarget(e.target.value)}
          />
          <button type="submit" disabled={!target.trim() || add.isPending}>
            Add link
          </button>
        </form>
      )}
    </div>
  );
}

function PullRequests({ item }: { item: Item }) {
  const prs = useQuery({
    queryKey: ["item-prs", item.key],
    queryFn: () => ok(api.GET("/api/v1/items/{item_key}/pull-requests", { params: { path: { item_key: item.key } } })),
  });
  if (prs.isPending) return <SkeletonRows rows={2} />;
  if (prs.isError) return <ErrorState error={prs.error} retry={() => void prs.refetch()} />;
  if (prs.data.data.length === 0)
    return <p className="muted">No pull requests. Mention {item.key} in a branch name, PR title or commit to link one.</p>;
  return (
    <ul className="plain-list">
      {prs.data.data.map((pr) => (
        <li key={pr.id} className="row">
          <span className={`badge pr-${pr.state}`}>{pr.state.replace("_", " ")}</span>
          {pr.url ? (
            <a href={pr.url} target="_blank" rel="noopener noreferrer">
              {pr.repository}#{pr.number}
            </a>
          ) : (
            <span>
              {pr.repository}#{pr.number}
            </span>
          )}
          <span>{pr.title}</span>
          <span className="muted small">by {pr.author.user?.display_name ?? pr.author.login ?? "someone"}</span>
        </li>
      ))}
    </ul>
  );
}

type WaitingKind = "person" | "team" | "external" | "item";

function waitingOn(kind: WaitingKind, value: string): Schemas["BlockerCreate"]["waiting_on"] {
  if (kind === "person") return { kind, user: value };
  if (kind === "item") return { kind, item_key: value.toUpperCase() };
  return { kind, name: value };
}

function Blockers({ item, writable }: { item: Item; writable: boolean }) {
  const client = useQueryClient();
  const members = useMembers(item.project_key);
  const blockers = useQuery({
    queryKey: ["item-blockers", item.key],
    queryFn: () =>
      ok(
        api.GET("/api/v1/projects/{project_key}/blockers", {
          params: { path: { project_key: item.project_key }, query: { item: item.key, limit: 50 } },
        }),
      ),
  });
  const resolved = useQuery({
    queryKey: ["item-blockers", item.key, "resolved"],
    queryFn: () =>
      ok(
        api.GET("/api/v1/projects/{project_key}/blockers", {
          params: { path: { project_key: item.project_key }, query: { item: item.key, state: "resolved", limit: 20 } },
        }),
      ),
  });
  const [reason, setReason] = useState("");
  const [kind, setKind] = useState<WaitingKind>("person");
  const [on, setOn] = useState("");
  const [resolution, setResolution] = useState<Record<string, string>>({});
  function changed() {
    void client.invalidateQueries({ queryKey: ["item-blockers", item.key] });
    void client.invalidateQueries({ queryKey: ["item", item.key] });
    void client.invalidateQueries({ queryKey: ["items", item.project_key] });
    void client.invalidateQueries({ queryKey: ["blockers", item.project_key] });
  }
  const raise = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/projects/{project_key}/blockers", {
          params: { path: { project_key: item.project_key } },
          body: { item_key: item.key, reason: reason.trim(), waiting_on: waitingOn(kind, on.trim()) },
        }),
      ),
    onSuccess: () => {
      setReason("");
      setOn("");
      changed();
    },
  });
  const resolve = useMutation({
    mutationFn: (b: { id: string; version: number }) =>
      ok(
        api.POST("/api/v1/blockers/{blocker_id}/resolve", {
          params: { path: { blocker_id: b.id }, header: { "if-match": etagOf(b.version) } },
          body: { resolution: (resolution[b.id] ?? "").trim() },
        }),
      ),
    onSuccess: changed,
    onError: changed,
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    if (reason.trim() && on.trim()) raise.mutate();
  }
  if (blockers.isPending) return <SkeletonRows rows={2} />;
  if (blockers.isError) return <ErrorState error={blockers.error} retry={() => void blockers.refetch()} />;
  const open = blockers.data.data.filter((b) => b.status === "open");
  const past = resolved.data?.data ?? [];
  return (
    <div className="stack">
      {open.length === 0 && <EmptyState title="Nothing blocks this item">{writable && "Raise a blocker below when the work is stuck."}</EmptyState>}
      {open.length > 0 && (
        <ul className="plain-list" aria-label="Open blockers">
          {open.map((b) => (
            <li key={b.id} className="blocker">
              <div className="row">
                <span className="badge danger">open</span>
                {b.escalated && <span className="badge warning">escalated</span>}
                <strong>{b.reason}</strong>
              </div>
              <div className="muted small">
                Waiting on {waitingText(b.waiting_on)} · raised by {who(b.raised_by)} {relativeTime(b.raised_at)} ·{" "}
                {Math.round(b.age_working_hours)} working hours old
              </div>
              {writable && (
                <form
                  className="row"
                  onSubmit={(e) => {
                    e.preventDefault();
                    resolve.mutate({ id: b.id, version: b.version });
                  }}
                >
                  <label htmlFor={`resolution-${b.id}`} className="visually-hidden">
                    How it was unblocked
                  </label>
                  <input
                    id={`resolution-${b.id}`}
                    placeholder="How it was unblocked (optional)"
                    maxLength={2000}
                    value={resolution[b.id] ?? ""}
                    onChange={(e) => setResolution((r) => ({ ...r, [b.id]: e.target.value }))}
                  />
                  <button type="submit" disabled={resolve.isPending}>
                    Resolve
                  </button>
                </form>
              )}
            </li>
          ))}
        </ul>
      )}
      {writable && (
        <form className="blocker-form" onSubmit={submit} aria-label="Raise a blocker">
          <div className="field wide">
            <label htmlFor="blocker-reason">Raise a blocker: what is stuck?</label>
            <input id="blocker-reason" maxLength={2000} value={reason} onChange={(e) => setReason(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="blocker-kind">Waiting on</label>
            <select id="blocker-kind" value={kind} onChange={(e) => (setKind(e.target.value as WaitingKind), setOn(""))}>
              <option value="person">a person</option>
              <option value="team">a team</option>
              <option value="external">someone outside</option>
              <option value="item">another item</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="blocker-on">{kind === "person" ? "Who" : kind === "item" ? "Item key" : "Name"}</label>
            {kind === "person" ? (
              <select id="blocker-on" value={on} onChange={(e) => setOn(e.target.value)}>
                <option value="">Choose…</option>
                {(members.data ?? []).map((m) => (
                  <option key={m.user.id} value={m.user.username}>
                    {m.user.display_name || m.user.username}
                  </option>
                ))}
              </select>
            ) : (
              <input id="blocker-on" className={kind === "item" ? "mono" : undefined} maxLength={100} value={on} onChange={(e) => setOn(e.target.value)} />
            )}
          </div>
          <button type="submit" className="primary" disabled={!reason.trim() || !on.trim() || raise.isPending}>
            Raise blocker
          </button>
        </form>
      )}
      {past.length > 0 && (
        <details>
          <summary className="small">Resolved ({past.length})</summary>
          <ul className="plain-list">
            {past.map((b) => (
              <li key={b.id} className="small">
                <span className="badge success">resolved</span> {b.reason}{" "}
                <span className="muted">
                  · by {who(b.resolved_by)} {b.resolved_at ? relativeTime(b.resolved_at) : ""}
                  {b.resolution ? ` · ${b.resolution}` : ""}
                </span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

function waitingText(w: Schemas["BlockerRead"]["waiting_on"]): string {
  return w.user?.display_name ?? w.name ?? w.item_key ?? w.kind;
}

function describeChange(field: string, change: unknown[]): string {
  const show = (v: unknown) => {
    if (v === null || v === undefined || v === "") return "nothing";
    if (typeof v === "object") {
      const o = v as Record<string, unknown>;
      return String(o.name ?? o.display_name ?? o.username ?? o.key ?? JSON.stringify(v));
    }
    const text = String(v);
    return text.length > 60 ? `${text.slice(0, 57)}…` : text;
  };
  if (field === "description") return "changed the description";
  if (field === "rank") return "moved it in the backlog";
  return `${field.replace(/_/g, " ")}: ${show(change[0])} → ${show(change[1])}`;
}

function History({ item }: { item: Item }) {
  const history = useQuery({
    queryKey: ["history", item.key],
    queryFn: () => ok(api.GET("/api/v1/items/{item_key}/history", { params: { path: { item_key: item.key }, query: { limit: 100 } } })),
  });
  if (history.isPending) return <SkeletonRows rows={3} />;
  if (history.isError) return <ErrorState error={history.error} retry={() => void history.refetch()} />;
  return (
    <ol className="history">
      {history.data.data
        .slice()
        .reverse()
        .map((e) => (
          <li key={e.id}>
            <div className="small">
              <strong>{e.actor?.username ?? e.imported_actor ?? "Takt"}</strong> <span className="mono muted">{e.type}</span>{" "}
              <time className="muted" dateTime={e.occurred_at} title={formatDateTime(e.occurred_at)}>
                {relativeTime(e.occurred_at)}
              </time>
            </div>
            {e.changes && (
              <ul className="small changes">
                {Object.entries(e.changes).map(([field, change]) => (
                  <li key={field}>{describeChange(field, change)}</li>
                ))}
              </ul>
            )}
          </li>
        ))}
    </ol>
  );
}
