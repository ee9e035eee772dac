import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent, type ReactNode } from "react";
import { api, ok, type Schemas } from "../../api/client";
import { describeError } from "../../api/problem";
import { useProject } from "../../app/project";
import { canWrite } from "../../app/projectData";
import { EmptyState, ErrorState, SkeletonRows } from "../../components/States";
import { toast } from "../../components/toasts";
import { isColor, LABEL_COLORS, textOn } from "./logic";

type Label = Schemas["LabelRead"];

export function LabelChip({ label }: { label: Pick<Label, "name" | "color"> }) {
  return (
    <span className="label-chip" style={{ background: label.color, color: textOn(label.color) }}>
      {label.name}
    </span>
  );
}

/** The project's labels: members create, rename, recolour and delete them. */
export default function Labels({ admin }: { admin: boolean }) {
  const project = useProject();
  const client = useQueryClient();
  const writable = admin || canWrite(project.role);
  const labels = useQuery({
    queryKey: ["labels", project.key],
    queryFn: () => ok(api.GET("/api/v1/projects/{project_key}/labels", { params: { path: { project_key: project.key } } })),
    select: (list) => list.data,
  });
  const invalidate = () => {
    void client.invalidateQueries({ queryKey: ["labels", project.key] });
    void client.invalidateQueries({ queryKey: ["items", project.key] });
  };
  const remove = useMutation({
    mutationFn: (label: Label) =>
      ok(api.DELETE("/api/v1/projects/{project_key}/labels/{label_id}", { params: { path: { project_key: project.key, label_id: label.id } } })),
    onSuccess: () => toast({ kind: "success", title: "Label deleted" }),
    onSettled: invalidate,
  });
  return (
    <section aria-labelledby="labels-heading" className="settings-section">
      <h2 id="labels-heading">Labels</h2>
      {writable && <LabelForm projectKey={project.key} onDone={invalidate} />}
      {labels.isPending ? (
        <SkeletonRows rows={4} />
      ) : labels.isError ? (
        <ErrorState error={labels.error} retry={() => void labels.refetch()} />
      ) : labels.data.length === 0 ? (
        <EmptyState title="No labels yet">
          {writable ? "Create one above, then add it to items from the item page or the backlog's bulk edit." : "Members of the project can create labels."}
        </EmptyState>
      ) : (
        <ul className="settings-list" data-testid="labels">
          {labels.data.map((label) => (
            <li key={`${label.id}-${label.name}-${label.color}`} className="settings-row">
              {writable ? (
                <LabelForm projectKey={project.key} label={label} onDone={invalidate}>
                  <button
                    type="button"
                    className="danger"
                    aria-label={`Delete label ${label.name}`}
                    disabled={remove.isPending}
                    onClick={() => {
                      if (window.confirm(`Delete the label “${label.name}”? Items lose it.`)) remove.mutate(label);
                    }}
                  >
                    Delete
                  </button>
                </LabelForm>
              ) : (
                <LabelChip label={label} />
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Create a label, or rename and recolour one. */
function LabelForm({ projectKey, label, onDone, children }: { projectKey: string; label?: Label; onDone: () => void; children?: ReactNode }) {
  const [name, setName] = useState(label?.name ?? "");
  const [color, setColor] = useState(label?.color ?? LABEL_COLORS[0]!);
  const save = useMutation({
    meta: { handlesError: true },
    mutationFn: () => {
      const body = { name: name.trim(), color: color.toLowerCase() };
      return label
        ? ok(api.PATCH("/api/v1/projects/{project_key}/labels/{label_id}", { params: { path: { project_key: projectKey, label_id: label.id } }, body }))
        : ok(api.POST("/api/v1/projects/{project_key}/labels", { params: { path: { project_key: projectKey } }, body }));
    },
    onSuccess: (saved) => {
      toast({ kind: "success", title: label ? "Label saved" : "Label created", detail: saved.name });
      if (!label) setName("");
      onDone();
    },
  });
  const error = save.error ? describeError(save.error) : null;
  const id = label?.id ?? "new";
  const dirty = !label || name.trim() !== label.name || color.toLowerCase() !== label.color.toLowerCase();
  function submit(e: FormEvent) {
    e.preventDefault();
    if (isColor(color) && name.trim()) save.mutate();
  }
  return (
    <form className={label ? "label-form grow" : "card settings-add label-form"} onSubmit={submit} aria-label={label ? `Label ${label.name}` : "Create a label"}>
      {!label && <h3>Create a label</h3>}
      {error && (
        <div className="form-error full" role="alert">
          <strong>{error.title}</strong> {error.detail}
        </div>
      )}
      <div className="row align-end">
        <LabelChip label={{ name: name.trim() || "Label", color }} />
        <div className="field grow">
          <label htmlFor={`label-name-${id}`}>{label ? "Name" : "Label name"}</label>
          <input id={`label-name-${id}`} required maxLength={50} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`label-color-${id}`}>Colour</label>
          <input id={`label-color-${id}`} type="color" list="label-colors" value={color} onChange={(e) => setColor(e.target.value)} />
        </div>
        <div className="field">
          <button type="submit" className={label ? undefined : "primary"} disabled={!dirty || save.isPending}>
            {label ? "Save" : "Create label"}
          </button>
        </div>
        {children && <div className="field">{children}</div>}
      </div>
      {!label && (
        <datalist id="label-colors">
          {LABEL_COLORS.map((c) => (
            <option key={c} value={c} />
          ))}
        </datalist>
      )}
    </form>
  );
}
