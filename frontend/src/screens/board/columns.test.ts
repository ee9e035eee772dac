import { describe, expect, it } from "vitest";
import { moveCard, replaceCard, type Board, type Card } from "./columns";

const status = (id: string) => ({ id, name: id.toUpperCase(), category: "todo" as const });

function card(key: string, s: string, rank: string, version = 1): Card {
  return { key, status: status(s), rank, version } as Card;
}

function board(): Board {
  return {
    sprint_id: null,
    sprint: null,
    columns: [
      { status: status("todo"), wip_limit: null, count: 2, over_limit: false, items: [card("A-1", "todo", "b"), card("A-2", "todo", "d")] },
      { status: status("doing"), wip_limit: 1, count: 1, over_limit: false, items: [card("A-3", "doing", "c")] },
    ],
  };
}

describe("board moves", () => {
  it("moves a card into the target column in rank order and counts against the WIP limit", () => {
    const after = moveCard(board(), "A-1", "doing");
    expect(after.columns[0]!.items.map((i) => i.key)).toEqual(["A-2"]);
    expect(after.columns[0]!.count).toBe(1);
    expect(after.columns[1]!.items.map((i) => i.key)).toEqual(["A-1", "A-3"]);
    expect(after.columns[1]!.items[0]!.status.id).toBe("doing");
    expect(after.columns[1]!.over_limit).toBe(true);
  });

  it("changes nothing for a drop in the card's own column or an unknown card", () => {
    const b = board();
    expect(moveCard(b, "A-1", "todo")).toBe(b);
    expect(moveCard(b, "A-9", "doing")).toBe(b);
  });

  it("replaces a card with its reloaded state, wherever it is now", () => {
    const fresh = card("A-3", "todo", "c", 7);
    const after = replaceCard(board(), fresh);
    expect(after.columns[0]!.items.map((i) => [i.key, i.version])).toEqual([
      ["A-1", 1],
      ["A-3", 7],
      ["A-2", 1],
    ]);
    expect(after.columns[0]!.count).toBe(3);
    expect(after.columns[1]!.items).toEqual([]);
    expect(after.columns[1]!.count).toBe(0);
  });
});
