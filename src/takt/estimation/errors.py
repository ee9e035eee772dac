"""The problems planning poker answers, each with its code and explanation
(`GET /problems/<code>`)."""

from __future__ import annotations

from takt.core.errors import Conflict, Forbidden, ValidationFailed


class NotTheFacilitator(Forbidden):
    """Only the session's facilitator (who created it) or a project admin reveals, finalizes,
    resets and ends a planning-poker session. Ask them, or start a session of your own."""

    code = "not-the-facilitator"
    title = "Not the facilitator"


class NotAParticipant(Forbidden):
    """Only the session's participants vote (`participants` of the session, fixed when it was
    created). Ask the facilitator to start a session that includes you."""

    code = "not-a-participant"
    title = "Not a participant"


class EstimationFinishedError(Conflict):
    """The planning-poker session is finished: its votes and estimates stay as they are. Start
    a new session to estimate again."""

    code = "estimation-finished"
    title = "Estimation session finished"


class NotTheCurrentItem(Conflict):
    """A session takes its items one at a time, in order: votes, reveal, reset and finalize
    apply to the item up now (`current_item_key` of the session)."""

    code = "estimation-not-current-item"
    title = "Not the item up now"


class RoundRevealed(Conflict):
    """The round's cards are already turned over: no vote changes them now. The facilitator
    finalizes the estimate, or resets for a new round."""

    code = "estimation-round-revealed"
    title = "Round already revealed"


class RoundNotRevealed(Conflict):
    """The estimate is set after the team has seen the cards: reveal the round first."""

    code = "estimation-round-not-revealed"
    title = "Round not revealed"


class NoVotes(Conflict):
    """Nobody has voted in this round yet: there is nothing to reveal."""

    code = "estimation-no-votes"
    title = "No votes to reveal"


class TooManyRounds(Conflict):
    """An item takes at most 20 rounds in one session. Finalize an estimate, or end the session
    and talk it over first."""

    code = "estimation-too-many-rounds"
    title = "Too many rounds"


class ItemInTrash(Conflict):
    """The item is in the trash, so no estimate is written to it. Restore it, or end the
    session."""

    code = "estimation-item-in-trash"
    title = "Item in the trash"


class UnknownCard(ValidationFailed):
    """The card is not in the session's deck (`scale.cards` of the session). Play one of its
    labels: for example `5` on the Fibonacci deck, `M` on the T-shirt deck, or `?`."""

    code = "unknown-card"
    title = "Not a card of the deck"
