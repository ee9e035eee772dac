import { describe, expect, it } from "vitest";
import {
  attemptsLabel,
  canRedeliver,
  deliveryTone,
  dorToSend,
  inboxTone,
  isColor,
  isProjectAdmin,
  movedPosition,
  parseEventTypes,
  parseWipLimit,
  repositoryNameProblem,
  sectionOf,
  sectionPath,
  textOn,
  timeZones,
  toggleDay,
} from "./logic";

describe("settings sub-screens", () => {
  it("reads the section of the route, General by default, null for an unknown one", () => {
    expect(sectionOf(undefined)).toBe("general");
    expect(sectionOf("webhooks")).toBe("webhooks");
    expect(sectionOf("nope")).toBeNull();
  });

  it("builds each section's path", () => {
    expect(sectionPath("DEMO", "general")).toBe("/p/DEMO/settings");
    expect(sectionPath("DEMO", "labels")).toBe("/p/DEMO/settings/labels");
  });

  it("gives the controls to project admins and instance admins only", () => {
    expect(isProjectAdmin("admin", false)).toBe(true);
    expect(isProjectAdmin("member", false)).toBe(false);
    expect(isProjectAdmin("viewer", undefined)).toBe(false);
    expect(isProjectAdmin(null, true)).toBe(true);
    expect(isProjectAdmin(null, false)).toBe(false);
  });
});

describe("general settings", () => {
  it("switches working days and keeps them in week order", () => {
    expect(toggleDay(["fri", "mon"], "wed", true)).toEqual(["mon", "wed", "fri"]);
    expect(toggleDay(["mon", "tue"], "mon", false)).toEqual(["tue"]);
    expect(toggleDay(["mon"], "mon", true)).toEqual(["mon"]);
  });

  it("offers the project's own time zone even when the browser doesn't know it", () => {
    expect(timeZones("Mars/Olympus", ["Europe/Berlin"])).toEqual(["Europe/Berlin", "Mars/Olympus", "UTC"]);
    expect(timeZones("UTC", [])).toEqual(["UTC"]);
  });

  it("sends the Definition of Ready trimmed, without blanks, keeping ids", () => {
    const sent = dorToSend([{ id: "has-tests", text: " Has tests " }, { text: "   " }, { text: "Designed" }]);
    expect(sent).toEqual({ entries: [{ id: "has-tests", text: "Has tests" }, { text: "Designed" }] });
  });

  it("refuses a Definition of Ready the API would refuse", () => {
    expect(dorToSend([{ text: "x".repeat(201) }])).toEqual({ error: "Entry 1 is longer than 200 characters." });
    expect(dorToSend(Array.from({ length: 21 }, (_, i) => ({ text: `e${i}` })))).toHaveProperty("error");
    expect(dorToSend([{ text: "Tests" }, { text: "tests" }])).toEqual({ error: '"tests" is there twice.' });
  });
});

describe("workflow", () => {
  it("parses WIP limits: empty or 0 is no limit, 1 to 1000 otherwise", () => {
    expect(parseWipLimit("")).toEqual({ limit: null });
    expect(parseWipLimit(" 0 ")).toEqual({ limit: null });
    expect(parseWipLimit("3")).toEqual({ limit: 3 });
    expect(parseWipLimit("1001")).toHaveProperty("error");
    expect(parseWipLimit("2.5")).toHaveProperty("error");
    expect(parseWipLimit("-1")).toHaveProperty("error");
  });

  it("moves a status one place, or not past either end", () => {
    const statuses = [{ position: 0 }, { position: 1 }, { position: 2 }];
    expect(movedPosition(statuses, 1, -1)).toBe(0);
    expect(movedPosition(statuses, 1, 1)).toBe(2);
    expect(movedPosition(statuses, 0, -1)).toBeNull();
    expect(movedPosition(statuses, 2, 1)).toBeNull();
  });
});

describe("labels", () => {
  it("accepts #rrggbb colours only", () => {
    expect(isColor("#a1B2c3")).toBe(true);
    expect(isColor("#abc")).toBe(false);
    expect(isColor("red")).toBe(false);
  });

  it("picks the text colour that reads on a label", () => {
    expect(textOn("#ffffff")).toBe("#000000");
    expect(textOn("#000000")).toBe("#ffffff");
    expect(textOn("#4338ca")).toBe("#ffffff");
    expect(textOn("#fde68a")).toBe("#000000");
  });
});

describe("webhooks and repositories", () => {
  it("reads the event filter, everything when empty", () => {
    expect(parseEventTypes("item.*, sprint.started\nitem.*")).toEqual(["item.*", "sprint.started"]);
    expect(parseEventTypes("  ")).toEqual(["*"]);
  });

  it("tones delivery states", () => {
    expect(deliveryTone("succeeded")).toBe("success");
    expect(deliveryTone("failed")).toBe("danger");
    expect(deliveryTone("pending")).toBe("warning");
    expect(deliveryTone("cancelled")).toBe("neutral");
    expect(inboxTone("processed")).toBe("success");
    expect(inboxTone("ignored")).toBe("neutral");
    expect(inboxTone("failed")).toBe("danger");
  });

  it("redelivers what isn't processed yet", () => {
    expect(canRedeliver("failed")).toBe(true);
    expect(canRedeliver("ignored")).toBe(true);
    expect(canRedeliver("processed")).toBe(false);
  });

  it("checks a repository's name the way each provider writes it", () => {
    expect(repositoryNameProblem("github", "acme/checkout")).toBeNull();
    expect(repositoryNameProblem("github", "acme/team/checkout")).toBe("On GitHub a repository is owner/repo.");
    expect(repositoryNameProblem("gitlab", "acme/team/checkout")).toBeNull();
    expect(repositoryNameProblem("gitlab", "checkout")).not.toBeNull();
    expect(repositoryNameProblem("github", "  ")).toBe("Name the repository.");
    expect(repositoryNameProblem("github", "acme//x")).not.toBeNull();
  });

  it("counts attempts", () => {
    expect(attemptsLabel(1)).toBe("1 attempt");
    expect(attemptsLabel(3)).toBe("3 attempts");
  });
});
