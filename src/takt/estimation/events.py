"""The events of planning poker: the catalogue's `estimation.*`.

A vote's card is secret until its round is revealed, and events are read by every member, the
live stream and webhooks: `estimation.vote_cast` therefore says who voted and never what. The
cards appear first in `estimation.revealed`.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from takt.core.events import EventData


class EstimationCreated(EventData):
    """A planning-poker session was started over items of the project; its first item is up."""

    event_type: ClassVar[str] = "estimation.created"
    id: str
    title: str
    scale: str = Field(description="`fibonacci`, `tshirt` or `custom`.")
    item_keys: list[str] = Field(description="The items, in the order the session takes them.")
    participants: list[str] = Field(description="Who votes (usernames).")
    facilitator: str | None = Field(description="Who runs it (username).")


class EstimationVoteCast(EventData):
    """Someone chose a card (or changed it) in the current round. Says who, never which card:
    the cards stay secret until `estimation.revealed`."""

    event_type: ClassVar[str] = "estimation.vote_cast"
    id: str = Field(description="The session.")
    item_key: str
    round: int
    voter: str = Field(description="Who voted (username).")
    changed: bool = Field(description="True when they replaced a card they had played.")
    votes_cast: int = Field(description="Votes in the round now.")
    participants: int = Field(description="How many people vote in the session.")


class RevealedVote(BaseModel):
    voter: str = Field(description="Username.")
    card: str
    points: float | None


class EstimationRevealed(EventData):
    """The facilitator turned the round's cards over: every card and the spread are public
    from here on."""

    event_type: ClassVar[str] = "estimation.revealed"
    id: str = Field(description="The session.")
    item_key: str
    round: int
    votes: list[RevealedVote]
    min: float | None = None
    max: float | None = None
    median: float | None = None
    mode: float | None = None
    agreement: float | None = Field(None, description="Share of votes that played the mode.")


class EstimationFinalized(EventData):
    """The facilitator set the item's estimate (written to the item as its own change, in its
    history); the session moved on to its next item, or finished."""

    event_type: ClassVar[str] = "estimation.finalized"
    id: str = Field(description="The session.")
    item_key: str
    round: int
    estimate: float
    previous_estimate: float | None = Field(description="The item's estimate before.")
    next_item_key: str | None = Field(description="The item up now (null: the session is done).")


class EstimationReset(EventData):
    """The facilitator cleared the round for a re-vote: a new round opens, the old one keeps its
    votes (their cards stay secret if it was never revealed)."""

    event_type: ClassVar[str] = "estimation.reset"
    id: str = Field(description="The session.")
    item_key: str
    round: int = Field(description="The new round's number.")
    was_revealed: bool = Field(description="Whether the closed round had been revealed.")


class EstimationFinished(EventData):
    """A session ended: every item was finalized, or the facilitator ended it early."""

    event_type: ClassVar[str] = "estimation.finished"
    id: str = Field(description="The session.")
    reason: str = Field(description="`all estimated` or `ended`.")
    estimated: int = Field(description="Items finalized.")
    items: int = Field(description="Items in the session.")
