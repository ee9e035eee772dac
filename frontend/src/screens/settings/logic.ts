/** The settings screens' own logic: sub-screens, who may change what, and the forms' parsing. */
import type { Schemas } from "../../api/client";

export type Role = Schemas["Role"];
export type Weekday = Schemas["Weekday"];
export type StatusCategory = Schemas["StatusCategory"];
export type Status = Schemas["StatusRead"];
export type DorEntry = Schemas["DorEntry"];

// --- Sub-screens -----------------------------------------------------------------------------

/** The settings sub-screens, in the order of the sub-navigation (`/p/:key/settings/<id>`). */
export const SECTIONS = [
  { id: "general", label: "General" },
  { id: "members", label: "Members" },
  { id: "workflow", label: "Workflow" },
  { id: "labels", label: "Labels" },
  { id: "webhooks", label: "Webhooks" },
  { id: "repositories", label: "Repositories" },
] as const;

export type SectionId = (typeof SECTIONS)[number]["id"];

/** The sub-screen a route's `:section` names; General when it names none (or an unknown one). */
export function sectionOf(param: string | undefined): SectionId | null {
  if (!param) return "general";
  return SECTIONS.find((s) => s.id === param)?.id ?? null;
}

export function sectionPath(projectKey: string, id: SectionId): string {
  return id === "general" ? `/p/${projectKey}/settings` : `/p/${projectKey}/settings/${id}`;
}

/** Project admins, and instance admins (who act as admins in every project), see the controls. */
export function isProjectAdmin(role: Role | null | undefined, instanceAdmin: boolean | undefined): boolean {
  return role === "admin" || !!instanceAdmin;
}

// --- General ---------------------------------------------------------------------------------

export const WEEKDAYS: { id: Weekday; label: string }[] = [
  { id: "mon", label: "Monday" },
  { id: "tue", label: "Tuesday" },
  { id: "wed", label: "Wednesday" },
  { id: "thu", label: "Thursday" },
  { id: "fri", label: "Friday" },
  { id: "sat", label: "Saturday" },
  { id: "sun", label: "Sunday" },
];

/** Working days with `day` switched on or off, in week order (the API wants 1 to 7 days). */
export function toggleDay(days: readonly Weekday[], day: Weekday, on: boolean): Weekday[] {
  const set = new Set(days);
  if (on) set.add(day);
  else set.delete(day);
  return WEEKDAYS.map((d) => d.id).filter((d) => set.has(d));
}

/** The time zones the browser knows, with `current` among them (it may be one the browser lacks). */
export function timeZones(current: string, known: readonly string[] = supportedZones()): string[] {
  const zones = new Set(known);
  zones.add("UTC");
  zones.add(current);
  return [...zones].sort((a, b) => a.localeCompare(b));
}

function supportedZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf?.("timeZone") ?? [];
  } catch {
    return [];
  }
}

export const DOR_MAX_ENTRIES = 20;
export const DOR_MAX_TEXT = 200;

/**
 * The Definition of Ready to send: entries trimmed, blank ones dropped, ids kept (so their
 * ticks on items stay), or a message saying what is wrong.
 */
export function dorToSend(entries: readonly DorEntry[]): { entries: DorEntry[] } | { error: string } {
  const kept = entries
    .map((e) => ({ ...e, text: e.text.trim() }))
    .filter((e) => e.text)
    .map((e) => (e.id ? { id: e.id, text: e.text } : { text: e.text }));
  if (kept.length > DOR_MAX_ENTRIES) return { error: `The Definition of Ready holds at most ${DOR_MAX_ENTRIES} entries.` };
  const long = kept.findIndex((e) => e.text.length > DOR_MAX_TEXT);
  if (long >= 0) return { error: `Entry ${long + 1} is longer than ${DOR_MAX_TEXT} characters.` };
  const seen = new Set<string>();
  for (const e of kept) {
    const key = e.text.toLowerCase();
    if (seen.has(key)) return { error: `"${e.text}" is there twice.` };
    seen.add(key);
  }
  return { entries: kept };
}

// --- Workflow --------------------------------------------------------------------------------

export const CATEGORIES: { id: StatusCategory; label: string }[] = [
  { id: "backlog", label: "Backlog" },
  { id: "todo", label: "To do" },
  { id: "in_progress", label: "In progress" },
  { id: "in_review", label: "In review" },
  { id: "done", label: "Done" },
  { id: "cancelled", label: "Cancelled" },
];

export function categoryLabel(category: StatusCategory): string {
  return CATEGORIES.find((c) => c.id === category)?.label ?? category;
}

/**
 * A WIP limit as typed: empty means no limit (`0` for the API's PATCH, which removes it);
 * otherwise a whole number from 1 to 1000.
 */
export function parseWipLimit(text: string): { limit: number | null } | { error: string } {
  const value = text.trim();
  if (!value) return { limit: null };
  if (!/^\d+$/.test(value)) return { error: "A WIP limit is a whole number (leave it empty for no limit)." };
  const limit = Number(value);
  if (limit === 0) return { limit: null };
  if (limit > 1000) return { error: "A WIP limit is at most 1000." };
  return { limit };
}

/**
 * Moving the status at `index` one place up (-1) or down (+1): the position to PATCH, or null
 * at either end. Positions are 0-based places in the workflow, as the API numbers them.
 */
export function movedPosition(statuses: readonly Pick<Status, "position">[], index: number, delta: -1 | 1): number | null {
  const target = index + delta;
  if (index < 0 || index >= statuses.length || target < 0 || target >= statuses.length) return null;
  return statuses[target]!.position;
}

// --- Labels ----------------------------------------------------------------------------------

export const LABEL_COLORS = ["#4338ca", "#0e7c66", "#b45309", "#b42318", "#7c3aed", "#0369a1", "#4d7c0f", "#6b7280"];

export function isColor(text: string): boolean {
  return /^#[0-9a-fA-F]{6}$/.test(text);
}

/** Black or white text, whichever reads better on a label of `color` (WCAG relative luminance). */
export function textOn(color: string): "#000000" | "#ffffff" {
  if (!isColor(color)) return "#000000";
  const channel = (i: number) => {
    const c = parseInt(color.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  // Contrast with white (1.05 / (L + 0.05)) against contrast with black ((L + 0.05) / 0.05).
  return 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 ? "#ffffff" : "#000000";
}

// --- Webhooks and repositories ---------------------------------------------------------------

/** The event filter as typed (commas, spaces or new lines between): `*` when empty. */
export function parseEventTypes(text: string): string[] {
  const list = text
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter(Boolean);
  return list.length ? [...new Set(list)] : ["*"];
}

type Tone = "success" | "warning" | "danger" | "neutral";

/** The badge tone of an outgoing delivery's state. */
export function deliveryTone(state: Schemas["DeliveryState"]): Tone {
  return state === "succeeded" ? "success" : state === "failed" ? "danger" : state === "pending" ? "warning" : "neutral";
}

/** The badge tone of an inbound (repository) delivery's state. */
export function inboxTone(state: Schemas["InboxState"]): Tone {
  if (state === "processed") return "success";
  if (state === "failed") return "danger";
  if (state === "retrying" || state === "received") return "warning";
  return "neutral";
}

/** An inbound delivery can be processed again unless its effects are recorded already. */
export function canRedeliver(state: Schemas["InboxState"]): boolean {
  return state !== "processed";
}

/** A repository's full name as each provider writes it, or a message saying what is wrong. */
export function repositoryNameProblem(provider: Schemas["Provider"], fullName: string): string | null {
  const name = fullName.trim().replace(/^\/+|\/+$/g, "");
  if (!name) return "Name the repository.";
  const parts = name.split("/");
  if (parts.some((p) => !p)) return "A repository's name has no empty parts.";
  if (provider === "github" && parts.length !== 2) return "On GitHub a repository is owner/repo.";
  if (provider === "gitlab" && parts.length < 2) return "On GitLab a project is group/project (or group/subgroup/project).";
  return null;
}

/** "3 attempts", "1 attempt". */
export function attemptsLabel(n: number): string {
  return `${n} ${n === 1 ? "attempt" : "attempts"}`;
}
