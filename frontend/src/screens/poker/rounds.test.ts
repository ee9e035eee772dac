import { describe, expect, it } from "vitest";
import type { TaktEvent } from "../../events/stream";
import { agreementWords, days, isSessionEvent, labelFor, suggestedEstimate, voterStates, type Deck, type Round } from "./rounds";

const leo = { id: "u-leo", username: "leo", display_name: "Leo" };
const sara = { id: "u-sara", username: "sara", display_name: "Sara" };
const omar = { id: "u-omar", username: "omar", display_name: "Omar" };
const deck: Deck = [
  { label: "1", points: 1 },
  { label: "3", points: 3 },
  { label: "5", points: 5 },
  { label: "8", points: 8 },
  { label: "?", points: null },
];

function round(over: Partial<Round> = {}): Round {
  return {
    number: 1,
    revealed: false,
    started_at: "",
    revealed_at: null,
    reset_at: null,
    voters: [],
    my_card: null,
    votes: null,
    spread: null,
    calibration: null,
    ...over,
  };
}

describe("planning poker", () => {
  it("shows who voted, not what, before the reveal (my own card aside)", () => {
    const r = round({ voters: [{ user: leo, voted_at: "" }, { user: sara, voted_at: "" }], my_card: "5" });
    expect(voterStates([leo, sara, omar], r, "u-leo")).toEqual([
      { user: leo, voted: true, card: "5" },
      { user: sara, voted: true, card: null },
      { user: omar, voted: false, card: null },
    ]);
  });

  it("shows every card once revealed", () => {
    const r = round({
      revealed: true,
      voters: [{ user: leo, voted_at: "" }, { user: sara, voted_at: "" }],
      votes: [
        { voter: leo, card: "5", points: 5, voted_at: "" },
        { voter: sara, card: "8", points: 8, voted_at: "" },
      ],
    });
    expect(voterStates([leo, sara], r, "u-omar").map((v) => v.card)).toEqual(["5", "8"]);
  });

  it("suggests the mode, else the median, when the deck has it", () => {
    const spread = { votes: 3, unsure: 0, min: 3, max: 8, median: 5, mode: 8, agreement: 0.67 };
    expect(suggestedEstimate(spread, deck)).toBe(8);
    expect(suggestedEstimate({ ...spread, mode: 13 }, deck)).toBe(5);
    expect(suggestedEstimate(null, deck)).toBeNull();
  });

  it("puts agreement, labels and days in words", () => {
    expect(agreementWords(1)).toBe("Consensus");
    expect(agreementWords(0.75)).toBe("Strong agreement");
    expect(agreementWords(0.33)).toMatch(/Far apart/);
    expect(agreementWords(null)).toBe("No cards with points");
    expect(labelFor(3, [{ label: "M", points: 3 }])).toBe("M");
    expect(labelFor(null, deck)).toBe("–");
    expect(days(0.987)).toBe("1.0 d");
    expect(days(12.4)).toBe("12 d");
  });

  it("follows only this session's events", () => {
    const e = (type: string, id: string): TaktEvent => ({ id: "1", type, occurred_at: "", project_key: "DEMO", actor: null, data: { id } });
    expect(isSessionEvent(e("estimation.vote_cast", "s1"), "s1")).toBe(true);
    expect(isSessionEvent(e("estimation.vote_cast", "s2"), "s1")).toBe(false);
    expect(isSessionEvent(e("retro.advanced", "s1"), "s1")).toBe(false);
  });
});
