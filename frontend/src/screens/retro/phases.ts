/** A retro's phases, and what a participant may do in each. */
import type { Schemas } from "../../api/client";
import type { TaktEvent } from "../../events/stream";

export type Retro = Schemas["RetroRead"];
export type Phase = Schemas["RetroPhase"];
export type Card = Schemas["RetroRead"]["cards"][number];
export type Group = Schemas["GroupRead"];

export const PHASES: Phase[] = ["collect", "group", "vote", "discuss", "closed"];

export const PHASE_LABEL: Record<Phase, string> = {
  collect: "Collect",
  group: "Group",
  vote: "Vote",
  discuss: "Discuss",
  closed: "Closed",
};

export const PHASE_HINT: Record<Phase, string> = {
  collect: "Write cards under each prompt. Cards are anonymous; until grouping you see only your own.",
  group: "Everyone sees every card now (without authors). Put cards that say the same thing into groups.",
  vote: "Spend your votes on the groups that matter most. Nobody sees your votes; totals show when voting ends.",
  discuss: "Groups in order of votes, most first. Turn what the team decides into action items.",
  closed: "This retro is closed. Its action items are work items in the backlog.",
};

export function nextPhase(phase: Phase): Phase | null {
  const i = PHASES.indexOf(phase);
  return i >= 0 && i < PHASES.length - 1 ? PHASES[i + 1]! : null;
}

/** Is this event about this retro (its id is `id` for the retro's own events, else `retro_id`)? */
export function isRetroEvent(event: TaktEvent, retroId: string): boolean {
  if (!event.type.startsWith("retro.")) return false;
  return event.data.retro_id === retroId || event.data.id === retroId;
}

/** Whether one more vote may go on a group, and which of my votes would be taken back. */
export function votesOn(retro: Retro, group: Group): { canAdd: boolean; removable: string | null } {
  const voting = retro.phase === "vote";
  const canAdd = voting && retro.votes_left > 0 && group.my_votes < retro.max_votes_per_group;
  const mine = retro.my_votes.filter((v) => v.group_id === group.id);
  return { canAdd, removable: voting && mine.length ? mine[mine.length - 1]!.id : null };
}

/** The cards under each prompt (loose only, once groups exist), and the evidence apart. */
export function layout(retro: Retro): { evidence: Card[]; byPrompt: Map<string, Card[]> } {
  const grouped = retro.phase !== "collect";
  const byPrompt = new Map<string, Card[]>(retro.prompts.map((p) => [p.id, []]));
  const evidence: Card[] = [];
  for (const card of retro.cards) {
    if (grouped && card.group_id) continue;
    if (card.kind === "evidence" || !card.prompt_id) evidence.push(card);
    else byPrompt.get(card.prompt_id)?.push(card);
  }
  return { evidence, byPrompt };
}

/** The group's title for a card on its own (the API caps titles at 255 characters). */
export function titleFrom(text: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > 120 ? `${line.slice(0, 119)}…` : line || "Group";
}
