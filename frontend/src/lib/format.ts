/** Small formatting helpers shared by the screens. */

const dateFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const dateYearFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const relFmt = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "3 Nov" for a `YYYY-MM-DD` date (read as a calendar date, not shifted by the time zone). */
export function formatDay(day: string, withYear = false): string {
  const [y, m, d] = day.split("-").map(Number);
  const date = new Date(Date.UTC(y!, m! - 1, d!));
  return (withYear ? dateYearFmt : dateFmt).format(new Date(date.getTime() + date.getTimezoneOffset() * 60_000));
}

export function formatDateTime(iso: string): string {
  return dateTimeFmt.format(new Date(iso));
}

/** "5 minutes ago", "in 2 days". */
export function relativeTime(iso: string, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return relFmt.format(seconds, "second");
  if (abs < 3600) return relFmt.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return relFmt.format(Math.round(seconds / 3600), "hour");
  if (abs < 86400 * 30) return relFmt.format(Math.round(seconds / 86400), "day");
  return formatDateTime(iso);
}

export function points(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  return Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, "");
}

export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)} %`;
}

export const FIBONACCI = [0, 0.5, 1, 2, 3, 5, 8, 13, 20, 40, 100];
export const TSHIRT = [0, 1, 2, 3, 5, 8, 13];
export const PRIORITIES = ["urgent", "high", "medium", "low", "none"] as const;
export const ITEM_TYPES = ["story", "task", "bug", "spike", "epic"] as const;

/** What an item lacks to be ready (`missing` of the API), in words. */
export function missingLabel(missing: string, definitionOfReady: { id?: string; text: string }[]): string {
  if (missing === "estimate" || missing === "description") return missing;
  const id = missing.startsWith("dor:") ? missing.slice(4) : missing;
  return definitionOfReady.find((e) => e.id === id)?.text ?? id;
}

export function pointsLabel(value: number): string {
  return `${value} ${value === 1 ? "point" : "points"}`;
}
