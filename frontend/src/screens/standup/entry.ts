/** The check-in form's state, and the request it sends. */
import type { Schemas } from "../../api/client";
import { waitingOnBody, type WaitingKind } from "../risks/format";

export type Question = Schemas["Question"];
export type Answers = Record<string, string | boolean | undefined>;

export interface BlockerDraft {
  item_key: string;
  reason: string;
  kind: WaitingKind;
  /** A username (person), a name (team, external) or an item key (item). */
  value: string;
}

export const MAX_BLOCKERS = 10;

/** What the form starts from: the entry already sent that day, else the draft's answers. */
export function initialAnswers(questions: Question[], draft: Schemas["Draft"]): Answers {
  const source = draft.entry?.answers ?? draft.answers;
  const answers: Answers = {};
  for (const q of questions) {
    const value = source[q.id];
    if (q.kind === "yes_no") answers[q.id] = typeof value === "boolean" ? value : undefined;
    else answers[q.id] = typeof value === "string" ? value : "";
  }
  return answers;
}

/** The PUT body: answers of the config's questions only (blank text left out), and the blockers filled in. */
export function entryBody(questions: Question[], answers: Answers, blocked: boolean, blockers: BlockerDraft[]): Schemas["EntryWrite"] {
  const out: Record<string, string | boolean> = {};
  for (const q of questions) {
    const value = answers[q.id];
    if (q.kind === "yes_no" && typeof value === "boolean") out[q.id] = value;
    if (q.kind === "text" && typeof value === "string" && value.trim()) out[q.id] = value.trimEnd();
  }
  const raised = blockers
    .filter((b) => b.item_key.trim() && b.reason.trim() && b.value.trim())
    .slice(0, MAX_BLOCKERS)
    .map((b) => ({ item_key: b.item_key.trim().toUpperCase(), reason: b.reason.trim(), waiting_on: waitingOnBody(b.kind, b.value) }));
  return { answers: out, blocked: blocked || raised.length > 0, blockers: raised };
}

/** Lines of the draft under a section's heading, in the order the draft gives them. */
export function linesBySection(lines: Schemas["DraftLine"][]): [string, Schemas["DraftLine"][]][] {
  const titles: Record<string, string> = { yesterday: "Since your last stand-up", today: "In progress now", blockers: "In your way" };
  const groups = new Map<string, Schemas["DraftLine"][]>();
  for (const line of lines) {
    const list = groups.get(line.section) ?? [];
    list.push(line);
    groups.set(line.section, list);
  }
  return [...groups.entries()].map(([section, list]) => [titles[section] ?? section, list]);
}
