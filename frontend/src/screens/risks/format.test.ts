import { describe, expect, it } from "vitest";
import { ageLabel, matrixRows, severityOf, waitingOnBody, waitingOnText, workdayHours } from "./format";

describe("risks and blockers", () => {
  it("bands a score as the API does", () => {
    expect([1, 4, 5, 9, 10, 16, 20, 25].map(severityOf)).toEqual(["low", "low", "medium", "medium", "high", "high", "critical", "critical"]);
  });

  it("draws the matrix with likelihood 5 on top and impact 1 on the left", () => {
    const counts = [
      [1, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 2, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 0, 0, 3],
    ];
    const rows = matrixRows(counts);
    expect(rows.map((r) => r.likelihood)).toEqual([5, 4, 3, 2, 1]);
    expect(rows[0]!.cells[4]).toEqual({ impact: 5, count: 3, severity: "critical" });
    expect(rows[2]!.cells[2]).toEqual({ impact: 3, count: 2, severity: "medium" });
    expect(rows[4]!.cells[0]).toEqual({ impact: 1, count: 1, severity: "low" });
  });

  it("says ages in working hours, then working days of the project's length", () => {
    expect(ageLabel(0.25)).toBe("15 min");
    expect(ageLabel(5.5)).toBe("5.5 h");
    expect(ageLabel(8)).toBe("1 working day");
    expect(ageLabel(30.5)).toBe("3.8 working days");
    expect(ageLabel(15, 7.5)).toBe("2 working days");
    expect(workdayHours("09:00", "17:00")).toBe(8);
    expect(workdayHours("08:30", "16:00")).toBe(7.5);
    expect(workdayHours(undefined, "17:00")).toBe(8);
  });

  it("says and writes whom a blocker waits on", () => {
    expect(waitingOnText({ kind: "person", user: { id: "1", username: "maya", display_name: "Maya Lead" }, name: null, item_key: null })).toBe("Maya Lead");
    expect(waitingOnText({ kind: "external", user: null, name: "Bank", item_key: null })).toBe("Bank (external)");
    expect(waitingOnBody("item", " demo-7 ")).toEqual({ kind: "item", item_key: "DEMO-7" });
    expect(waitingOnBody("person", "maya")).toEqual({ kind: "person", user: "maya" });
    expect(waitingOnBody("team", "Platform")).toEqual({ kind: "team", name: "Platform" });
  });
});
