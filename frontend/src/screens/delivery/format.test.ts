import { describe, expect, it } from "vitest";
import {
  addDays,
  ageSince,
  bandBadge,
  count,
  currentView,
  cyclePoints,
  dayIndex,
  daysLabel,
  defaultEnvironment,
  flowBands,
  frequencyLabel,
  hoursLabel,
  niceTicks,
  parseItemKeys,
  periodStart,
  rate,
  sortChecks,
  todayIn,
  waitTone,
  type Check,
} from "./format";

function check(name: string, enabled: boolean, passed: boolean | null): Check {
  return { check: name as Check["check"], enabled, passed, reason: name, details: {} as Check["details"] };
}

describe("sub-screens", () => {
  it("finds the tab of a path, a deployment's page under Deployments", () => {
    expect(currentView("/p/DEMO/delivery", "DEMO")).toBe("delivery");
    expect(currentView("/p/DEMO/delivery/", "DEMO")).toBe("delivery");
    expect(currentView("/p/DEMO/delivery/deployments/abc", "DEMO")).toBe("delivery");
    expect(currentView("/p/DEMO/delivery/dora", "DEMO")).toBe("delivery/dora");
    expect(currentView("/p/DEMO/delivery/incidents", "DEMO")).toBe("delivery/incidents");
  });
});

describe("durations", () => {
  it("says hours in the unit a person reads best", () => {
    expect(hoursLabel(null)).toBe("–");
    expect(hoursLabel(0.25)).toBe("15 min");
    expect(hoursLabel(1.48)).toBe("1.5 h");
    expect(hoursLabel(47.9)).toBe("47.9 h");
    expect(hoursLabel(102.14)).toBe("4.3 days");
    expect(hoursLabel(24 * 30)).toBe("30 days");
  });

  it("says flow days likewise", () => {
    expect(daysLabel(undefined)).toBe("–");
    expect(daysLabel(0.01)).toBe("14 min");
    expect(daysLabel(0.5)).toBe("12 h");
    expect(daysLabel(1)).toBe("1 day");
    expect(daysLabel(2.92)).toBe("2.9 days");
  });

  it("gives a wait's age, coarse and short, and its tone", () => {
    const now = Date.parse("2026-11-27T12:00:00Z");
    expect(ageSince("2026-11-27T11:48:00Z", now)).toBe("12 min");
    expect(ageSince("2026-11-27T07:00:00Z", now)).toBe("5 h");
    expect(ageSince("2026-11-25T08:00:00Z", now)).toBe("2 d 4 h");
    expect(ageSince("2026-11-25T12:00:00Z", now)).toBe("2 d");
    expect(ageSince("2026-11-10T12:00:00Z", now)).toBe("17 d");
    expect(ageSince("2026-11-28T12:00:00Z", now)).toBe("0 min");
    expect([2, 24, 71, 72].map(waitTone)).toEqual(["", "warning", "warning", "danger"]);
  });

  it("gives rates as percentages and frequencies in their natural unit", () => {
    expect([count(1, "hotfix", "hotfixes"), count(2, "hotfix", "hotfixes"), count(0, "rollback")]).toEqual(["1 hotfix", "2 hotfixes", "0 rollbacks"]);
    expect(rate(0.2105)).toBe("21 %");
    expect(rate(0.055)).toBe("5.5 %");
    expect(rate(0)).toBe("0 %");
    expect(rate(null)).toBe("–");
    expect(frequencyLabel(2.14)).toBe("2.1 a day");
    expect(frequencyLabel(0.2111)).toBe("1.5 a week");
    expect(frequencyLabel(0.02)).toBe("0.6 a month");
  });
});

describe("bands and environments", () => {
  it("names each band with a tone, and says when there is none", () => {
    expect(bandBadge("elite")).toEqual({ label: "Elite", tone: "success" });
    expect(bandBadge("low")).toEqual({ label: "Low", tone: "danger" });
    expect(bandBadge(null)).toEqual({ label: "no band", tone: "" });
  });

  it("defaults to the first production environment on the promotion path", () => {
    const envs = [
      { name: "prod-eu", type: "production", position: 3 },
      { name: "dev", type: "development", position: 0 },
      { name: "prod-us", type: "production", position: 2 },
    ];
    expect(defaultEnvironment(envs)).toBe("prod-us");
    expect(defaultEnvironment([{ name: "dev", type: "development", position: 0 }])).toBe("dev");
    expect(defaultEnvironment([])).toBeUndefined();
  });
});

describe("readiness", () => {
  it("puts failing checks first, then passing, then switched off, keeping their order", () => {
    const sorted = sortChecks([check("a", true, true), check("b", false, null), check("c", true, false), check("d", true, true), check("e", true, false)]);
    expect(sorted.map((c) => c.check)).toEqual(["c", "e", "a", "d", "b"]);
  });

  it("reads item keys typed freely", () => {
    expect(parseItemKeys(" demo-1, DEMO-2 demo-1;x-9\n")).toEqual({ keys: ["DEMO-1", "DEMO-2", "X-9"], invalid: [] });
    expect(parseItemKeys("DEMO-1 nope 12 -3")).toEqual({ keys: ["DEMO-1"], invalid: ["nope", "12", "-3"] });
    expect(parseItemKeys("")).toEqual({ keys: [], invalid: [] });
  });
});

describe("periods", () => {
  it("counts days as calendar days", () => {
    expect(addDays("2026-11-27", -89)).toBe("2026-08-30");
    expect(periodStart("2026-11-27", 90)).toBe("2026-08-30");
    expect(periodStart("2026-03-01", 1)).toBe("2026-03-01");
    expect(dayIndex("2026-10-29", "2026-11-27")).toBe(29);
  });

  it("takes today in the project's time zone", () => {
    const lateUtc = new Date("2026-11-27T23:30:00Z");
    expect(todayIn("UTC", lateUtc)).toBe("2026-11-27");
    expect(todayIn("Europe/Berlin", lateUtc)).toBe("2026-11-28");
    expect(todayIn("America/Los_Angeles", lateUtc)).toBe("2026-11-27");
    expect(todayIn("Not/AZone", lateUtc)).toBe("2026-11-27");
  });
});

describe("charts", () => {
  it("puts round ticks on an axis", () => {
    expect(niceTicks(3)).toEqual({ top: 3, ticks: [0, 1, 2, 3] });
    expect(niceTicks(204)).toEqual({ top: 250, ticks: [0, 50, 100, 150, 200, 250] });
    expect(niceTicks(2.92)).toEqual({ top: 3, ticks: [0, 1, 2, 3] });
    expect(niceTicks(0.4)).toEqual({ top: 0.4, ticks: [0, 0.1, 0.2, 0.3, 0.4] });
    expect(niceTicks(54)).toEqual({ top: 60, ticks: [0, 20, 40, 60] });
    expect(niceTicks(0)).toEqual({ top: 1, ticks: [0, 1] });
  });

  it("stacks the cumulative flow: each band from the next category's count up to its own", () => {
    const day = { date: "2026-11-02", backlog: 10, todo: 7, in_progress: 4, in_review: 3, done: 1, cancelled: 2 };
    const bands = flowBands([day]);
    expect(bands.map((b) => [b.band, b.bottom[0], b.top[0]])).toEqual([
      ["backlog", 7, 10],
      ["todo", 4, 7],
      ["in_progress", 3, 4],
      ["in_review", 1, 3],
      ["done", 0, 1],
    ]);
  });

  it("makes cycle-time points of the items finished in the period, in the project's days", () => {
    const items = [
      { key: "A-1", title: "one", started_at: "2026-11-01T10:00:00Z", finished_at: "2026-11-03T23:30:00Z" },
      { key: "A-2", title: "two", started_at: null, finished_at: "2026-11-04T10:00:00Z" },
      { key: "A-3", title: "three", started_at: "2026-11-02T10:00:00Z", finished_at: null },
      { key: "A-4", title: "four", started_at: "2026-10-01T10:00:00Z", finished_at: "2026-10-31T23:30:00Z" },
      { key: "A-5", title: "five", started_at: "2026-11-02T10:00:00Z", finished_at: "2026-11-02T16:00:00Z" },
    ];
    const { points, notStarted } = cyclePoints(items, "2026-11-01", "2026-11-03", "Europe/Berlin");
    // A-4 finished on 1 Nov in Berlin (UTC+1), so it counts; A-1 finished on 3 Nov in UTC but 4 Nov in Berlin.
    expect(points.map((p) => [p.key, p.day, Math.round(p.days * 100) / 100])).toEqual([
      ["A-4", "2026-11-01", 30.56],
      ["A-5", "2026-11-02", 0.25],
    ]);
    expect(notStarted).toBe(0);
    expect(cyclePoints(items, "2026-11-01", "2026-11-30", "UTC").notStarted).toBe(1);
  });
});
