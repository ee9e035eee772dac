import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, ok, type Schemas } from "../../api/client";
import { describeError } from "../../api/problem";
import { useProject } from "../../app/project";
import { useStatuses } from "../../app/projectData";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { toast } from "../../components/toasts";
import { CATEGORIES, categoryLabel, movedPosition, parseWipLimit, type Status, type StatusCategory } from "./logic";

/** The workflow: statuses in board order, with category and WIP limit; admins change them. */
export default function Workflow({ admin }: { admin: boolean }) {
  const project = useProject();
  const client = useQueryClient();
  const statuses = useStatuses(project.key);
  const invalidate = () => {
    void client.invalidateQueries({ queryKey: ["statuses", project.key] });
    void client.invalidateQueries({ queryKey: ["board", project.key] });
  };
  const move = useMutation({
    mutationFn: ({ status, position }: { status: Status; position: number }) =>
      ok(
        api.PATCH("/api/v1/projects/{project_key}/statuses/{status_id}", {
          params: { path: { project_key: project.key, status_id: status.id } },
          body: { position },
        }),
      ),
    onSettled: invalidate,
  });
  const remove = useMutation({
    mutationFn: ({ status, moveTo }: { status: Status; moveTo: string | undefined }) =>
      ok(
        api.DELETE("/api/v1/projects/{project_key}/statuses/{status_id}", {
          params: { path: { project_key: project.key, status_id: status.id }, query: moveTo ? { move_to: moveTo } : {} },
        }),
      ),
    onSuccess: () => toast({ kind: "success", title: "Status removed" }),
    onSettled: invalidate,
  });

  if (statuses.isPending) return <SkeletonRows rows={6} />;
  if (statuses.isError) return <ErrorState error={statuses.error} retry={() => void statuses.refetch()} />;
  const list = statuses.data;
  return (
    <section aria-labelledby="workflow-heading" className="settings-section">
      <h2 id="workflow-heading">Workflow</h2>
      <p className="small muted">
        The statuses in board order. The category says what a status means for reports (in progress, done…); a WIP limit marks
        the board's column when more items are in it.
      </p>
      {list.length === 0 ? (
        <EmptyState title="No statuses">{admin ? "Add the first status below." : "Ask an admin to set up the workflow."}</EmptyState>
      ) : (
        <ol className="settings-list" data-testid="workflow">
          {list.map((status, index) => (
            <li key={`${status.id}-${status.name}-${status.category}-${status.wip_limit}`} className="settings-row workflow-row">
              <span className="badge" aria-hidden="true">
                {index + 1}
              </span>
              {admin ? (
                <StatusForm projectKey={project.key} status={status} onSaved={invalidate} />
              ) : (
                <div className="grow">
                  <strong>{status.name}</strong> <span className="muted small">{categoryLabel(status.category)}</span>
                </div>
              )}
              {!admin && <span className="small">{status.wip_limit ? `WIP limit ${status.wip_limit}` : "No WIP limit"}</span>}
              {admin && (
                <div className="row">
                  {([-1, 1] as const).map((delta) => {
                    const position = movedPosition(list, index, delta);
                    return (
                      <button
                        key={delta}
                        type="button"
                        className="ghost"
                        aria-label={`Move ${status.name} ${delta < 0 ? "up" : "down"}`}
                        disabled={position === null || move.isPending}
                        onClick={() => position !== null && move.mutate({ status, position })}
                      >
                        {delta < 0 ? "↑" : "↓"}
                      </button>
                    );
                  })}
                  <DeleteStatus status={status} others={list.filter((s) => s.id !== status.id)} onDelete={(moveTo) => remove.mutate({ status, moveTo })} />
                </div>
              )}
            </li>
          ))}
        </ol>
      )}
      {admin && <AddStatus projectKey={project.key} onAdded={invalidate} />}
    </section>
  );
}

function StatusForm({ projectKey, status, onSaved }: { projectKey: string; status: Status; onSaved: () => void }) {
  const [name, setName] = useState(status.name);
  const [category, setCategory] = useState<StatusCategory>(status.category);
  const [wip, setWip] = useState(status.wip_limit ? String(status.wip_limit) : "");
  const [problem, setProblem] = useState<string | null>(null);
  const save = useMutation({
    meta: { handlesError: true },
    mutationFn: (body: Schemas["StatusUpdate"]) =>
      ok(api.PATCH("/api/v1/projects/{project_key}/statuses/{status_id}", { params: { path: { project_key: projectKey, status_id: status.id } }, body })),
    onSuccess: (saved) => {
      toast({ kind: "success", title: `${saved.name} saved`, detail: saved.wip_limit ? `WIP limit ${saved.wip_limit}` : "No WIP limit" });
      onSaved();
    },
  });
  const dirty = name.trim() !== status.name || category !== status.category || wip.trim() !== (status.wip_limit ? String(status.wip_limit) : "");
  function submit(e: FormEvent) {
    e.preventDefault();
    setProblem(null);
    const parsed = parseWipLimit(wip);
    if ("error" in parsed) return setProblem(parsed.error);
    const body: Schemas["StatusUpdate"] = {};
    if (name.trim() !== status.name) body.name = name.trim();
    if (category !== status.category) body.category = category;
    if (parsed.limit !== status.wip_limit) body.wip_limit = parsed.limit ?? 0; // 0 removes the limit
    save.mutate(body);
  }
  const error = problem ?? (save.error ? Object.values(describeError(save.error)).filter(Boolean).join(": ") : null);
  const id = status.id;
  return (
    <form className="status-form grow" onSubmit={submit} aria-label={`Status ${status.name}`}>
      <div className="field">
        <label htmlFor={`st-name-${id}`}>Name</label>
        <input id={`st-name-${id}`} required maxLength={50} value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`st-cat-${id}`}>Category</label>
        <select id={`st-cat-${id}`} value={category} onChange={(e) => setCategory(e.target.value as StatusCategory)}>
          {CATEGORIES.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </select>
      </div>
      <div className="field wip">
        <label htmlFor={`st-wip-${id}`}>WIP limit</label>
        <input
          id={`st-wip-${id}`}
          inputMode="numeric"
          placeholder="none"
          aria-describedby={error ? `st-err-${id}` : undefined}
          aria-invalid={error ? true : undefined}
          value={wip}
          onChange={(e) => setWip(e.target.value)}
        />
      </div>
      <div className="field">
        <button type="submit" disabled={!dirty || save.isPending}>
          Save
        </button>
      </div>
      {error && (
        <p id={`st-err-${id}`} className="form-error full" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function DeleteStatus({ status, others, onDelete }: { status: Status; others: Status[]; onDelete: (moveTo: string | undefined) => void }) {
  const [open, setOpen] = useState(false);
  const [moveTo, setMoveTo] = useState("");
  if (!open)
    return (
      <button type="button" className="danger" aria-label={`Delete ${status.name}`} onClick={() => setOpen(true)}>
        Delete
      </button>
    );
  return (
    <div className="row delete-status">
      <label htmlFor={`move-${status.id}`} className="small">
        Move its items to
      </label>
      <select id={`move-${status.id}`} value={moveTo} onChange={(e) => setMoveTo(e.target.value)}>
        <option value="">(it has none)</option>
        {others.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </select>
      <button type="button" className="danger" onClick={() => onDelete(moveTo || undefined)}>
        Delete {status.name}
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
    </div>
  );
}

function AddStatus({ projectKey, onAdded }: { projectKey: string; onAdded: () => void }) {
  const [name, setName] = useState("");
  const [category, setCategory] = useState<StatusCategory>("in_progress");
  const [wip, setWip] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const add = useMutation({
    meta: { handlesError: true },
    mutationFn: (body: Schemas["StatusCreate"]) => ok(api.POST("/api/v1/projects/{project_key}/statuses", { params: { path: { project_key: projectKey } }, body })),
    onSuccess: (s) => {
      toast({ kind: "success", title: "Status added", detail: `${s.name} is the last column.` });
      setName("");
      setWip("");
      onAdded();
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    setProblem(null);
    const parsed = parseWipLimit(wip);
    if ("error" in parsed) return setProblem(parsed.error);
    add.mutate({ name: name.trim(), category, wip_limit: parsed.limit });
  }
  const error = problem ? { title: problem, detail: undefined } : add.error ? describeError(add.error) : null;
  return (
    <form className="card settings-add" onSubmit={submit} aria-label="Add a status">
      <h3>Add a status</h3>
      {error && (
        <div className="form-error" role="alert">
          <strong>{error.title}</strong> {error.detail}
        </div>
      )}
      <div className="row align-end">
        <div className="field grow">
          <label htmlFor="new-status-name">Name</label>
          <input id="new-status-name" required maxLength={50} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="new-status-category">Category</label>
          <select id="new-status-category" value={category} onChange={(e) => setCategory(e.target.value as StatusCategory)}>
            {CATEGORIES.map((c) => (
              <option key={c.id} value={c.id}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field wip">
          <label htmlFor="new-status-wip">WIP limit</label>
          <input id="new-status-wip" inputMode="numeric" placeholder="none" value={wip} onChange={(e) => setWip(e.target.value)} />
        </div>
        <div className="field">
          <button type="submit" className="primary" disabled={add.isPending}>
            Add status
          </button>
        </div>
      </div>
    </form>
  );
}
