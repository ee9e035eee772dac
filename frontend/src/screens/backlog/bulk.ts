/** Bulk edit of backlog items: the selection, the change asked for, and the bulk answer. */
import type { Schemas } from "../../api/client";

export type BulkUpdate = Schemas["BulkUpdate"];
export type BulkResult = Schemas["BulkResult"];

/** What the bulk bar asks for; a field left `undefined` is kept as it is on every item. */
export interface BulkChange {
  status?: string;
  priority?: Schemas["Priority"];
  /** A username, or null to unassign. */
  assignee?: string | null;
  /** A sprint id, or null to take the items out of their sprint. */
  sprint_id?: string | null;
  estimate?: number | null;
  addLabel?: string;
  removeLabel?: string;
}

/** Enough of an item to compute its update (an `ItemSummary` fits). */
export interface Selected {
  key: string;
  labels: string[];
}

export function isEmptyChange(change: BulkChange): boolean {
  return Object.values(change).every((v) => v === undefined || v === "");
}

/** One update per selected item. Labels are a whole list in the API, so adding or removing one
 * label is computed per item from the labels it has; an item the label change leaves as it was
 * gets no `labels` (and no update at all when nothing else changes). */
export function buildBulkUpdates(items: readonly Selected[], change: BulkChange): BulkUpdate[] {
  const common: Omit<BulkUpdate, "key"> = {};
  if (change.status) common.status = change.status;
  if (change.priority) common.priority = change.priority;
  if (change.assignee !== undefined) common.assignee = change.assignee;
  if (change.sprint_id !== undefined) common.sprint_id = change.sprint_id;
  if (change.estimate !== undefined) common.estimate = change.estimate;
  const updates: BulkUpdate[] = [];
  for (const item of items) {
    const update: BulkUpdate = { key: item.key, ...common };
    if (change.addLabel || change.removeLabel) {
      let labels = item.labels.filter((l) => l !== change.removeLabel);
      if (change.addLabel && !labels.includes(change.addLabel)) labels = [...labels, change.addLabel];
      labels.sort();
      const before = [...item.labels].sort();
      if (labels.length !== before.length || labels.some((l, i) => l !== before[i])) update.labels = labels;
    }
    if (Object.keys(update).length > 1) updates.push(update);
  }
  return updates;
}

export interface BulkOutcome {
  updated: string[];
  failed: { key: string; status: number; code: string; detail: string }[];
}

/** Splits the bulk answer into the items updated and the ones refused, each with its reason. */
export function bulkOutcome(results: readonly BulkResult[]): BulkOutcome {
  const outcome: BulkOutcome = { updated: [], failed: [] };
  for (const r of results) {
    if (r.status >= 200 && r.status < 300) outcome.updated.push(r.key);
    else outcome.failed.push({ key: r.key, status: r.status, code: r.error?.code ?? "error", detail: r.error?.detail ?? `Refused (${r.status}).` });
  }
  return outcome;
}

/** The selection after a click on `key`: toggled alone, or with Shift the whole range from the
 * last clicked item (`anchor`) set to the clicked item's new state. */
export function toggleSelection(
  selected: ReadonlySet<string>,
  order: readonly string[],
  key: string,
  anchor: string | null,
  range: boolean,
): Set<string> {
  const next = new Set(selected);
  const on = !selected.has(key);
  const from = anchor === null ? -1 : order.indexOf(anchor);
  const to = order.indexOf(key);
  if (range && from >= 0 && to >= 0) {
    const [lo, hi] = from < to ? [from, to] : [to, from];
    for (const k of order.slice(lo, hi + 1)) {
      if (on) next.add(k);
      else next.delete(k);
    }
  } else if (on) next.add(key);
  else next.delete(key);
  return next;
}

/** Keeps only the selected keys still listed (after a filter or a reload). */
export function pruneSelection(selected: ReadonlySet<string>, listed: readonly string[]): Set<string> {
  const present = new Set(listed);
  return new Set([...selected].filter((k) => present.has(k)));
}
