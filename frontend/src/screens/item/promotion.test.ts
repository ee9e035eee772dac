import { describe, expect, it } from "vitest";
import { formatDuration, promotionRows, reachedAny, type PromotionStage, type PromotionTimeline } from "./promotion";

function stage(partial: Partial<PromotionStage> & Pick<PromotionStage, "stage">): PromotionStage {
  return { environment: null, environment_type: null, deployment_id: null, at: null, seconds_since_previous: null, ...partial };
}

const deployedToStaging: PromotionTimeline = {
  item_key: "DEMO-9",
  pull_request_id: null,
  total_seconds: 200_000,
  stages: [
    stage({ stage: "committed", at: "2026-11-01T10:00:00Z" }),
    stage({ stage: "pull_request_ready", at: "2026-11-01T12:00:00Z", seconds_since_previous: 7200 }),
    stage({ stage: "first_review", at: "2026-11-02T12:00:00Z", seconds_since_previous: 86400 }),
    stage({ stage: "merged", at: "2026-11-02T13:00:00Z", seconds_since_previous: 3600 }),
    stage({ stage: "deployed", environment: "staging", deployment_id: "d1", at: "2026-11-03T13:00:00Z", seconds_since_previous: 86400 }),
    stage({ stage: "deployed", environment: "production" }),
  ],
};

describe("promotionRows", () => {
  it("labels deployments by environment and marks the last stage reached as current", () => {
    const rows = promotionRows(deployedToStaging);
    expect(rows.map((r) => r.label)).toEqual([
      "Committed",
      "Pull request ready",
      "First review",
      "Merged",
      "Deployed to staging",
      "Deployed to production",
    ]);
    expect(rows.filter((r) => r.current).map((r) => r.label)).toEqual(["Deployed to staging"]);
    expect(rows[4]!.deploymentId).toBe("d1");
    expect(rows[1]!.waited).toBe(7200);
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
  });

  it("has no current stage once every stage is reached", () => {
    const done: PromotionTimeline = {
      ...deployedToStaging,
      stages: deployedToStaging.stages.map((s) => ({ ...s, at: s.at ?? "2026-11-05T00:00:00Z" })),
    };
    expect(promotionRows(done).some((r) => r.current)).toBe(false);
  });

  it("knows a timeline where nothing happened yet", () => {
    const none = { ...deployedToStaging, stages: deployedToStaging.stages.map((s) => ({ ...s, at: null })) };
    expect(reachedAny(none)).toBe(false);
    expect(reachedAny(deployedToStaging)).toBe(true);
    expect(promotionRows(none).some((r) => r.current)).toBe(false);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0 s"],
    [59, "59 s"],
    [60, "1 min"],
    [3599, "59 min"],
    [3600, "1 h"],
    [3600 + 5 * 60, "1 h 5 min"],
    [86400, "1 d"],
    [2 * 86400 + 4 * 3600 + 59, "2 d 4 h"],
    [-5, "0 s"],
  ])("%i s reads %s", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
