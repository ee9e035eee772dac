import { describe, expect, it } from "vitest";
import { buildBulkUpdates, bulkOutcome, isEmptyChange, pruneSelection, toggleSelection } from "./bulk";

const items = [
  { key: "DEMO-1", labels: ["api"] },
  { key: "DEMO-2", labels: [] },
  { key: "DEMO-3", labels: ["api", "ui"] },
];

describe("buildBulkUpdates", () => {
  it("sends the same fields for every item", () => {
    expect(buildBulkUpdates(items.slice(0, 2), { status: "In Progress", assignee: null, sprint_id: "s1" })).toEqual([
      { key: "DEMO-1", status: "In Progress", assignee: null, sprint_id: "s1" },
      { key: "DEMO-2", status: "In Progress", assignee: null, sprint_id: "s1" },
    ]);
  });

  it("adds and removes a label per item, from the labels each one has", () => {
    expect(buildBulkUpdates(items, { addLabel: "ui" })).toEqual([
      { key: "DEMO-1", labels: ["api", "ui"] },
      { key: "DEMO-2", labels: ["ui"] },
    ]);
    expect(buildBulkUpdates(items, { removeLabel: "api", priority: "high" })).toEqual([
      { key: "DEMO-1", priority: "high", labels: [] },
      { key: "DEMO-2", priority: "high" },
      { key: "DEMO-3", priority: "high", labels: ["ui"] },
    ]);
  });

  it("skips items a change leaves as they are, and knows an empty change", () => {
    expect(buildBulkUpdates(items, { removeLabel: "missing" })).toEqual([]);
    expect(isEmptyChange({})).toBe(true);
    expect(isEmptyChange({ status: "" })).toBe(true);
    expect(isEmptyChange({ assignee: null })).toBe(false);
  });
});

describe("bulkOutcome", () => {
  it("separates the updated items from the refused ones with their reasons", () => {
    const outcome = bulkOutcome([
      { key: "DEMO-1", status: 200 },
      { key: "DEMO-2", status: 422, error: { code: "estimate-off-scale", detail: "4 is not on the scale." } },
      { key: "DEMO-3", status: 404 },
    ]);
    expect(outcome.updated).toEqual(["DEMO-1"]);
    expect(outcome.failed).toEqual([
      { key: "DEMO-2", status: 422, code: "estimate-off-scale", detail: "4 is not on the scale." },
      { key: "DEMO-3", status: 404, code: "error", detail: "Refused (404)." },
    ]);
  });
});

describe("selection", () => {
  const order = ["A-1", "A-2", "A-3", "A-4", "A-5"];
  it("toggles one item", () => {
    const one = toggleSelection(new Set(), order, "A-2", null, false);
    expect([...one]).toEqual(["A-2"]);
    expect([...toggleSelection(one, order, "A-2", "A-2", false)]).toEqual([]);
  });
  it("selects or clears a range with Shift", () => {
    const range = toggleSelection(new Set(["A-2"]), order, "A-4", "A-2", true);
    expect([...range].sort()).toEqual(["A-2", "A-3", "A-4"]);
    const upward = toggleSelection(new Set(), order, "A-1", "A-3", true);
    expect([...upward].sort()).toEqual(["A-1", "A-2", "A-3"]);
    const cleared = toggleSelection(range, order, "A-3", "A-4", true);
    expect([...cleared]).toEqual(["A-2"]);
  });
  it("drops selected keys no longer listed", () => {
    expect([...pruneSelection(new Set(["A-1", "B-9"]), order)]).toEqual(["A-1"]);
  });
});
