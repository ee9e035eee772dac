import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, etagOf, ok, type Schemas } from "../../api/client";
import { ApiError } from "../../api/problem";
import { useProject } from "../../app/project";
import { canWrite, useMembers, useStatuses } from "../../app/projectData";
import { Estimate, PriorityBadge, StatusBadge, TypeIcon } from "../../components/ItemBits";
import { Markdown } from "../../components/Markdown";
import { ErrorState, Loading } from "../../components/States";
import { toast, toastError } from "../../components/toasts";
import { FIBONACCI, formatDateTime, ITEM_TYPES, missingLabel, pointsLabel, PRIORITIES, relativeTime, TSHIRT } from "../../lib/format";
import { Activity } from "./Activity";
import { DueField, LabelsField, ParentField, ReadinessChecklist, SprintField } from "./FieldEditors";
import { Promotion } from "./Promotion";
import "./item.css";

export type Item = Schemas["ItemRead"];
export type ItemUpdate = Schemas["ItemUpdate"];

export function itemKeyOf(key: string) {
  return ["item", key] as const;
}

export default function ItemScreen() {
  const { itemKey = "" } = useParams();
  const project = useProject();
  const item = useQuery({
    queryKey: itemKeyOf(itemKey),
    queryFn: () => ok(api.GET("/api/v1/items/{item_key}", { params: { path: { item_key: itemKey } } })),
  });
  if (item.isPending) return <Loading />;
  if (item.isError) return <ErrorState error={item.error} retry={() => void item.refetch()} />;
  return <ItemView item={item.data} project={project} />;
}

/** PATCH with If-Match of the version shown; a 412 reloads the item and says so. One item's
 * edits run one after another (a mutation scope), each with the version the one before left in
 * the cache, so quick edits in a row don't refuse each other. */
export function useItemUpdate(item: Item) {
  const client = useQueryClient();
  return useMutation({
    meta: { handlesError: true },
    scope: { id: `item-update:${item.key}` },
    mutationFn: (body: ItemUpdate) => {
      const version = client.getQueryData<Item>(itemKeyOf(item.key))?.version ?? item.version;
      return ok(
        api.PATCH("/api/v1/items/{item_key}", {
          params: { path: { item_key: item.key }, header: { "if-match": etagOf(version) } },
          body,
        }),
      );
    },
    onSuccess: (updated) => {
      client.setQueryData(itemKeyOf(item.key), updated);
      void client.invalidateQueries({ queryKey: ["items", item.project_key] });
      void client.invalidateQueries({ queryKey: ["history", item.key] });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 412) {
        toast({
          kind: "error",
          title: `${item.key} was changed by someone else`,
          detail: "It has been reloaded with their change; make yours again if it still applies.",
        });
        void client.invalidateQueries({ queryKey: itemKeyOf(item.key) });
      } else {
        toastError(error);
      }
    },
  });
}

function ItemView({ item, project }: { item: Item; project: ReturnType<typeof useProject> }) {
  const writable = canWrite(project.role);
  const update = useItemUpdate(item);
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(item.title);
  const [description, setDescription] = useState(item.description);

  function startEdit() {
    setTitle(item.title);
    setDescription(item.description);
    setEditing(true);
  }
  function save() {
    update.mutate({ title: title.trim(), description }, { onSuccess: () => setEditing(false) });
  }

  return (
    <article className="item-page">
      <nav aria-label="Breadcrumb" className="small muted breadcrumb">
        <Link to={`/p/${project.key}/backlog`}>{project.key} backlog</Link> / <span>{item.key}</span>
      </nav>
      <div className="item-layout">
        <header className="item-header">
          <div className="row">
            <TypeIcon type={item.type} />
            <span className="mono muted">{item.key}</span>
            <StatusBadge status={item.status} />
            <PriorityBadge priority={item.priority} />
            {item.blocked && <span className="badge danger">blocked</span>}
            {item.ready ? <span className="badge success">ready</span> : <span className="badge warning">not ready</span>}
          </div>
          {editing ? (
            <div className="field">
              <label htmlFor="item-title">Title</label>
              <input id="item-title" value={title} maxLength={255} onChange={(e) => setTitle(e.target.value)} />
            </div>
          ) : (
            <h1>{item.title}</h1>
          )}
        </header>
        <div className="item-main stack">
          <section aria-labelledby="description-heading" className="card">
            <div className="row">
              <h2 id="description-heading">Description</h2>
              <span className="spacer" />
              {writable && !editing && (
                <button type="button" onClick={startEdit}>
                  Edit
                </button>
              )}
            </div>
            {editing ? (
              <>
                <label htmlFor="item-description" className="visually-hidden">
                  Description (Markdown)
                </label>
                <textarea
                  id="item-description"
                  rows={10}
                  maxLength={65536}
                  value={description}
                  onChange={(e) => setDescription(e.target.value)}
                />
                <div className="row" style={{ marginTop: "var(--space-2)" }}>
                  <span className="muted small">Markdown; @username mentions someone.</span>
                  <span className="spacer" />
                  <button type="button" onClick={() => setEditing(false)}>
                    Cancel
                  </button>
                  <button type="button" className="primary" onClick={save} disabled={update.isPending}>
                    Save
                  </button>
                </div>
              </>
            ) : item.description ? (
              <Markdown source={item.description} />
            ) : (
              <p className="muted">No description yet.{writable && " Describe what done looks like."}</p>
            )}
          </section>
          <Promotion item={item} />
          <Activity item={item} writable={writable} />
        </div>
        <aside className="item-side card" aria-label="Fields">
          <Fields item={item} project={project} writable={writable} onChange={(body) => update.mutate(body)} busy={update.isPending} />
          <ReadinessChecklist item={item} entries={project.settings.definition_of_ready ?? []} disabled={!writable} />
        </aside>
      </div>
    </article>
  );
}

function Fields({
  item,
  project,
  writable,
  onChange,
  busy,
}: {
  item: Item;
  project: ReturnType<typeof useProject>;
  writable: boolean;
  onChange: (body: ItemUpdate) => void;
  busy: boolean;
}) {
  const statuses = useStatuses(project.key);
  const members = useMembers(project.key);
  const scale = project.settings.estimate_scale === "tshirt" ? TSHIRT : FIBONACCI;
  const disabled = !writable || busy;
  return (
    <dl className="fields">
      <dt>
        <label htmlFor="f-status">Status</label>
      </dt>
      <dd>
        <select id="f-status" value={item.status.id} disabled={disabled} onChange={(e) => onChange({ status: e.target.value })}>
          {(statuses.data ?? [item.status]).map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </dd>
      <dt>
        <label htmlFor="f-priority">Priority</label>
      </dt>
      <dd>
        <select
          id="f-priority"
          value={item.priority}
          disabled={disabled}
          onChange={(e) => onChange({ priority: e.target.value as Item["priority"] })}
        >
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </dd>
      <dt>
        <label htmlFor="f-assignee">Assignee</label>
      </dt>
      <dd>
        <select
          id="f-assignee"
          value={item.assignee?.username ?? ""}
          disabled={disabled}
          onChange={(e) => onChange({ assignee: e.target.value || null })}
        >
          <option value="">Unassigned</option>
          {(members.data ?? []).map((m) => (
            <option key={m.user.id} value={m.user.username}>
              {m.user.display_name || m.user.username}
            </option>
          ))}
          {item.assignee && !members.data?.some((m) => m.user.id === item.assignee!.id) && (
            <option value={item.assignee.username}>{item.assignee.display_name}</option>
          )}
        </select>
      </dd>
      <dt>
        <label htmlFor="f-estimate">Estimate</label>
      </dt>
      <dd>
        <select
          id="f-estimate"
          value={item.estimate === null ? "" : String(item.estimate)}
          disabled={disabled}
          onChange={(e) => onChange({ estimate: e.target.value === "" ? null : Number(e.target.value) })}
        >
          <option value="">Not estimated</option>
          {scale.map((v) => (
            <option key={v} value={String(v)}>
              {pointsLabel(v)}
            </option>
          ))}
        </select>
      </dd>
      <dt>
        <label htmlFor="f-type">Type</label>
      </dt>
      <dd>
        <select id="f-type" className="cap" value={item.type} disabled={disabled} onChange={(e) => onChange({ type: e.target.value as Item["type"] })}>
          {ITEM_TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </dd>
      <dt>
        <label htmlFor="f-labels">Labels</label>
      </dt>
      <dd>
        <LabelsField item={item} disabled={!writable} onChange={onChange} />
      </dd>
      <dt>
        <label htmlFor="f-parent">Parent</label>
      </dt>
      <dd>
        <ParentField item={item} disabled={!writable} onChange={onChange} />
      </dd>
      <dt>
        <label htmlFor="f-sprint">Sprint</label>
      </dt>
      <dd>
        <SprintField item={item} disabled={disabled} onChange={onChange} />
      </dd>
      <dt>
        <label htmlFor="f-due">Due</label>
      </dt>
      <dd>
        <DueField item={item} disabled={!writable} onChange={onChange} />
      </dd>
      <dt>Reporter</dt>
      <dd>{item.reporter?.display_name ?? item.reporter?.username ?? "–"}</dd>
      <dt>Points</dt>
      <dd>
        <Estimate value={item.estimate} />
      </dd>
      <dt>Created</dt>
      <dd title={formatDateTime(item.created_at)}>{relativeTime(item.created_at)}</dd>
      <dt>Updated</dt>
      <dd title={formatDateTime(item.updated_at)}>{relativeTime(item.updated_at)}</dd>
      {item.started_at && (
        <>
          <dt>Started</dt>
          <dd>{formatDateTime(item.started_at)}</dd>
        </>
      )}
      {item.finished_at && (
        <>
          <dt>Finished</dt>
          <dd>{formatDateTime(item.finished_at)}</dd>
        </>
      )}
      {!item.ready && (
        <>
          <dt>Needs</dt>
          <dd>
            {item.missing.map((m) => missingLabel(m, project.settings.definition_of_ready ?? [])).join("; ")}
          </dd>
        </>
      )}
    </dl>
  );
}
