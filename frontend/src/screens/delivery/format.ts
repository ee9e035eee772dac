/** The delivery screens' own logic: durations, bands, checklists, periods and chart shapes. */
import type { Schemas } from "../../api/client";

export type Band = "elite" | "high" | "medium" | "low";
export type Check = Schemas["CheckResult"];
export type DeploymentState = Schemas["DeploymentState"];
export type Severity = Schemas["IncidentSeverity"];

// --- Sub-screens -----------------------------------------------------------------------------

/** The delivery sub-screens, as tabs (paths under `/p/:key/`). */
export const DELIVERY_VIEWS = [
  { path: "delivery", label: "Deployments" },
  { path: "delivery/reviews", label: "Review queue" },
  { path: "delivery/readiness", label: "Readiness" },
  { path: "delivery/incidents", label: "Incidents" },
  { path: "delivery/dora", label: "DORA" },
  { path: "delivery/flow", label: "Flow" },
] as const;

/** The tab of a path: the sub-screen it is under (a deployment's own page is under Deployments). */
export function currentView(pathname: string, projectKey: string): string {
  const prefix = `/p/${projectKey}/`;
  const path = decodeURIComponent(pathname);
  const rest = (path.startsWith(prefix) ? path.slice(prefix.length) : path).replace(/\/+$/, "");
  const match = DELIVERY_VIEWS.find((v) => v.path !== "delivery" && (rest === v.path || rest.startsWith(`${v.path}/`)));
  return match ? match.path : "delivery";
}

// --- Durations -------------------------------------------------------------------------------

function round1(value: number): string {
  return (Math.round(value * 10) / 10).toFixed(1).replace(/\.0$/, "");
}

/** A duration given in hours, in the unit a person reads best: "45 min", "5.2 h", "4.3 days". */
export function hoursLabel(hours: number | null | undefined): string {
  if (hours === null || hours === undefined || Number.isNaN(hours)) return "–";
  if (hours < 1) return `${Math.max(0, Math.round(hours * 60))} min`;
  if (hours < 48) return `${round1(hours)} h`;
  const days = hours / 24;
  return `${round1(days)} ${days === 1 ? "day" : "days"}`;
}

/** A duration given in days (flow metrics): "0.9 days", "12 days". */
export function daysLabel(days: number | null | undefined): string {
  if (days === null || days === undefined || Number.isNaN(days)) return "–";
  if (days < 1 / 24) return `${Math.max(0, Math.round(days * 24 * 60))} min`;
  if (days < 1) return `${round1(days * 24)} h`;
  return `${round1(days)} ${round1(days) === "1" ? "day" : "days"}`;
}

/** How long since `since`, coarse and short: "12 min", "5 h", "2 d 4 h", "9 d". */
export function ageSince(since: string, now = Date.now()): string {
  const minutes = Math.max(0, Math.floor((now - new Date(since).getTime()) / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h`;
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return days < 7 && rest ? `${days} d ${rest} h` : `${days} d`;
}

/** Hours since `since` (for thresholds). */
export function hoursSince(since: string, now = Date.now()): number {
  return (now - new Date(since).getTime()) / 3_600_000;
}

/** How urgent a wait is: under a day fine, a day or more "warning", three or more "danger". */
export function waitTone(hours: number): "" | "warning" | "danger" {
  if (hours >= 72) return "danger";
  if (hours >= 24) return "warning";
  return "";
}

/** "1 hotfix", "2 hotfixes". */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function rate(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  const pct = value * 100;
  return `${pct > 0 && pct < 10 ? round1(pct) : Math.round(pct)} %`;
}

export function shortSha(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 7) : "–";
}

// --- DORA bands ------------------------------------------------------------------------------

const BAND_TONE: Record<Band, string> = { elite: "success", high: "accent", medium: "warning", low: "danger" };

/** The badge of a band: its name and the badge tone (elite green … low red). */
export function bandBadge(band: Band | null | undefined): { label: string; tone: string } {
  if (!band) return { label: "no band", tone: "" };
  return { label: band[0]!.toUpperCase() + band.slice(1), tone: BAND_TONE[band] };
}

/** Deployment frequency in words: "2.1 a day", "1.5 a week", "0.8 a month". */
export function frequencyLabel(perDay: number): string {
  if (perDay >= 1) return `${round1(perDay)} a day`;
  if (perDay * 7 >= 1) return `${round1(perDay * 7)} a week`;
  return `${round1(perDay * 30)} a month`;
}

// --- Deployments -----------------------------------------------------------------------------

export const STATE_LABEL: Record<DeploymentState, string> = {
  pending: "pending",
  in_progress: "in progress",
  success: "success",
  failure: "failed to deploy",
  rolled_back: "rolled back",
};

export function stateTone(state: DeploymentState): string {
  switch (state) {
    case "success":
      return "success";
    case "failure":
    case "rolled_back":
      return "danger";
    case "in_progress":
      return "accent";
    default:
      return "";
  }
}

/** The environment a project's metrics and readiness default to: the first of type production. */
export function defaultEnvironment(envs: { name: string; type: string; position: number }[]): string | undefined {
  const ordered = [...envs].sort((a, b) => a.position - b.position);
  return (ordered.find((e) => e.type === "production") ?? ordered[ordered.length - 1])?.name;
}

// --- Readiness -------------------------------------------------------------------------------

export const CHECK_LABEL: Record<string, string> = {
  items_done: "Every item done",
  pull_requests_approved: "Pull requests merged with an approving review",
  no_open_blockers: "No open blocker",
  promoted_through_previous: "Deployed to the environment before",
  no_open_incidents: "No open serious incident in the target",
};

/** Failing checks first, then passing ones, then those switched off (stable otherwise). */
export function sortChecks(checks: Check[]): Check[] {
  const rank = (c: Check) => (!c.enabled ? 2 : c.passed ? 1 : 0);
  return checks.map((c, i) => ({ c, i })).sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i).map((x) => x.c);
}

export const SHA_PATTERN = /^[0-9a-f]{7,64}$/i;
const KEY_PATTERN = /^[A-Z][A-Z0-9]{0,9}-[0-9]{1,9}$/;
export const MAX_ITEM_KEYS = 200;

/** Item keys typed freely ("demo-1, DEMO-2 demo-1"): upper-cased, de-duplicated, in order; the
 * ones that aren't keys are returned apart so the form can say which. */
export function parseItemKeys(text: string): { keys: string[]; invalid: string[] } {
  const keys: string[] = [];
  const invalid: string[] = [];
  for (const raw of text.split(/[\s,;]+/)) {
    if (!raw) continue;
    const key = raw.toUpperCase();
    if (!KEY_PATTERN.test(key)) invalid.push(raw);
    else if (!keys.includes(key)) keys.push(key);
  }
  return { keys, invalid };
}

// --- Periods ---------------------------------------------------------------------------------

export const DORA_PERIODS = [
  { days: 30, label: "Last 30 days" },
  { days: 90, label: "Last 90 days" },
  { days: 180, label: "Last 6 months" },
  { days: 365, label: "Last year" },
];

export const FLOW_PERIODS = [
  { days: 14, label: "Last 2 weeks" },
  { days: 30, label: "Last 30 days" },
  { days: 90, label: "Last 90 days" },
  { days: 180, label: "Last 6 months" },
];

/** Today's date (`YYYY-MM-DD`) in a time zone. */
export function todayIn(timeZone: string, now = new Date()): string {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

/** The day `days` before a `YYYY-MM-DD` day. */
export function addDays(day: string, days: number): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y!, m! - 1, d! + days)).toISOString().slice(0, 10);
}

/** The first day of a period of `length` days ending `to` (included). */
export function periodStart(to: string, length: number): string {
  return addDays(to, -(length - 1));
}

// --- Charts ----------------------------------------------------------------------------------

/** Round axis ticks from 0 covering `max`: steps of 1, 2, 2.5 or 5 × 10^k, at most `count` + 1 of them. */
export function niceTicks(max: number, count = 4): { top: number; ticks: number[] } {
  if (!(max > 0)) return { top: 1, ticks: [0, 1] };
  const power = 10 ** Math.floor(Math.log10(max / (count + 1)));
  const step = [1, 2, 2.5, 5, 10, 20].map((m) => m * power).find((s) => Math.ceil(max / s - 1e-9) <= count + 1)!;
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return { top: ticks[ticks.length - 1]!, ticks };
}

export const FLOW_BANDS = ["backlog", "todo", "in_progress", "in_review", "done"] as const;
export type FlowBand = (typeof FLOW_BANDS)[number];
export const FLOW_LABEL: Record<FlowBand, string> = {
  backlog: "Backlog",
  todo: "To do",
  in_progress: "In progress",
  in_review: "In review",
  done: "Done",
};

/**
 * The cumulative flow as stacked bands: the API counts each day's items "in this category or a
 * later one", so a band's top is its own count and its bottom the next category's (done sits
 * on 0). Each band's own size is top − bottom.
 */
export function flowBands(days: Schemas["CumulativeFlowDay"][]): { band: FlowBand; top: number[]; bottom: number[] }[] {
  return FLOW_BANDS.map((band, i) => {
    const next = FLOW_BANDS[i + 1];
    return {
      band,
      top: days.map((d) => d[band]),
      bottom: days.map((d) => (next ? Math.min(d[next], d[band]) : 0)),
    };
  });
}

export interface CyclePoint {
  key: string;
  title: string;
  finishedAt: string;
  /** The day it finished, in the project's time zone. */
  day: string;
  days: number;
}

/**
 * Cycle-time scatter points from items: each item finished (its latest finish) in the period
 * `from`–`to` (days in `timeZone`) that had started, with finished − started in days. Items
 * finished without starting have no cycle time and are counted apart.
 */
export function cyclePoints(
  items: Pick<Schemas["ItemRead"], "key" | "title" | "started_at" | "finished_at">[],
  from: string,
  to: string,
  timeZone: string,
): { points: CyclePoint[]; notStarted: number } {
  const points: CyclePoint[] = [];
  let notStarted = 0;
  for (const item of items) {
    if (!item.finished_at) continue;
    const day = todayIn(timeZone, new Date(item.finished_at));
    if (day < from || day > to) continue;
    if (!item.started_at) {
      notStarted++;
      continue;
    }
    const days = (new Date(item.finished_at).getTime() - new Date(item.started_at).getTime()) / 86_400_000;
    points.push({ key: item.key, title: item.title, finishedAt: item.finished_at, day, days: Math.max(0, days) });
  }
  points.sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
  return { points, notStarted };
}

/** Whole days from `from` to `day` (both `YYYY-MM-DD`). */
export function dayIndex(from: string, day: string): number {
  return Math.round((Date.parse(`${day}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}
