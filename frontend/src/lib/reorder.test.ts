import { describe, expect, it } from "vitest";
import { arrayMove, moveBodyFor } from "./reorder";

describe("moveBodyFor", () => {
  const keys = ["A-1", "A-2", "A-3", "A-4"];
  it("moving down lands after the item now above it", () => {
    expect(moveBodyFor(keys, 0, 2)).toEqual({ after: "A-3" });
    expect(arrayMove(keys, 0, 2)).toEqual(["A-2", "A-3", "A-1", "A-4"]);
  });
  it("moving up lands before the item now below it", () => {
    expect(moveBodyFor(keys, 3, 0)).toEqual({ before: "A-1" });
    expect(arrayMove(keys, 3, 0)).toEqual(["A-4", "A-1", "A-2", "A-3"]);
  });
  it("nothing to do for no move or an index out of the list", () => {
    expect(moveBodyFor(keys, 1, 1)).toBeNull();
    expect(moveBodyFor(keys, -1, 1)).toBeNull();
    expect(moveBodyFor(keys, 1, 9)).toBeNull();
  });
});
