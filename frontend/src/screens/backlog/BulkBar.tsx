import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, ok, type Schemas } from "../../api/client";
import type { Project } from "../../app/project";
import { useMembers, useStatuses } from "../../app/projectData";
import { toast } from "../../components/toasts";
import { FIBONACCI, pointsLabel, PRIORITIES, TSHIRT } from "../../lib/format";
import { openSprints, useLabels, useSprints } from "../item/fieldData";
import { buildBulkUpdates, bulkOutcome, isEmptyChange, type BulkChange, type BulkOutcome, type Selected } from "./bulk";

const KEEP = "";
const NONE = "__none";

/** Chooses a value for every selected item, or keeps each item's own (the default). */
function Choice({
  id,
  label,
  value,
  onChange,
  none,
  options,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  none?: string;
  options: { value: string; label: string }[];
}) {
  return (
    <div className="field bulk-field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value={KEEP}>Keep</option>
        {none && <option value={NONE}>{none}</option>}
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

function nullable(value: string): string | null | undefined {
  return value === KEEP ? undefined : value === NONE ? null : value;
}

/** Bulk edit of the selected backlog items in one request (`POST /projects/{key}/items/bulk`),
 * each item answered on its own: `onDone` gets which were updated and which refused, why. */
export function BulkBar({
  project,
  selected,
  onStart,
  onDone,
  onClear,
}: {
  project: Project;
  selected: Selected[];
  onStart: () => void;
  onDone: (outcome: BulkOutcome) => void;
  onClear: () => void;
}) {
  const client = useQueryClient();
  const statuses = useStatuses(project.key);
  const members = useMembers(project.key);
  const sprints = useSprints(project.key);
  const labels = useLabels(project.key);
  const [form, setForm] = useState({ status: KEEP, priority: KEEP, assignee: KEEP, sprint: KEEP, estimate: KEEP, addLabel: KEEP, removeLabel: KEEP });
  const set = (field: keyof typeof form) => (v: string) => setForm((f) => ({ ...f, [field]: v }));
  const scale = project.settings.estimate_scale === "tshirt" ? TSHIRT : FIBONACCI;

  const change: BulkChange = {
    status: form.status || undefined,
    priority: (form.priority || undefined) as Schemas["Priority"] | undefined,
    assignee: nullable(form.assignee),
    sprint_id: nullable(form.sprint),
    estimate: form.estimate === KEEP ? undefined : form.estimate === NONE ? null : Number(form.estimate),
    addLabel: form.addLabel || undefined,
    removeLabel: form.removeLabel || undefined,
  };

  const apply = useMutation({
    mutationFn: async () => {
      const updates = buildBulkUpdates(selected, change);
      if (updates.length === 0) return null;
      return ok(
        api.POST("/api/v1/projects/{project_key}/items/bulk", {
          params: { path: { project_key: project.key } },
          body: { updates, atomic: false },
        }),
      );
    },
    onSuccess: (answer) => {
      if (!answer) {
        toast({ kind: "info", title: "Nothing to change", detail: "The selected items already have these values." });
        return;
      }
      const result = bulkOutcome(answer.results);
      if (result.updated.length)
        toast({ kind: "success", title: `Updated ${result.updated.length} item${result.updated.length === 1 ? "" : "s"}`, detail: result.updated.join(", ") });
      void client.invalidateQueries({ queryKey: ["items", project.key] });
      void client.invalidateQueries({ queryKey: ["board", project.key] });
      for (const key of result.updated) void client.invalidateQueries({ queryKey: ["item", key] });
      onDone(result);
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    onStart();
    apply.mutate();
  }

  const n = selected.length;
  return (
    <form className="bulk-bar card" aria-label="Bulk edit" onSubmit={submit}>
      <div className="row">
        <strong aria-live="polite">
          {n} selected
        </strong>
        <span className="muted small">Choose what to change on all of them; “Keep” leaves each item’s own value.</span>
        <span className="spacer" />
        <button type="button" className="ghost" onClick={onClear}>
          Clear selection
        </button>
      </div>
      <div className="bulk-fields">
        <Choice id="bulk-status" label="Status" value={form.status} onChange={set("status")} options={(statuses.data ?? []).map((s) => ({ value: s.id, label: s.name }))} />
        <Choice id="bulk-priority" label="Priority" value={form.priority} onChange={set("priority")} options={PRIORITIES.map((p) => ({ value: p, label: p }))} />
        <Choice
          id="bulk-assignee"
          label="Assignee"
          value={form.assignee}
          onChange={set("assignee")}
          none="Unassigned"
          options={(members.data ?? []).map((m) => ({ value: m.user.username, label: m.user.display_name || m.user.username }))}
        />
        <Choice
          id="bulk-sprint"
          label="Sprint"
          value={form.sprint}
          onChange={set("sprint")}
          none="No sprint (backlog)"
          options={openSprints(sprints.data ?? []).map((s) => ({ value: s.id, label: `${s.name}${s.state === "active" ? " (active)" : ""}` }))}
        />
        <Choice
          id="bulk-estimate"
          label="Estimate"
          value={form.estimate}
          onChange={set("estimate")}
          none="Not estimated"
          options={scale.map((v) => ({ value: String(v), label: pointsLabel(v) }))}
        />
        <Choice id="bulk-add-label" label="Add label" value={form.addLabel} onChange={set("addLabel")} options={(labels.data ?? []).map((l) => ({ value: l.name, label: l.name }))} />
        <Choice id="bulk-remove-label" label="Remove label" value={form.removeLabel} onChange={set("removeLabel")} options={(labels.data ?? []).map((l) => ({ value: l.name, label: l.name }))} />
      </div>
      <div className="row">
        <span className="spacer" />
        <button type="submit" className="primary" disabled={isEmptyChange(change) || apply.isPending}>
          {apply.isPending ? "Applying…" : `Apply to ${n} item${n === 1 ? "" : "s"}`}
        </button>
      </div>
    </form>
  );
}

/** The items a bulk edit refused, each with the reason; stays until dismissed or the next edit. */
export function BulkFailures({ outcome, onDismiss }: { outcome: BulkOutcome; onDismiss: () => void }) {
  return (
    <div role="alert" className="bulk-failures card">
      <div className="row">
        <strong>
          {outcome.failed.length} of {outcome.failed.length + outcome.updated.length} not updated
        </strong>
        <span className="spacer" />
        <button type="button" className="ghost small" onClick={onDismiss}>
          Dismiss
        </button>
      </div>
      <ul>
        {outcome.failed.map((f) => (
          <li key={f.key}>
            <span className="mono">{f.key}</span>: {f.detail} <span className="muted small">({f.code})</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
