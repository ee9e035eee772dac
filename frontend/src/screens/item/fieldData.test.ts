import { describe, expect, it } from "vitest";
import { openSprints, type Sprint } from "./fieldData";

function sprint(id: string, state: Sprint["state"], start_date: string): Sprint {
  return { id, name: id, state, start_date } as Sprint;
}

describe("openSprints", () => {
  it("offers the active sprint first, then planned ones by start date, never finished ones", () => {
    const list = [
      sprint("old", "completed", "2026-10-01"),
      sprint("later", "planned", "2026-12-15"),
      sprint("next", "planned", "2026-12-01"),
      sprint("now", "active", "2026-11-20"),
      sprint("dropped", "cancelled", "2026-11-01"),
    ];
    expect(openSprints(list).map((s) => s.id)).toEqual(["now", "next", "later"]);
  });
});
