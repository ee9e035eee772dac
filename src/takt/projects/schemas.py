"""Request and response shapes of projects and members."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from typing_extensions import TypeAliasType

from takt.auth.schemas import PROJECT_KEY_PATTERN, UserSummary
from takt.core.schemas import NOT_BLANK, NOT_NULL, Input

Role = TypeAliasType("Role", Literal["admin", "member", "viewer"])
Weekday = TypeAliasType("Weekday", Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
EstimateScale = TypeAliasType("EstimateScale", Literal["fibonacci", "tshirt"])
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ProjectKey = Annotated[
    str,
    StringConstraints(pattern=PROJECT_KEY_PATTERN),
    Field(
        description="2-10 upper-case letters and digits, starting with a letter; immutable.",
        examples=["API"],
    ),
]
Markdown = Annotated[str, Field(max_length=65536, description="Markdown, up to 64 KiB.")]


def _valid_zone(name: str) -> str:
    if name not in _ZONES:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r}") from exc
    return name


_ZONES = available_timezones()


def _weekdays(days: list[Weekday]) -> list[Weekday]:
    if len(set(days)) != len(days):
        raise ValueError("working days must not repeat")
    return sorted(days, key=WEEKDAYS.index)


TimeZone = Annotated[
    str,
    Field(min_length=1, max_length=64, examples=["Europe/Berlin"]),
    AfterValidator(_valid_zone),
]
WorkingDays = Annotated[
    list[Weekday],
    Field(min_length=1, max_length=7, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_weekdays),
]


def _default_working_days() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


WorkdayTime = Annotated[
    str,
    StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
    Field(description="`HH:MM`, 24-hour, in the project's time zone.", examples=["09:00"]),
]


# The Definition of Ready (PRODUCT.md §4.4, docs/refinement.md): a checklist an item's entries
# are ticked against (`takt.items.readiness`). Items store the ids they have ticked, so an id is
# the entry's identity: it stays when the text is edited, and is never made twice by the server.
MAX_DOR_ENTRIES = 20
DOR_ENTRY_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,31}$"
DorEntryId = Annotated[
    str,
    StringConstraints(pattern=DOR_ENTRY_ID_PATTERN),
    Field(
        description="The entry's id: 1-32 lower-case letters, digits and hyphens; always in an "
        "answer. Leave it out for a new entry and the server makes one; send it back unchanged "
        "when you edit the list, so the entry keeps its ticks on items.",
        examples=["acceptance-criteria"],
    ),
]


def _new_entry_id() -> str:
    return secrets.token_hex(4)


class DorEntry(BaseModel):
    """One entry of the Definition of Ready."""

    model_config = ConfigDict(extra="forbid")

    id: DorEntryId = Field(default_factory=_new_entry_id)
    text: Annotated[
        str,
        StringConstraints(min_length=1, max_length=200, strip_whitespace=True, pattern=NOT_BLANK),
    ] = Field(
        description="What an item must have or be, up to 200 characters.",
        examples=["Acceptance criteria written"],
    )


def _distinct_entry_ids(entries: list[DorEntry]) -> list[DorEntry]:
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise ValueError(f"entry id {entry.id!r} is used twice")
        seen.add(entry.id)
    return entries


DefinitionOfReady = Annotated[
    list[DorEntry],
    Field(
        max_length=MAX_DOR_ENTRIES,
        description="The Definition of Ready: up to 20 entries an item must have ticked "
        "(`PUT /items/{item_key}/readiness`), besides an estimate and a description, to be "
        "`ready`. Setting it replaces the whole list: keep an entry's `id` to keep its ticks; "
        "an entry left out is gone (its ticks no longer count).",
    ),
    AfterValidator(_distinct_entry_ids),
]


class ProjectSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time_zone: TimeZone = Field("UTC", description="IANA time zone of the team's calendar.")
    working_days: WorkingDays = Field(
        default_factory=_default_working_days, description="Days the team works."
    )
    sprint_length_days: int = Field(14, ge=1, le=90, description="Default sprint length.")
    estimate_scale: EstimateScale = Field(
        "fibonacci",
        description="Scale for estimates and planning poker, enforced on every estimate written "
        "(422 estimate-off-scale): fibonacci 0, 0.5, 1, 2, 3, 5, 8, 13, 20, 40, 100; tshirt the "
        "points of XS 1, S 2, M 3, L 5, XL 8, XXL 13 (and 0).",
    )
    workday_start: WorkdayTime = Field(
        "09:00",
        description="When a working day starts (`HH:MM` in the project's time zone). Working "
        "hours, from `workday_start` to `workday_end` on the working days, are what a "
        "blocker's age counts.",
    )
    workday_end: WorkdayTime = Field(
        "17:00", description="When a working day ends; after `workday_start`.", examples=["17:00"]
    )
    blocker_escalation_hours: int = Field(
        16,
        ge=1,
        le=1000,
        description="An open blocker older than this many working hours is escalated, once "
        "(`blocker.escalated`). 16 is two working days of 8 hours.",
    )
    review_automation: bool = Field(
        False,
        description="Pull requests move the items they name (docs/github.md): ready for review "
        "to the first `in_review` status, merged to the first `done` status; never backwards.",
    )
    definition_of_ready: DefinitionOfReady = Field(default_factory=list)

    @model_validator(mode="after")
    def _workday_in_order(self) -> ProjectSettings:
        if self.workday_end <= self.workday_start:  # `HH:MM` strings sort as times
            raise ValueError("workday_end must be after workday_start")
        return self


class ProjectSettingsUpdate(Input):
    time_zone: Annotated[TimeZone | None, NOT_NULL] = None
    working_days: Annotated[WorkingDays | None, NOT_NULL] = None
    sprint_length_days: Annotated[int | None, NOT_NULL] = Field(None, ge=1, le=90)
    estimate_scale: Annotated[EstimateScale | None, NOT_NULL] = None
    workday_start: Annotated[WorkdayTime | None, NOT_NULL] = None
    workday_end: Annotated[WorkdayTime | None, NOT_NULL] = None
    blocker_escalation_hours: Annotated[int | None, NOT_NULL] = Field(None, ge=1, le=1000)
    review_automation: Annotated[bool | None, NOT_NULL] = None
    definition_of_ready: Annotated[DefinitionOfReady | None, NOT_NULL] = None


class ProjectCreate(Input):
    key: ProjectKey
    name: str = Field(min_length=1, max_length=100, examples=["Public API"])
    description: Markdown = ""
    settings: ProjectSettings = Field(default_factory=ProjectSettings)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "key": "API",
                    "name": "Public API",
                    "description": "The REST API team.",
                    "settings": {"time_zone": "Europe/Berlin", "sprint_length_days": 14},
                }
            ]
        },
    )


class ProjectUpdate(Input):
    """Change name, description or settings. The key can't change."""

    name: Annotated[str | None, NOT_NULL] = Field(None, min_length=1, max_length=100)
    description: Annotated[Markdown | None, NOT_NULL] = None
    settings: Annotated[ProjectSettingsUpdate | None, NOT_NULL] = None


class ProjectRead(BaseModel):
    id: str
    key: str
    name: str
    description: str
    settings: ProjectSettings
    role: Role | None = Field(
        description="Your role here; null for an instance admin who is not a member."
    )
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = Field(None, description="Set while the project is deleted.")
    version: int = Field(description="Changes on every write; the ETag carries it.")


class MemberAdd(Input):
    """Name the user by exactly one of `user_id`, `username` or `email`."""

    user_id: str | None = Field(None, max_length=36)
    username: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)
    role: Role = "member"

    @model_validator(mode="after")
    def _exactly_one(self) -> MemberAdd:
        given = [v for v in (self.user_id, self.username, self.email) if v]
        if len(given) != 1:
            raise ValueError("give exactly one of user_id, username, email")
        return self

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"username": "grace", "role": "viewer"}]},
    )


class MemberUpdate(Input):
    role: Role


class MemberRead(BaseModel):
    user: UserSummary
    role: Role
    added_at: datetime
