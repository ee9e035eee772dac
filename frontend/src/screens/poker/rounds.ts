/** Planning poker's rounds: who voted, the spread in words, the estimate to suggest. */
import type { Schemas } from "../../api/client";
import type { TaktEvent } from "../../events/stream";

export type Session = Schemas["EstimationRead"];
export type Round = Schemas["RoundRead"];
export type Deck = Schemas["ScaleRead"]["cards"];

export function isSessionEvent(event: TaktEvent, sessionId: string): boolean {
  return event.type.startsWith("estimation.") && event.data.id === sessionId;
}

/** Each participant, whether they voted in the round, and their card once it is shown. */
export function voterStates(participants: Schemas["UserSummary"][], round: Round | undefined, meId: string | undefined) {
  const voted = new Set(round?.voters.map((v) => v.user.id) ?? []);
  const cards = new Map(round?.votes?.map((v) => [v.voter.id, v.card]) ?? []);
  return participants.map((user) => ({
    user,
    voted: voted.has(user.id),
    card: cards.get(user.id) ?? (user.id === meId ? (round?.my_card ?? null) : null),
  }));
}

/** The estimate the facilitator starts from: the mode, else the median, if it is on the deck. */
export function suggestedEstimate(spread: Schemas["SpreadRead"] | null | undefined, deck: Deck): number | null {
  const points = new Set(deck.map((c) => c.points).filter((p): p is number => p !== null));
  for (const candidate of [spread?.mode, spread?.median]) {
    if (candidate !== null && candidate !== undefined && points.has(candidate)) return candidate;
  }
  return null;
}

export function agreementWords(agreement: number | null | undefined): string {
  if (agreement === null || agreement === undefined) return "No cards with points";
  if (agreement >= 1) return "Consensus";
  if (agreement >= 0.75) return "Strong agreement";
  if (agreement >= 0.5) return "Some agreement";
  return "Far apart: talk it through";
}

/** The label of a card for some points ("M" for 3 in a T-shirt deck), else the number. */
export function labelFor(points: number | null | undefined, deck: Deck): string {
  if (points === null || points === undefined) return "–";
  return deck.find((c) => c.points === points)?.label ?? String(points);
}

export function days(value: number | null | undefined): string {
  return value === null || value === undefined ? "–" : `${value < 10 ? value.toFixed(1) : Math.round(value)} d`;
}
