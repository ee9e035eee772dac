import { describe, expect, it } from "vitest";
import type { Schemas } from "../../api/client";
import { entryBody, initialAnswers, linesBySection, type Question } from "./entry";

const questions: Question[] = [
  { id: "yesterday", text: "What did you do?", kind: "text" },
  { id: "today", text: "What will you do?", kind: "text" },
  { id: "on_track", text: "On track?", kind: "yes_no" },
];

function draft(over: Partial<Schemas["Draft"]> = {}): Schemas["Draft"] {
  return {
    project_key: "DEMO",
    date: "2026-11-27",
    since: "2026-11-26T09:00:00Z",
    until: "2026-11-27T09:00:00Z",
    answers: { yesterday: "- DEMO-1 moved", today: "", blockers: "" },
    blocked: false,
    lines: [],
    suggested_blockers: [],
    entry: null,
    ...over,
  };
}

describe("the check-in", () => {
  it("starts from the draft, or from the entry already sent", () => {
    expect(initialAnswers(questions, draft())).toEqual({ yesterday: "- DEMO-1 moved", today: "", on_track: undefined });
    const sent = draft({
      entry: {
        id: "e",
        project_key: "DEMO",
        date: "2026-11-27",
        user: { id: "u", username: "leo", display_name: "Leo" },
        answers: { yesterday: "mine", on_track: true },
        blocked: false,
        blocker_ids: [],
        late: false,
        submitted_at: "2026-11-27T08:00:00Z",
        updated_at: "2026-11-27T08:00:00Z",
        version: 1,
      },
    });
    expect(initialAnswers(questions, sent)).toEqual({ yesterday: "mine", today: "", on_track: true });
  });

  it("sends the config's answers only, blank text left out, and complete blockers", () => {
    const body = entryBody(
      questions,
      { yesterday: "Done  \n", today: "   ", on_track: false, stray: "x" },
      false,
      [
        { item_key: "demo-7", reason: " Sandbox down ", kind: "external", value: "Bank" },
        { item_key: "", reason: "half filled", kind: "person", value: "maya" },
      ],
    );
    expect(body).toEqual({
      answers: { yesterday: "Done", on_track: false },
      blocked: true,
      blockers: [{ item_key: "DEMO-7", reason: "Sandbox down", waiting_on: { kind: "external", name: "Bank" } }],
    });
    expect(entryBody(questions, {}, false, []).blocked).toBe(false);
  });

  it("groups the draft's lines by section", () => {
    const line = (section: "yesterday" | "today", text: string): Schemas["DraftLine"] => ({
      section,
      kind: "moved",
      text,
      item_key: null,
      event_id: null,
      occurred_at: null,
      detail: {},
    });
    expect(linesBySection([line("today", "a"), line("yesterday", "b"), line("today", "c")]).map(([t, l]) => [t, l.length])).toEqual([
      ["In progress now", 2],
      ["Since your last stand-up", 1],
    ]);
  });
});
