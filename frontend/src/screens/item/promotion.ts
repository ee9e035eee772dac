/** The promotion timeline of an item (GET /items/{key}/promotion) as rows to show. */
import type { Schemas } from "../../api/client";

export type PromotionTimeline = Schemas["PromotionTimeline"];
export type PromotionStage = Schemas["PromotionStage"];

const LABELS: Record<PromotionStage["stage"], string> = {
  committed: "Committed",
  pull_request_ready: "Pull request ready",
  first_review: "First review",
  merged: "Merged",
  deployed: "Deployed",
};

export interface PromotionRow {
  key: string;
  label: string;
  at: string | null;
  /** Time from the stage reached before it (the time spent in that stage), as the API counts it. */
  waited: number | null;
  /** The last stage reached, while later ones are still to come. */
  current: boolean;
  deploymentId: string | null;
}

export function stageLabel(stage: PromotionStage): string {
  return stage.stage === "deployed" && stage.environment ? `Deployed to ${stage.environment}` : LABELS[stage.stage];
}

export function promotionRows(timeline: PromotionTimeline): PromotionRow[] {
  let last = -1;
  timeline.stages.forEach((s, i) => {
    if (s.at) last = i;
  });
  const allReached = timeline.stages.every((s) => s.at);
  return timeline.stages.map((s, i) => ({
    key: `${s.stage}-${s.environment ?? i}`,
    label: stageLabel(s),
    at: s.at,
    waited: s.seconds_since_previous,
    current: i === last && !allReached,
    deploymentId: s.deployment_id,
  }));
}

/** Whether any stage was reached (an item no commit or pull request names has none). */
export function reachedAny(timeline: PromotionTimeline): boolean {
  return timeline.stages.some((s) => s.at);
}

/** A duration in the largest two units that matter: "40 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}
