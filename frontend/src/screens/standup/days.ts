/** Stand-up days: the project's local date, and the stand-up day a screen opens on. */

export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";
const BY_INDEX: Weekday[] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/** The date (`YYYY-MM-DD`) it is now in `timeZone`. */
export function localDate(now: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

export function weekdayOf(day: string): Weekday {
  return BY_INDEX[new Date(`${day}T00:00:00Z`).getUTCDay()]!;
}

export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** `day` if stand-ups run on it, else the stand-up day before it (within two weeks), else null. */
export function latestStandupDay(day: string, weekdays: readonly string[]): string | null {
  if (!weekdays.length) return null;
  for (let back = 0; back < 14; back++) {
    const candidate = addDays(day, -back);
    if (weekdays.includes(weekdayOf(candidate))) return candidate;
  }
  return null;
}

export function isStandupDay(day: string, weekdays: readonly string[]): boolean {
  return weekdays.includes(weekdayOf(day));
}
