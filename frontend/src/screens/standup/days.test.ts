import { describe, expect, it } from "vitest";
import { addDays, isStandupDay, latestStandupDay, localDate, weekdayOf } from "./days";

const WEEK = ["mon", "tue", "wed", "thu", "fri"];

describe("stand-up days", () => {
  it("reads the date in the project's time zone, not the browser's", () => {
    const lateInNewYork = new Date("2026-11-28T04:30:00Z"); // 23:30 on the 27th in New York
    expect(localDate(lateInNewYork, "America/New_York")).toBe("2026-11-27");
    expect(localDate(lateInNewYork, "Europe/Berlin")).toBe("2026-11-28");
  });

  it("knows weekdays and adds days across months", () => {
    expect(weekdayOf("2026-11-27")).toBe("fri");
    expect(addDays("2026-11-30", 1)).toBe("2026-12-01");
    expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
  });

  it("opens on today when stand-ups run today, else on the last stand-up day", () => {
    expect(latestStandupDay("2026-11-27", WEEK)).toBe("2026-11-27");
    expect(latestStandupDay("2026-11-29", WEEK)).toBe("2026-11-27"); // Sunday → Friday
    expect(latestStandupDay("2026-11-29", ["sun"])).toBe("2026-11-29");
    expect(latestStandupDay("2026-11-29", [])).toBeNull();
    expect(isStandupDay("2026-11-28", WEEK)).toBe(false);
  });
});
