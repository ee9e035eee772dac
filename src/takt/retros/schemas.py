"""Shapes of retrospectives: the retro, its cards, groups, votes and action items."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypeAliasType

from takt.auth.schemas import UserSummary
from takt.core.bounds import CalendarDate
from takt.core.schemas import NOT_BLANK, NOT_NULL, Input
from takt.items.schemas import Title, UserRef
from takt.workflow.schemas import StatusRef

RetroPhase = TypeAliasType("RetroPhase", Literal["collect", "group", "vote", "discuss", "closed"])
RetroTemplate = TypeAliasType(
    "RetroTemplate",
    Literal["start_stop_continue", "mad_sad_glad", "4ls", "went_well", "custom"],
)
RetroCardKind = TypeAliasType("RetroCardKind", Literal["card", "evidence"])
EvidenceMetric = TypeAliasType(
    "EvidenceMetric",
    Literal["carry_over_rate", "scope_change", "blocker", "review_wait", "failed_deployment"],
)

PHASES_DOC = (
    "`collect` (write cards) → `group` (put cards together) → `vote` (each participant spends "
    "a budget of votes on groups) → `discuss` (groups by votes, action items) → `closed`."
)
RetroId = Annotated[str, Field(min_length=1, max_length=36)]
PromptId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        description="One of the retro's prompts (`prompts[].id`).",
        examples=["start"],
    ),
]
PromptText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, strip_whitespace=True, pattern=NOT_BLANK),
    Field(examples=["What slowed us down?"]),
]
CardText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2000, strip_whitespace=True, pattern=NOT_BLANK),
    Field(
        description="What you want to say (up to 2,000 characters).",
        examples=["Reviews waited two days on average"],
    ),
]
GroupTitle = Annotated[
    str,
    StringConstraints(min_length=1, max_length=255, strip_whitespace=True, pattern=NOT_BLANK),
    Field(description="What the group's cards are about.", examples=["Slow reviews"]),
]
CardIds = Annotated[
    list[RetroId],
    Field(min_length=1, max_length=100, description="Ids of cards of this retro (1 to 100)."),
]
Budget = Annotated[int, Field(ge=1, le=20)]


class RetroCreate(Input):
    title: Annotated[Title | None, NOT_NULL] = Field(
        None,
        description="Default: `Retro: <sprint name>` with a sprint, else `Retro <date>`.",
        examples=["Sprint 12 retro"],
    )
    template: RetroTemplate = Field(
        "start_stop_continue",
        description="The prompts cards are written under: `start_stop_continue` (Start, Stop, "
        "Continue), `mad_sad_glad` (Mad, Sad, Glad), `4ls` (Liked, Learned, Lacked, Longed "
        "for), `went_well` (Went well, To improve, Ideas), or `custom` with `prompts`.",
    )
    prompts: Annotated[list[PromptText] | None, NOT_NULL] = Field(
        None,
        min_length=1,
        max_length=8,
        description="With `template: custom` (and only then): 1 to 8 prompts, in order.",
        examples=[["What helped?", "What got in the way?"]],
    )
    sprint_id: str | None = Field(
        None,
        max_length=36,
        description="A sprint of the project to look back on: the retro then opens with "
        "evidence cards computed from its data.",
    )
    anonymous: bool = Field(
        True,
        description="Cards don't name their author, to anyone, ever (fixed at creation).",
    )
    hide_cards_during_collect: bool = Field(
        True,
        description="During `collect` each participant sees only their own cards. With "
        "`false`, cards show (live, on the event stream) the moment they are written, so "
        "whoever watches someone write can tell which card is theirs.",
    )
    vote_budget: Budget = Field(5, description="Votes each participant may cast (1 to 20).")
    max_votes_per_group: Budget = Field(
        3, description="Votes a participant may put on one group (1 to 20, at most the budget)."
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"title": "Sprint 12 retro", "template": "mad_sad_glad", "sprint_id": "…"}]
        },
    )


class AdvanceRequest(Input):
    """Optional: name the phase you mean to move to, so a second click (or a colleague who
    advanced first) gets 409 instead of skipping a phase."""

    to: RetroPhase | None = Field(None, description="The phase expected next.")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"to": "group"}]})


class CardCreate(Input):
    prompt_id: PromptId
    text: CardText

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"prompt_id": "stop", "text": "Merging on Fridays"}]},
    )


class CardUpdate(Input):
    """Only the card's author, during `collect` and `group`."""

    text: Annotated[CardText | None, NOT_NULL] = None
    prompt_id: Annotated[PromptId | None, NOT_NULL] = None

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "Merging late on Fridays"}]}
    )


class GroupCreate(Input):
    title: GroupTitle
    card_ids: CardIds = Field(description="The cards to put in it (taken out of other groups).")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"title": "Slow reviews", "card_ids": ["…", "…"]}]},
    )


class GroupUpdate(Input):
    """Rename the group, or set its cards: the cards listed move in (out of other groups),
    its cards not listed are outside any group again."""

    title: Annotated[GroupTitle | None, NOT_NULL] = None
    card_ids: Annotated[CardIds | None, NOT_NULL] = None

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"title": "Reviews wait too long"}]}
    )


class VoteCreate(Input):
    group_id: RetroId = Field(description="The group to vote for.")


class ActionCreate(Input):
    title: Title = Field(description="The work item's title.")
    description: Annotated[str | None, NOT_NULL] = Field(
        None,
        max_length=60000,
        description="The item's description (Markdown, up to 60,000 characters); a line "
        "naming the retro is added.",
    )
    owner: UserRef = Field(
        description="Who takes it on: a member of the project who can write (not a viewer), "
        "by username or id; the item's assignee."
    )
    due_date: CalendarDate | None = None
    group_id: RetroId | None = Field(None, description="The group it comes out of, if any.")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Agree on a review turnaround of one working day",
                    "owner": "maya",
                    "due_date": "2026-12-11",
                }
            ]
        },
    )


class RetroFilters(BaseModel):
    model_config = ConfigDict(frozen=True)

    phase: RetroPhase | None = None
    sprint_id: str | None = None


# Answers --------------------------------------------------------------------------------------


class PromptRead(BaseModel):
    id: str = Field(examples=["start"])
    text: str = Field(examples=["Start"])


class EvidenceRead(BaseModel):
    metric: EvidenceMetric = Field(
        description="`carry_over_rate` and `scope_change` (ratios to the commitment, see "
        "docs/metrics.md), `blocker` (one of the sprint's oldest blockers, `value` its age in "
        "working hours), `review_wait` (the median hours to a first review of the pull requests "
        "first reviewed during the sprint), `failed_deployment` (a deployment that failed "
        "during the sprint, `value` the hours until service was restored, null while it is "
        "not)."
    )
    value: float | None = Field(description="The number; null when it can't be computed.")
    source: str = Field(description="Where the number comes from, and how to read it again.")


class RetroCardRead(BaseModel):
    id: str
    retro_id: str
    kind: RetroCardKind = Field(description="`card` (a participant's) or `evidence` (the data's).")
    prompt_id: str | None = Field(description="The prompt it answers; null for evidence.")
    text: str
    group_id: str | None
    mine: bool = Field(description="You wrote it (only you see this; you may edit it).")
    author: UserSummary | None = Field(
        description="Who wrote it: only in a retro that is not anonymous."
    )
    evidence: EvidenceRead | None = Field(description="Set for evidence cards.")
    created_at: datetime | None = Field(
        description="When it was written: null for others' cards of an anonymous retro (the "
        "moment would say whose it is)."
    )
    updated_at: datetime | None = Field(description="When it last changed; null as `created_at`.")
    version: int | None = Field(
        description="What `If-Match` takes (only its author changes it); null as `created_at`."
    )


class GroupRead(BaseModel):
    id: str
    title: str
    card_ids: list[str]
    votes: int | None = Field(
        description="Votes on it: null until the vote phase is over (votes are private)."
    )
    my_votes: int = Field(description="Your votes on it.")
    rank: int | None = Field(
        description="Its place in the discussion (1 = most votes), once votes are public."
    )
    version: int


class RetroVoteRead(BaseModel):
    id: str
    retro_id: str
    group_id: str
    created_at: datetime
    votes_left: int = Field(description="Your budget left after this vote.")
    my_votes_on_group: int = Field(description="Your votes on this group now.")


# The schema components are named for retros (estimation has cards and votes too); the module's
# code keeps the short names.
CardRead = RetroCardRead
VoteRead = RetroVoteRead


class MyVote(BaseModel):
    id: str
    group_id: str


class ActionRead(BaseModel):
    id: str
    retro_id: str
    group_id: str | None
    item_key: str = Field(examples=["DEMO-214"])
    title: str
    status: StatusRef = Field(description="The item's status now.")
    done: bool = Field(description="The item's status is in the `done` category.")
    assignee: UserSummary | None = Field(description="The owner (the item's assignee now).")
    due_date: date | None
    deleted: bool = Field(description="The item is in the trash.")
    created_at: datetime


class RetroSummary(BaseModel):
    id: str
    project_key: str
    title: str
    template: RetroTemplate
    phase: RetroPhase = Field(description=PHASES_DOC)
    sprint_id: str | None
    anonymous: bool
    facilitator: UserSummary | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    version: int


class RetroRead(RetroSummary):
    prompts: list[PromptRead]
    hide_cards_during_collect: bool
    vote_budget: int
    max_votes_per_group: int
    phase_changed_at: datetime
    can_facilitate: bool = Field(description="You may advance it (its creator or an admin).")
    cards: list[RetroCardRead] = Field(
        description="The cards you may see: during `collect` (when it hides cards) only yours "
        "and the evidence; then all of them. The evidence first; then, in an anonymous retro, "
        "by prompt and in an order that says nothing of when they were written; otherwise "
        "oldest first."
    )
    hidden_cards: int = Field(description="Others' cards hidden from you during `collect`.")
    groups: list[GroupRead] = Field(
        description="In creation order; once votes are public, in discussion order."
    )
    my_votes: list[MyVote] = Field(description="Your votes (only you see them).")
    votes_left: int = Field(description="Your budget left.")
    votes_cast: int | None = Field(
        description="Votes cast by everyone, during `vote` and after (never by whom)."
    )
    actions: list[ActionRead] = Field(
        description="This retro's action items, oldest first (at most 100)."
    )
    previous_retro_id: str | None = Field(
        description="The project's retro before this one, whose action items it opens with."
    )
    previous_actions: list[ActionRead] = Field(
        description="The previous retro's action items, each with its item's status now."
    )
