"""Shapes of blockers, what they wait on, their filters, suggestions and promotion to a risk."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypeAliasType

from takt.auth.schemas import UserSummary
from takt.core.bounds import CalendarDate
from takt.core.schemas import NOT_BLANK, NOT_NULL, Input
from takt.items.schemas import ItemKey, Markdown, UserRef
from takt.risks.schemas import Level, RiskTitle

BlockerState = TypeAliasType("BlockerState", Literal["open", "resolved"])
WaitingOnKind = TypeAliasType("WaitingOnKind", Literal["person", "team", "external", "item"])
Reason = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2000, strip_whitespace=True, pattern=NOT_BLANK),
    Field(
        description="Why the work is stuck (up to 2,000 characters).",
        examples=["The processor's sandbox rejects every 3-D Secure challenge"],
    ),
]
PartyName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, strip_whitespace=True, pattern=NOT_BLANK),
    Field(examples=["Stripe support"]),
]


class WaitingOnPerson(Input):
    kind: Literal["person"]
    user: UserRef = Field(description="A member of the project, by username or id.")


class WaitingOnTeam(Input):
    kind: Literal["team"]
    name: PartyName = Field(description="The team's name.", examples=["Platform team"])


class WaitingOnExternal(Input):
    kind: Literal["external"]
    name: PartyName = Field(description="Who outside the company.", examples=["Stripe support"])


class WaitingOnItem(Input):
    kind: Literal["item"]
    item_key: ItemKey = Field(description="Another item of the project that must finish first.")


WaitingOn = Annotated[
    WaitingOnPerson | WaitingOnTeam | WaitingOnExternal | WaitingOnItem,
    Field(
        discriminator="kind",
        description="Whom or what the blocker waits on: `person` (a `user`), `team` or "
        "`external` (a `name`), or `item` (an `item_key`).",
    ),
]


class BlockerCreate(Input):
    item_key: ItemKey = Field(description="The blocked item, of this project.")
    reason: Reason
    waiting_on: WaitingOn

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "item_key": "DEMO-12",
                    "reason": "The processor's sandbox rejects every 3-D Secure challenge",
                    "waiting_on": {"kind": "external", "name": "Stripe support"},
                }
            ]
        },
    )


class BlockerUpdate(Input):
    """Change why, or whom or what it waits on, while it is open."""

    reason: Annotated[Reason | None, NOT_NULL] = None
    waiting_on: Annotated[WaitingOn | None, NOT_NULL] = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"waiting_on": {"kind": "person", "user": "maya"}}]},
    )


class BlockerResolve(Input):
    resolution: str = Field(
        "", max_length=2000, description="How it was unblocked (optional).", examples=["Fixed"]
    )


class PromoteRequest(Input):
    """Everything is optional: by default the risk is rated from the blocker (see the guide)."""

    title: Annotated[RiskTitle | None, NOT_NULL] = Field(
        None, description="Default: `<item key> blocked: <reason>`, cut to 255 characters."
    )
    description: Annotated[Markdown | None, NOT_NULL] = Field(
        None, description="Default: the reason and whom or what it waits on."
    )
    likelihood: Annotated[Level | None, NOT_NULL] = Field(
        None,
        description="Default from the blocker's age in working days of the project: up to 1 "
        "→ 2, up to 2 → 3, up to 5 → 4, more → 5.",
    )
    impact: Annotated[Level | None, NOT_NULL] = Field(
        None,
        description="Default from the share of the active sprint's points the blocked item "
        "(with its children) holds unfinished: none → 1, up to 10 % → 2, up to 25 % → 3, up "
        "to 50 % → 4, more → 5.",
    )
    owner: UserRef | None = Field(
        None, description="Default: who promotes it, if a member who can write; else nobody."
    )
    mitigation: Annotated[Markdown | None, NOT_NULL] = None
    review_date: CalendarDate | None = None

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"impact": 4, "owner": "maya"}]}
    )


class BlockerFilters(BaseModel):
    """What a list of blockers is narrowed to (the list's query parameters)."""

    model_config = ConfigDict(frozen=True)

    state: BlockerState | None = None
    item: str | None = None
    waiting_on: WaitingOnKind | None = None
    older_than_hours: float | None = None
    raised_by: str | None = None


class WaitingOnRead(BaseModel):
    kind: WaitingOnKind
    user: UserSummary | None = Field(description="Set for `person`.")
    name: str | None = Field(description="Set for `team` and `external`.")
    item_key: str | None = Field(description="Set for `item`.")


class BlockerRead(BaseModel):
    id: str
    project_key: str
    item_key: str = Field(description="The blocked item.", examples=["API-42"])
    reason: str
    waiting_on: WaitingOnRead
    status: BlockerState
    raised_by: UserSummary | None
    raised_at: datetime
    resolved_by: UserSummary | None
    resolved_at: datetime | None
    resolution: str
    age_working_hours: float = Field(
        description="Working hours of the project's calendar (its time zone, working days and "
        "`workday_start`-`workday_end`) from `raised_at` to now, or to `resolved_at` once "
        "resolved.",
        examples=[11.5],
    )
    escalated: bool = Field(
        description="Older than the project's `blocker_escalation_hours`, and escalated."
    )
    escalated_at: datetime | None
    risk_id: str | None = Field(description="The risk it was promoted to, if any.")
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Changes on every write; the ETag carries it.")


class BlockerSuggestion(BaseModel):
    """An unfinished item linked `blocked_by` an unfinished item, with no open blocker waiting
    on that item: raise it by posting `body` to `POST /projects/{key}/blockers`, if it really
    blocks the work. Nothing is raised until then."""

    item_key: str = Field(description="The item that is blocked.", examples=["API-42"])
    blocked_by: str = Field(description="The unfinished item it waits on.", examples=["API-7"])
    link_created_at: datetime = Field(description="When the two were linked.")
    body: BlockerCreate = Field(description="The request that raises it, to send as it is.")
