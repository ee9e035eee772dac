"""Shapes of planning poker: sessions, decks, votes, rounds, the spread and the calibration."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypeAliasType

from takt.auth.schemas import UserSummary
from takt.core.schemas import NOT_BLANK, NOT_NULL, Input
from takt.items.schemas import Estimate, ItemKey, UserRef

# Bounds: a session is one meeting's worth of items, and a round one table of people.
MAX_ITEMS = 50
MAX_PARTICIPANTS = 100
MAX_CARDS = 20
MAX_ROUNDS = 20

SessionState = TypeAliasType("SessionState", Literal["open", "finished"])
ItemState = TypeAliasType("ItemState", Literal["pending", "voting", "revealed", "estimated"])
ScaleKind = TypeAliasType("ScaleKind", Literal["fibonacci", "tshirt", "custom"])
CardLabel = Annotated[
    str,
    StringConstraints(min_length=1, max_length=8, strip_whitespace=True, pattern=NOT_BLANK),
    Field(description="What the card says (up to 8 characters).", examples=["5"]),
]


class CardWrite(Input):
    label: CardLabel
    points: Estimate = Field(
        description="The points the card stands for: a value of the project's estimate scale, "
        "so a finalized estimate fits the item."
    )


Deck = Annotated[list[CardWrite], Field(min_length=2, max_length=MAX_CARDS)]
Participants = Annotated[list[UserRef], Field(max_length=MAX_PARTICIPANTS)]


class EstimationCreate(Input):
    """A session over items of the project. Everything but `item_keys` is optional."""

    title: Annotated[
        str,
        StringConstraints(min_length=1, max_length=255, strip_whitespace=True, pattern=NOT_BLANK),
    ] = Field("Planning poker", description="What the session is called.")
    item_keys: list[ItemKey] = Field(
        min_length=1,
        max_length=MAX_ITEMS,
        description=f"The items to estimate, in order (1 to {MAX_ITEMS}, each once, all of this "
        "project). The first is up first.",
        examples=[["DEMO-12", "DEMO-14", "DEMO-15"]],
    )
    scale: Annotated[ScaleKind | None, NOT_NULL] = Field(
        None,
        description="The deck: `fibonacci` (0, 0.5, 1, 2, 3, 5, 8, 13, 20, 40, 100), `tshirt` "
        "(XS 1, S 2, M 3, L 5, XL 8, XXL 13 points) or `custom` (`cards`). Default: the "
        "project's `settings.estimate_scale`. Every card's points must be on the project's "
        "scale.",
    )
    cards: Annotated[Deck | None, NOT_NULL] = Field(
        None,
        description=f"The deck of a `custom` scale: 2 to {MAX_CARDS} cards, distinct labels "
        "and distinct points. Only with `scale: custom`.",
    )
    unsure_card: bool = Field(
        True, description='Add a "?" card (no points: "I can\'t estimate this yet").'
    )
    participants: Annotated[Participants | None, NOT_NULL] = Field(
        None,
        description="Who votes: members who can write (role member or admin), by username or "
        f"id. Default: every member and admin of the project (a project with more than "
        f"{MAX_PARTICIPANTS} names them). The facilitator votes only if listed (or by default).",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"title": "Sprint 15 refinement", "item_keys": ["DEMO-12", "DEMO-14", "DEMO-15"]},
                {
                    "item_keys": ["DEMO-12"],
                    "scale": "custom",
                    "cards": [
                        {"label": "small", "points": 2},
                        {"label": "medium", "points": 5},
                        {"label": "large", "points": 13},
                    ],
                },
            ]
        },
    )


class VoteWrite(Input):
    card: CardLabel = Field(
        description="The label of a card of the session's deck (`scale.cards`).", examples=["5"]
    )


class FinalizeWrite(Input):
    estimate: Estimate = Field(
        description="The estimate to write to the item, in points (a value of the project's "
        "estimate scale; usually what the team agreed on at the reveal)."
    )


class EstimationFilters(BaseModel):
    """What a list of sessions is narrowed to (the list's query parameters)."""

    model_config = ConfigDict(frozen=True)

    state: SessionState | None = None


# Answers ---------------------------------------------------------------------------------------


class DeckCardRead(BaseModel):
    label: str = Field(examples=["5"])
    points: float | None = Field(description='Null for the "?" card.', examples=[5])


class ScaleRead(BaseModel):
    kind: ScaleKind
    cards: list[DeckCardRead] = Field(description="The deck, lowest first.")


# The schema component is named for the deck (retros have cards too); the module's code keeps
# the short name.
CardRead = DeckCardRead


class VoterRead(BaseModel):
    user: UserSummary
    voted_at: datetime = Field(description="When they last chose a card in this round.")


class PokerVoteRead(BaseModel):
    voter: UserSummary
    card: str = Field(examples=["5"])
    points: float | None = Field(description='Null for "?".', examples=[5])
    voted_at: datetime


# Named for planning poker (retros have votes too); the module's code keeps the short name.
VoteRead = PokerVoteRead


class SpreadRead(BaseModel):
    """How far the cards of a revealed round are apart. `min`, `max`, `median` and `mode` count
    only cards with points; `agreement` counts every vote."""

    votes: int = Field(description="Cards played, `?` included.", examples=[5])
    unsure: int = Field(description='How many played "?".', examples=[0])
    min: float | None = Field(examples=[3])
    max: float | None = Field(examples=[8])
    median: float | None = Field(
        description="The nearest-rank median of the points (the ⌈n/2⌉-th smallest): always "
        "a card someone played.",
        examples=[5],
    )
    mode: float | None = Field(
        description="The points played most often; on a tie, the larger.", examples=[5]
    )
    agreement: float | None = Field(
        description="The share of all votes (`?` included) that played the mode, 0 to 1; 1 "
        "is consensus. Null with no vote with points.",
        examples=[0.6],
    )


class CalibrationRead(BaseModel):
    """How long the project's finished items of one estimate took: cycle time = finished -
    started (METRICS.md), in days, over items in a `done` status, outside the trash, with that
    estimate now."""

    points: float = Field(examples=[5])
    label: str = Field(description="The deck's card for these points.", examples=["5"])
    finished_items: int = Field(description="How many items the figures come from.")
    median_cycle_days: float | None = Field(
        description="Nearest-rank median cycle time in days (null with no item).",
        examples=[3.2],
    )
    p85_cycle_days: float | None = Field(
        description="Nearest-rank 85th-percentile cycle time in days: 85 % of these items "
        "finished within it.",
        examples=[6.9],
    )
    overlaps_next: bool | None = Field(
        description="True when this value's 85th percentile reaches the median of the next "
        "larger value with at least 3 finished items (p85 ≥ that median; values with fewer "
        "are skipped): past items of the two estimates took about as long, so the scale isn't "
        "telling them apart. Null when this value has fewer than 3 finished items, or no "
        "larger value has 3.",
    )


class RoundRead(BaseModel):
    number: int = Field(description="1 for the first round of the item; a reset opens the next.")
    revealed: bool
    started_at: datetime
    revealed_at: datetime | None
    reset_at: datetime | None = Field(description="When a reset closed it (null if it didn't).")
    voters: list[VoterRead] = Field(
        description="Who has voted, without the cards (what everyone sees before the reveal)."
    )
    my_card: str | None = Field(
        description="Your own card in this round (null if you haven't voted)."
    )
    votes: list[PokerVoteRead] | None = Field(
        description="Every card, once the round is revealed; null before (and for a round "
        "reset before its reveal: its cards are never shown)."
    )
    spread: SpreadRead | None = Field(description="Once revealed.")
    calibration: list[CalibrationRead] | None = Field(
        description="Once revealed: as the project's finished items stood at the reveal, one "
        "entry per card with points."
    )


class EstimationItemSummary(BaseModel):
    item_key: str = Field(examples=["DEMO-12"])
    title: str
    position: int = Field(description="Its place in the session, from 1.")
    state: ItemState
    round: int = Field(description="The current round's number (0 until the item is reached).")
    votes_cast: int = Field(description="Votes in the current round.")
    estimate: float | None = Field(description="The estimate written at finalize.")


class EstimationItemRead(EstimationItemSummary):
    estimated_at: datetime | None
    estimated_by: UserSummary | None
    rounds: list[RoundRead] = Field(description="Every round, the first first.")


class EstimationSummary(BaseModel):
    id: str
    project_key: str
    title: str
    state: SessionState
    facilitator: UserSummary | None
    scale: ScaleKind
    items: int = Field(description="How many items the session covers.")
    estimated: int = Field(description="How many of them are finalized.")
    current_item_key: str | None = Field(description="The item up now (null once finished).")
    created_at: datetime
    finished_at: datetime | None


class EstimationRead(BaseModel):
    id: str
    project_key: str
    title: str
    state: SessionState
    facilitator: UserSummary | None = Field(
        description="Who created the session and runs it (project admins may act as well)."
    )
    can_facilitate: bool = Field(
        description="You may run this session: reveal a round, reset it for a re-vote, "
        "finalize an item, end the session (its facilitator, or a project admin with a token "
        "of admin scope; never with a read-only token). Says who you are, not what the "
        "session's state allows now."
    )
    scale: ScaleRead
    participants: list[UserSummary] = Field(description="Who votes.")
    items: list[EstimationItemSummary] = Field(description="The items, in order.")
    current_item_key: str | None = Field(description="The item up now (null once finished).")
    current: EstimationItemRead | None = Field(
        description="The item up now, with its rounds (null once finished)."
    )
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    version: int = Field(description="Changes on every write (a vote too); the ETag carries it.")
