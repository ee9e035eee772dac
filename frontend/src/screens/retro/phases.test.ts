import { describe, expect, it } from "vitest";
import type { TaktEvent } from "../../events/stream";
import { isRetroEvent, layout, nextPhase, titleFrom, votesOn, type Card, type Group, type Retro } from "./phases";

function card(id: string, over: Partial<Card> = {}): Card {
  return {
    id,
    retro_id: "r1",
    kind: "card",
    prompt_id: "start",
    text: id,
    group_id: null,
    mine: false,
    author: null,
    evidence: null,
    created_at: null,
    updated_at: null,
    version: null,
    ...over,
  };
}

function group(id: string, over: Partial<Group> = {}): Group {
  return { id, title: id, card_ids: [], votes: null, my_votes: 0, rank: null, version: 1, ...over };
}

function retro(over: Partial<Retro> = {}): Retro {
  return {
    id: "r1",
    project_key: "DEMO",
    title: "Retro",
    template: "start_stop_continue",
    phase: "vote",
    sprint_id: null,
    anonymous: true,
    facilitator: null,
    created_at: "",
    updated_at: "",
    closed_at: null,
    version: 1,
    prompts: [
      { id: "start", text: "Start" },
      { id: "stop", text: "Stop" },
    ],
    hide_cards_during_collect: true,
    vote_budget: 5,
    max_votes_per_group: 3,
    phase_changed_at: "",
    can_facilitate: false,
    cards: [],
    hidden_cards: 0,
    groups: [],
    my_votes: [],
    votes_left: 5,
    votes_cast: 0,
    actions: [],
    previous_retro_id: null,
    previous_actions: [],
    ...over,
  };
}

const event = (type: string, data: Record<string, unknown>): TaktEvent => ({ id: "e", type, occurred_at: "", project_key: "DEMO", actor: null, data });

describe("retro phases", () => {
  it("moves in one order only", () => {
    expect(nextPhase("collect")).toBe("group");
    expect(nextPhase("discuss")).toBe("closed");
    expect(nextPhase("closed")).toBeNull();
  });

  it("follows only this retro's events", () => {
    expect(isRetroEvent(event("retro.card_added", { retro_id: "r1", card_id: null }), "r1")).toBe(true);
    expect(isRetroEvent(event("retro.advanced", { id: "r1", phase: "group" }), "r1")).toBe(true);
    expect(isRetroEvent(event("retro.vote_cast", { retro_id: "r2" }), "r1")).toBe(false);
    expect(isRetroEvent(event("item.updated", { id: "r1" }), "r1")).toBe(false);
  });

  it("keeps votes within the budget and the per-group maximum", () => {
    const g = group("g1", { my_votes: 2 });
    const r = retro({ my_votes: [{ id: "v1", group_id: "g1" }, { id: "v2", group_id: "g1" }], votes_left: 3 });
    expect(votesOn(r, g)).toEqual({ canAdd: true, removable: "v2" });
    expect(votesOn(r, group("g1", { my_votes: 3 })).canAdd).toBe(false);
    expect(votesOn(retro({ votes_left: 0 }), group("g2")).canAdd).toBe(false);
    expect(votesOn(retro({ phase: "discuss", votes_left: 5 }), group("g2"))).toEqual({ canAdd: false, removable: null });
  });

  it("lays out loose cards by prompt, evidence apart", () => {
    const r = retro({
      phase: "group",
      cards: [card("a"), card("b", { prompt_id: "stop", group_id: "g1" }), card("c", { prompt_id: "stop" }), card("e", { kind: "evidence", prompt_id: null })],
    });
    const { evidence, byPrompt } = layout(r);
    expect(evidence.map((c) => c.id)).toEqual(["e"]);
    expect(byPrompt.get("start")!.map((c) => c.id)).toEqual(["a"]);
    expect(byPrompt.get("stop")!.map((c) => c.id)).toEqual(["c"]);
    expect(layout({ ...r, phase: "collect" }).byPrompt.get("stop")!.length).toBe(2);
  });

  it("titles a group after its card", () => {
    expect(titleFrom("  Slow reviews\nmore")).toBe("Slow reviews");
    expect(titleFrom("x".repeat(300)).length).toBe(120);
  });
});
