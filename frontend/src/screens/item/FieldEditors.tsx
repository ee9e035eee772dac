/** Editors for the item's fields that are more than one select: labels, parent, sprint, due
 * date and the Definition of Ready checklist. Each sends only its own field. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, etagOf, ok } from "../../api/client";
import { openSprints, useLabels, useSprints } from "./fieldData";
import type { Item, ItemUpdate } from "./ItemScreen";

type OnChange = (body: ItemUpdate) => void;

export function LabelsField({ item, disabled, onChange }: { item: Item; disabled: boolean; onChange: OnChange }) {
  const labels = useLabels(item.project_key);
  const available = (labels.data ?? []).filter((l) => !item.labels.includes(l.name));
  return (
    <div className="labels-field">
      {item.labels.length === 0 && <span className="muted">None</span>}
      {item.labels.map((l) => (
        <span key={l} className="badge label-chip">
          {l}
          {!disabled && (
            <button type="button" className="ghost chip-remove" aria-label={`Remove label ${l}`} onClick={() => onChange({ labels: item.labels.filter((x) => x !== l) })}>
              ×
            </button>
          )}
        </span>
      ))}
      {!disabled && available.length > 0 && (
        <select
          id="f-labels"
          aria-label="Add a label"
          value=""
          onChange={(e) => e.target.value && onChange({ labels: [...item.labels, e.target.value].sort() })}
        >
          <option value="">Add a label…</option>
          {available.map((l) => (
            <option key={l.id} value={l.name}>
              {l.name}
            </option>
          ))}
        </select>
      )}
    </div>
  );
}

export function SprintField({ item, disabled, onChange }: { item: Item; disabled: boolean; onChange: OnChange }) {
  const sprints = useSprints(item.project_key);
  const all = sprints.data ?? [];
  // The item names its sprint itself; the list only says whether that one is still open.
  const sprint = item.sprint;
  const state = sprint ? all.find((s) => s.id === sprint.id)?.state : undefined;
  const choices = openSprints(all);
  return (
    <div className="stack-tight">
      <select id="f-sprint" value={item.sprint_id ?? ""} disabled={disabled} onChange={(e) => onChange({ sprint_id: e.target.value || null })}>
        <option value="">No sprint (backlog)</option>
        {choices.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
            {s.state === "active" ? " (active)" : ""}
          </option>
        ))}
        {sprint && !choices.some((s) => s.id === sprint.id) && (
          <option value={sprint.id}>{state ? `${sprint.name} (${state})` : sprint.name}</option>
        )}
      </select>
      {sprint && (
        <Link className="small" to={`/p/${item.project_key}/sprints/${sprint.id}`}>
          Open {sprint.name}
        </Link>
      )}
    </div>
  );
}

export function ParentField({ item, disabled, onChange }: { item: Item; disabled: boolean; onChange: OnChange }) {
  const [text, setText] = useState(item.parent_key ?? "");
  useEffect(() => setText(item.parent_key ?? ""), [item.parent_key]);
  function submit(e: FormEvent) {
    e.preventDefault();
    const key = text.trim().toUpperCase();
    if (key !== (item.parent_key ?? "")) onChange({ parent_key: key || null });
  }
  if (disabled)
    return item.parent_key ? <Link to={`/p/${item.project_key}/items/${item.parent_key}`}>{item.parent_key}</Link> : <span className="muted">None</span>;
  return (
    <form className="inline-edit" onSubmit={submit}>
      <input
        id="f-parent"
        className="mono"
        placeholder={`${item.project_key}-1`}
        maxLength={20}
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      <button type="submit" disabled={text.trim().toUpperCase() === (item.parent_key ?? "")}>
        Set
      </button>
      {item.parent_key && (
        <Link className="small" to={`/p/${item.project_key}/items/${item.parent_key}`}>
          Open {item.parent_key}
        </Link>
      )}
    </form>
  );
}

/** A date input that sends its value when left or on Enter (not on every keystroke: a date
 * typed digit by digit passes through years like 0002). */
export function DueField({ item, disabled, onChange }: { item: Item; disabled: boolean; onChange: OnChange }) {
  const [value, setValue] = useState(item.due_date ?? "");
  useEffect(() => setValue(item.due_date ?? ""), [item.due_date]);
  function commit() {
    if (value !== (item.due_date ?? "")) onChange({ due_date: value || null });
  }
  return (
    <div className="inline-edit">
      <input
        id="f-due"
        type="date"
        min="1970-01-01"
        max="9000-12-31"
        value={value}
        disabled={disabled}
        onChange={(e) => setValue(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") {
            e.preventDefault();
            commit();
          }
        }}
      />
      {!disabled && item.due_date && (
        <button type="button" className="ghost" onClick={() => onChange({ due_date: null })}>
          Clear
        </button>
      )}
    </div>
  );
}

/** The project's Definition of Ready as ticks on this item (`PUT /items/{key}/readiness`). */
export function ReadinessChecklist({
  item,
  entries,
  disabled,
}: {
  item: Item;
  entries: { id?: string; text: string }[];
  disabled: boolean;
}) {
  const client = useQueryClient();
  const put = useMutation({
    mutationFn: (checked: string[]) =>
      ok(
        api.PUT("/api/v1/items/{item_key}/readiness", {
          params: { path: { item_key: item.key }, header: { "if-match": etagOf(item.version) } },
          body: { checked },
        }),
      ),
    onSuccess: (updated) => {
      client.setQueryData(["item", item.key], updated);
      void client.invalidateQueries({ queryKey: ["items", item.project_key] });
    },
    onError: () => void client.invalidateQueries({ queryKey: ["item", item.key] }),
  });
  const withIds = entries.filter((e): e is { id: string; text: string } => !!e.id);
  if (withIds.length === 0) return null;
  return (
    <fieldset className="dor-list" disabled={disabled || put.isPending}>
      <legend>Definition of Ready</legend>
      {withIds.map((e) => {
        const on = item.dor_checked.includes(e.id);
        return (
          <label key={e.id} className="row small">
            <input
              type="checkbox"
              checked={on}
              onChange={() => put.mutate(on ? item.dor_checked.filter((x) => x !== e.id) : [...item.dor_checked, e.id])}
            />
            {e.text}
          </label>
        );
      })}
    </fieldset>
  );
}
