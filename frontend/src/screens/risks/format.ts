/** Words and numbers for blockers and risks (shared with the stand-up summary). */
import type { Schemas } from "../../api/client";

export type Blocker = Schemas["BlockerRead"];
export type Risk = Schemas["RiskRead"];
export type Severity = Risk["severity"];

/** The band of a score (likelihood × impact), as the API computes it. */
export function severityOf(score: number): Severity {
  if (score >= 20) return "critical";
  if (score >= 10) return "high";
  if (score >= 5) return "medium";
  return "low";
}

export const LIKELIHOOD = ["Rare", "Unlikely", "Possible", "Likely", "Almost certain"] as const;
export const IMPACT = ["Negligible", "Minor", "Moderate", "Major", "Severe"] as const;

/** Hours of the project's working day, from its settings (`HH:MM`); 8 if unknown. */
export function workdayHours(start?: string | null, end?: string | null): number {
  const minutes = (t?: string | null) => {
    const m = /^(\d{2}):(\d{2})/.exec(t ?? "");
    return m ? Number(m[1]) * 60 + Number(m[2]) : null;
  };
  const a = minutes(start);
  const b = minutes(end);
  return a !== null && b !== null && b > a ? (b - a) / 60 : 8;
}

/** A blocker's age in working hours, in words: "45 min", "5.5 h", "3.8 working days". */
export function ageLabel(hours: number, hoursPerDay = 8): string {
  if (hours < 1) return `${Math.round(hours * 60)} min`;
  if (hours < hoursPerDay) return `${round1(hours)} h`;
  const days = round1(hours / hoursPerDay);
  return `${days} working day${days === 1 ? "" : "s"}`;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

export function waitingOnText(w: Schemas["WaitingOnRead"]): string {
  switch (w.kind) {
    case "person":
      return w.user ? w.user.display_name || w.user.username : "someone";
    case "team":
      return `${w.name ?? "a team"} (team)`;
    case "external":
      return `${w.name ?? "someone outside"} (external)`;
    case "item":
      return w.item_key ?? "another item";
  }
}

export type WaitingKind = Schemas["WaitingOnRead"]["kind"];

/** The `waiting_on` of a request from a kind and one typed value (username, name or item key). */
export function waitingOnBody(kind: WaitingKind, value: string): Schemas["BlockerCreate"]["waiting_on"] {
  const v = value.trim();
  switch (kind) {
    case "person":
      return { kind, user: v };
    case "item":
      return { kind, item_key: v.toUpperCase() };
    default:
      return { kind, name: v };
  }
}

/** Open risks by cell, for the matrix drawn with likelihood 5 at the top. */
export function matrixRows(counts: number[][]): { likelihood: number; cells: { impact: number; count: number; severity: Severity }[] }[] {
  const rows = [];
  for (let likelihood = 5; likelihood >= 1; likelihood--) {
    const cells = [];
    for (let impact = 1; impact <= 5; impact++) {
      cells.push({ impact, count: counts[likelihood - 1]?.[impact - 1] ?? 0, severity: severityOf(likelihood * impact) });
    }
    rows.push({ likelihood, cells });
  }
  return rows;
}
