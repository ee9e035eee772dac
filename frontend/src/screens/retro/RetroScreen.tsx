import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { api, ok } from "../../api/client";
import { describeError } from "../../api/problem";
import { useProject } from "../../app/project";
import { canWrite, useMembers } from "../../app/projectData";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { toast } from "../../components/toasts";
import { formatDay } from "../../lib/format";
import { LiveStatus, useLiveReload } from "./live";
import { isRetroEvent, layout, nextPhase, PHASE_HINT, PHASE_LABEL, PHASES, titleFrom, votesOn, type Card, type Group, type Retro } from "./phases";
import "./retro.css";

/** One retro, live, through its phases: cards, groups, votes, action items. */
export default function RetroScreen() {
  const project = useProject();
  const { retroId = "" } = useParams();
  const key = ["retro", project.key, retroId];
  const retro = useQuery({
    queryKey: key,
    queryFn: () => ok(api.GET("/api/v1/retros/{retro_id}", { params: { path: { retro_id: retroId } } })),
  });
  const live = useLiveReload(project.key, (e) => isRetroEvent(e, retroId), [key]);
  if (retro.isPending) return <SkeletonRows />;
  if (retro.isError) return <ErrorState error={retro.error} retry={() => void retro.refetch()} />;
  return <RetroBoard retro={retro.data} projectKey={project.key} writable={canWrite(project.role)} live={<LiveStatus status={live} />} />;
}

function useRetroMutation<T = void, R = unknown>(retro: Retro, projectKey: string, fn: (vars: T) => Promise<R>, handlesError = false) {
  const client = useQueryClient();
  return useMutation({
    meta: { handlesError },
    mutationFn: fn,
    onSettled: () => client.invalidateQueries({ queryKey: ["retro", projectKey, retro.id] }),
  });
}

function RetroBoard({ retro, projectKey, writable, live }: { retro: Retro; projectKey: string; writable: boolean; live: React.ReactNode }) {
  const next = nextPhase(retro.phase);
  const advance = useRetroMutation(retro, projectKey, () =>
    ok(api.POST("/api/v1/retros/{retro_id}/advance", { params: { path: { retro_id: retro.id } }, body: { to: next } })),
  );
  const { evidence, byPrompt } = layout(retro);
  const ranked = retro.phase === "discuss" || retro.phase === "closed";
  return (
    <>
      <PageHeader
        title={retro.title}
        subtitle={
          <>
            <Link to={`/p/${projectKey}/retros`}>Retros</Link>
            {retro.facilitator && <> · facilitated by {retro.facilitator.display_name || retro.facilitator.username}</>}
            {retro.anonymous && " · anonymous"}
          </>
        }
        actions={
          retro.can_facilitate && next ? (
            <button type="button" className="primary" disabled={advance.isPending} onClick={() => advance.mutate()}>
              {next === "closed" ? "Close the retro" : `Move on to ${PHASE_LABEL[next].toLowerCase()}`}
            </button>
          ) : null
        }
      />
      <ol className="phases" aria-label="Phases">
        {PHASES.map((p) => (
          <li key={p} aria-current={p === retro.phase ? "step" : undefined} className={p === retro.phase ? "current" : PHASES.indexOf(p) < PHASES.indexOf(retro.phase) ? "done" : ""}>
            {PHASE_LABEL[p]}
          </li>
        ))}
      </ol>
      <div className="row retro-status">
        <p className="small" data-testid="phase-hint">
          {PHASE_HINT[retro.phase]}
          {retro.phase === "collect" && retro.hidden_cards > 0 && (
            <>
              {" "}
              <strong data-testid="hidden-cards">
                {retro.hidden_cards} {retro.hidden_cards === 1 ? "card" : "cards"} by others, hidden until grouping.
              </strong>
            </>
          )}
        </p>
        <span className="spacer" />
        {live}
      </div>
      {retro.phase === "vote" && <VoteBudget retro={retro} />}
      {retro.previous_actions.length > 0 && (
        <details className="card previous-actions">
          <summary>Action items of the last retro ({retro.previous_actions.filter((a) => a.done).length} of {retro.previous_actions.length} done)</summary>
          <ActionList actions={retro.previous_actions} projectKey={projectKey} />
        </details>
      )}
      {(retro.phase === "collect" || retro.phase === "group") && (
        <>
          {retro.phase === "group" && <Groups retro={retro} projectKey={projectKey} writable={writable} />}
          {evidence.length > 0 && (
            <section aria-labelledby="evidence-title" className="stack evidence">
              <h2 id="evidence-title">From the sprint's data</h2>
              <ul className="cards">
                {evidence.map((c) => (
                  <CardView key={c.id} card={c} retro={retro} projectKey={projectKey} writable={writable} />
                ))}
              </ul>
            </section>
          )}
          <div className="prompts">
            {retro.prompts.map((p) => (
              <section key={p.id} className="prompt card" aria-labelledby={`prompt-${p.id}`} data-prompt={p.id}>
                <h2 id={`prompt-${p.id}`}>{p.text}</h2>
                <ul className="cards">
                  {(byPrompt.get(p.id) ?? []).map((c) => (
                    <CardView key={c.id} card={c} retro={retro} projectKey={projectKey} writable={writable} />
                  ))}
                </ul>
                {retro.phase === "group" && !(byPrompt.get(p.id) ?? []).length && <p className="small muted">Every card here is in a group.</p>}
                {retro.phase === "collect" && writable && <AddCard retro={retro} projectKey={projectKey} promptId={p.id} promptText={p.text} />}
              </section>
            ))}
          </div>
        </>
      )}
      {(retro.phase === "vote" || ranked) && (
        <section aria-labelledby="groups-title" className="stack retro-section">
          <h2 id="groups-title">{ranked ? "In order of votes" : "Groups"}</h2>
          {retro.groups.length === 0 ? (
            <EmptyState title="No cards were written">Nothing to vote on or discuss.</EmptyState>
          ) : (
            <ol className="groups">
              {retro.groups.map((g) => (
                <RankedGroup key={g.id} group={g} retro={retro} projectKey={projectKey} writable={writable} />
              ))}
            </ol>
          )}
        </section>
      )}
      {ranked && (
        <section aria-labelledby="actions-title" className="stack retro-section">
          <h2 id="actions-title">Action items</h2>
          {retro.actions.length === 0 ? (
            <p className="muted small">{retro.phase === "discuss" ? "None yet: add what the team will do, with an owner." : "This retro decided on no action items."}</p>
          ) : (
            <ActionList actions={retro.actions} projectKey={projectKey} />
          )}
          {retro.phase === "discuss" && writable && <NewAction retro={retro} projectKey={projectKey} />}
        </section>
      )}
    </>
  );
}

function VoteBudget({ retro }: { retro: Retro }) {
  return (
    <div className="card vote-budget row" data-testid="vote-budget">
      <strong role="status">
        {retro.votes_left} of {retro.vote_budget} votes left
      </strong>
      <span className="dots" aria-hidden="true">
        {Array.from({ length: retro.vote_budget }, (_, i) => (
          <span key={i} className={i < retro.vote_budget - retro.votes_left ? "dot used" : "dot"} />
        ))}
      </span>
      <span className="spacer" />
      <span className="small muted">
        At most {retro.max_votes_per_group} on one group · {retro.votes_cast ?? 0} cast by the team
      </span>
    </div>
  );
}

function CardView({ card, retro, projectKey, writable }: { card: Card; retro: Retro; projectKey: string; writable: boolean }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(card.text);
  const editable = card.mine && (retro.phase === "collect" || retro.phase === "group");
  const update = useRetroMutation(retro, projectKey, () =>
    ok(api.PATCH("/api/v1/retros/{retro_id}/cards/{card_id}", { params: { path: { retro_id: retro.id, card_id: card.id } }, body: { text } })),
  );
  const remove = useRetroMutation(retro, projectKey, () =>
    ok(api.DELETE("/api/v1/retros/{retro_id}/cards/{card_id}", { params: { path: { retro_id: retro.id, card_id: card.id } } })),
  );
  return (
    <li className={`retro-card${card.kind === "evidence" ? " evidence-card" : ""}${card.mine ? " mine" : ""}`} data-card={card.id}>
      {editing ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            update.mutate(undefined as void, { onSuccess: () => setEditing(false) });
          }}
        >
          <label htmlFor={`edit-${card.id}`} className="visually-hidden">
            Your card
          </label>
          <textarea id={`edit-${card.id}`} required maxLength={2000} value={text} onChange={(e) => setText(e.target.value)} />
          <div className="row">
            <button type="submit" className="primary" disabled={update.isPending}>
              Save
            </button>
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <p className="card-text">{card.text}</p>
      )}
      {card.evidence && <p className="small muted">{card.evidence.source}</p>}
      <div className="row small">
        {card.mine && <span className="badge accent">yours</span>}
        {!retro.anonymous && card.author && <span className="muted">{card.author.display_name || card.author.username}</span>}
        <span className="spacer" />
        {editable && !editing && (
          <>
            <button type="button" className="ghost" onClick={() => setEditing(true)} aria-label={`Edit your card “${titleFrom(card.text)}”`}>
              Edit
            </button>
            <button type="button" className="ghost" disabled={remove.isPending} onClick={() => remove.mutate()} aria-label={`Remove your card “${titleFrom(card.text)}”`}>
              Remove
            </button>
          </>
        )}
        {retro.phase === "group" && writable && !card.group_id && <PutInGroup card={card} retro={retro} projectKey={projectKey} />}
      </div>
    </li>
  );
}

function AddCard({ retro, projectKey, promptId, promptText }: { retro: Retro; projectKey: string; promptId: string; promptText: string }) {
  const [text, setText] = useState("");
  const add = useRetroMutation(
    retro,
    projectKey,
    () => ok(api.POST("/api/v1/retros/{retro_id}/cards", { params: { path: { retro_id: retro.id } }, body: { prompt_id: promptId, text: text.trim() } })),
    true,
  );
  const error = add.error ? describeError(add.error) : null;
  function submit(e: FormEvent) {
    e.preventDefault();
    if (text.trim()) add.mutate(undefined as void, { onSuccess: () => setText("") });
  }
  return (
    <form onSubmit={submit} className="add-card">
      {error && (
        <div className="form-error" role="alert">
          <strong>{error.title}</strong> {error.detail}
        </div>
      )}
      <label htmlFor={`add-${promptId}`} className="visually-hidden">
        A card for “{promptText}”
      </label>
      <textarea
        id={`add-${promptId}`}
        maxLength={2000}
        placeholder="Write a card…"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) submit(e);
        }}
      />
      <button type="submit" disabled={add.isPending || !text.trim()} aria-label={`Add the card to ${promptText}`}>
        Add card
      </button>
    </form>
  );
}

/** The keyboard's (and everyone's) way to group: put a loose card in a group, or make a new one. */
function PutInGroup({ card, retro, projectKey }: { card: Card; retro: Retro; projectKey: string }) {
  const put = useRetroMutation(retro, projectKey, (target: string) =>
    target === "new"
      ? ok(api.POST("/api/v1/retros/{retro_id}/groups", { params: { path: { retro_id: retro.id } }, body: { title: titleFrom(card.text), card_ids: [card.id] } }))
      : ok(
          api.PATCH("/api/v1/retros/{retro_id}/groups/{group_id}", {
            params: { path: { retro_id: retro.id, group_id: target } },
            body: { card_ids: [...(retro.groups.find((g) => g.id === target)?.card_ids ?? []), card.id] },
          }),
        ),
  );
  const [target, setTarget] = useState("");
  const id = `group-of-${card.id}`;
  return (
    <form
      className="row put-in-group"
      onSubmit={(e) => {
        e.preventDefault();
        if (target) put.mutate(target, { onSuccess: () => setTarget("") });
      }}
    >
      <label htmlFor={id} className="visually-hidden">
        Group “{titleFrom(card.text)}” with
      </label>
      <select id={id} value={target} onChange={(e) => setTarget(e.target.value)}>
        <option value="">Group with…</option>
        {retro.groups.map((g) => (
          <option key={g.id} value={g.id}>
            {g.title}
          </option>
        ))}
        <option value="new">A new group</option>
      </select>
      <button type="submit" disabled={!target || put.isPending} aria-label={`Group “${titleFrom(card.text)}”`}>
        Group
      </button>
    </form>
  );
}

function Groups({ retro, projectKey, writable }: { retro: Retro; projectKey: string; writable: boolean }) {
  if (!retro.groups.length)
    return (
      <p className="card small muted">
        No groups yet. Use “Group with…” on a card to start one; cards left alone become groups of their own when voting starts.
      </p>
    );
  return (
    <section aria-labelledby="groups-title" className="stack retro-section">
      <h2 id="groups-title">Groups</h2>
      <ul className="groups group-edit">
        {retro.groups.map((g) => (
          <EditableGroup key={g.id} group={g} retro={retro} projectKey={projectKey} writable={writable} />
        ))}
      </ul>
    </section>
  );
}

function EditableGroup({ group, retro, projectKey, writable }: { group: Group; retro: Retro; projectKey: string; writable: boolean }) {
  const [title, setTitle] = useState(group.title);
  const cards = group.card_ids.map((id) => retro.cards.find((c) => c.id === id)).filter((c): c is Card => !!c);
  const rename = useRetroMutation(retro, projectKey, () =>
    ok(api.PATCH("/api/v1/retros/{retro_id}/groups/{group_id}", { params: { path: { retro_id: retro.id, group_id: group.id } }, body: { title: title.trim() } })),
  );
  const takeOut = useRetroMutation(retro, projectKey, (cardId: string) => {
    const rest = group.card_ids.filter((id) => id !== cardId);
    return rest.length
      ? ok(api.PATCH("/api/v1/retros/{retro_id}/groups/{group_id}", { params: { path: { retro_id: retro.id, group_id: group.id } }, body: { card_ids: rest } }))
      : ok(api.DELETE("/api/v1/retros/{retro_id}/groups/{group_id}", { params: { path: { retro_id: retro.id, group_id: group.id } } }));
  });
  const remove = useRetroMutation(retro, projectKey, () =>
    ok(api.DELETE("/api/v1/retros/{retro_id}/groups/{group_id}", { params: { path: { retro_id: retro.id, group_id: group.id } } })),
  );
  return (
    <li className="card group" data-group={group.id}>
      {writable ? (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (title.trim() && title.trim() !== group.title) rename.mutate();
          }}
        >
          <label htmlFor={`title-${group.id}`} className="visually-hidden">
            Group title
          </label>
          <input id={`title-${group.id}`} className="group-title-input" required maxLength={255} value={title} onChange={(e) => setTitle(e.target.value)} />
          <button type="submit" disabled={rename.isPending || title.trim() === group.title}>
            Rename
          </button>
          <button type="button" className="ghost" onClick={() => remove.mutate()} aria-label={`Ungroup “${group.title}”`}>
            Ungroup
          </button>
        </form>
      ) : (
        <h3>{group.title}</h3>
      )}
      <ul className="group-cards">
        {cards.map((c) => (
          <li key={c.id} className="row">
            <span className="card-text">{c.text}</span>
            <span className="spacer" />
            {writable && (
              <button type="button" className="ghost small" onClick={() => takeOut.mutate(c.id)} aria-label={`Take “${titleFrom(c.text)}” out of the group`}>
                Take out
              </button>
            )}
          </li>
        ))}
      </ul>
    </li>
  );
}

function RankedGroup({ group, retro, projectKey, writable }: { group: Group; retro: Retro; projectKey: string; writable: boolean }) {
  const client = useQueryClient();
  const key = ["retro", projectKey, retro.id];
  const { canAdd, removable } = votesOn(retro, group);
  const cards = group.card_ids.map((id) => retro.cards.find((c) => c.id === id)).filter((c): c is Card => !!c);
  const vote = useMutation({
    mutationFn: () => ok(api.POST("/api/v1/retros/{retro_id}/votes", { params: { path: { retro_id: retro.id } }, body: { group_id: group.id } })),
    onSuccess: (v) => {
      // Show the vote at once; the reload that follows confirms it.
      client.setQueryData<Retro>(key, (r) =>
        r
          ? {
              ...r,
              votes_left: v.votes_left,
              my_votes: [...r.my_votes, { id: v.id, group_id: group.id }],
              groups: r.groups.map((g) => (g.id === group.id ? { ...g, my_votes: v.my_votes_on_group } : g)),
            }
          : r,
      );
    },
    onSettled: () => client.invalidateQueries({ queryKey: key }),
  });
  const unvote = useMutation({
    mutationFn: (voteId: string) => ok(api.DELETE("/api/v1/retros/{retro_id}/votes/{vote_id}", { params: { path: { retro_id: retro.id, vote_id: voteId } } })),
    onSettled: () => client.invalidateQueries({ queryKey: key }),
  });
  const titleId = `group-${group.id}`;
  return (
    <li className="card group" data-group={group.id} aria-labelledby={titleId}>
      <div className="row">
        {group.rank !== null && <span className="rank">#{group.rank}</span>}
        <h3 id={titleId} className="group-title">
          {group.title}
        </h3>
        <span className="spacer" />
        {group.votes !== null && (
          <span className="badge accent" data-testid="group-votes">
            {group.votes} {group.votes === 1 ? "vote" : "votes"}
          </span>
        )}
      </div>
      {cards.length > 1 || (cards.length === 1 && cards[0]!.text !== group.title) ? (
        <ul className="group-cards small">
          {cards.map((c) => (
            <li key={c.id}>{c.text}</li>
          ))}
        </ul>
      ) : null}
      {retro.phase === "vote" && writable && (
        <div className="row">
          <span className="small" data-testid="my-votes">
            Your votes: {group.my_votes}
          </span>
          <span className="spacer" />
          <button type="button" disabled={!removable || unvote.isPending} onClick={() => removable && unvote.mutate(removable)} aria-label={`Take a vote back from “${group.title}”`}>
            −
          </button>
          <button type="button" className="primary" disabled={!canAdd || vote.isPending} onClick={() => vote.mutate()} aria-label={`Vote for “${group.title}”`}>
            + Vote
          </button>
        </div>
      )}
    </li>
  );
}

function ActionList({ actions, projectKey }: { actions: Retro["actions"]; projectKey: string }) {
  return (
    <ul className="actions">
      {actions.map((a) => (
        <li key={a.id} className="row">
          <Link to={`/p/${projectKey}/items/${a.item_key}`} className="mono">
            {a.item_key}
          </Link>
          <span className={a.deleted ? "muted" : undefined}>{a.title}</span>
          <span className="spacer" />
          <span className={`badge${a.done ? " success" : ""}`}>{a.deleted ? "deleted" : a.status.name}</span>
          {a.assignee && <span className="small muted">{a.assignee.display_name || a.assignee.username}</span>}
          {a.due_date && <span className="small muted">due {formatDay(a.due_date)}</span>}
        </li>
      ))}
    </ul>
  );
}

function NewAction({ retro, projectKey }: { retro: Retro; projectKey: string }) {
  const members = useMembers(projectKey);
  const [title, setTitle] = useState("");
  const [owner, setOwner] = useState("");
  const [due, setDue] = useState("");
  const [groupId, setGroupId] = useState("");
  const create = useRetroMutation(
    retro,
    projectKey,
    () =>
      ok(
        api.POST("/api/v1/retros/{retro_id}/actions", {
          params: { path: { retro_id: retro.id } },
          body: { title: title.trim(), owner, due_date: due || null, group_id: groupId || null },
        }),
      ),
    true,
  );
  const error = create.error ? describeError(create.error) : null;
  const writers = (members.data ?? []).filter((m) => m.role !== "viewer");
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate(undefined as void, {
      onSuccess: (action) => {
        toast({ kind: "success", title: `Action item ${action.item_key} created`, detail: "It is a task in the backlog, assigned to its owner." });
        setTitle("");
        setDue("");
      },
    });
  }
  return (
    <form onSubmit={submit} className="card new-action" aria-label="New action item">
      {error && (
        <div className="form-error" role="alert">
          <strong>{error.title}</strong> {error.detail}
        </div>
      )}
      <div className="field">
        <label htmlFor="action-title">Action item</label>
        <input id="action-title" required maxLength={255} value={title} onChange={(e) => setTitle(e.target.value)} />
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor="action-owner">Owner</label>
          <select id="action-owner" required value={owner} onChange={(e) => setOwner(e.target.value)}>
            <option value="">Choose…</option>
            {writers.map((m) => (
              <option key={m.user.id} value={m.user.username}>
                {m.user.display_name || m.user.username}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="action-due">Due</label>
          <input id="action-due" type="date" value={due} onChange={(e) => setDue(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="action-group">From the group</label>
          <select id="action-group" value={groupId} onChange={(e) => setGroupId(e.target.value)}>
            <option value="">None</option>
            {retro.groups.map((g) => (
              <option key={g.id} value={g.id}>
                {g.title}
              </option>
            ))}
          </select>
        </div>
      </div>
      <button type="submit" className="primary" disabled={create.isPending}>
        Create action item
      </button>
    </form>
  );
}
