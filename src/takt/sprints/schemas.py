"""Shapes of sprints, capacity, reports, burndown, velocity and forecasts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from typing_extensions import TypeAliasType

from takt.auth.schemas import UserSummary
from takt.core.bounds import CalendarDate
from takt.core.schemas import NOT_NULL, Input
from takt.items.schemas import ItemKey

SprintState = TypeAliasType("SprintState", Literal["planned", "active", "completed", "cancelled"])
ScopeChangeKind = TypeAliasType("ScopeChangeKind", Literal["added", "removed"])


class SprintCreate(Input):
    name: str = Field(min_length=1, max_length=100, examples=["Sprint 14"])
    goal: str = Field("", max_length=2000, description="What the sprint is for.")
    start_date: CalendarDate | None = Field(
        None,
        description="Default: the day after the project's last sprint ends, or today in the "
        "project's zone if that is later (or there is no sprint yet). 1970-01-01 to 9000-12-31.",
    )
    end_date: CalendarDate | None = Field(
        None,
        description="Default: start + the project's sprint length - 1 day. A sprint lasts at most "
        "366 days.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> SprintCreate:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Sprint 14",
                    "goal": "Card payments live in the EU",
                    "start_date": "2026-12-01",
                    "end_date": "2026-12-14",
                }
            ]
        },
    )


class SprintFilters(BaseModel):
    """What a list of sprints is narrowed to (the list's query parameters)."""

    model_config = ConfigDict(frozen=True)

    state: SprintState | None = None


class SprintUpdate(Input):
    name: Annotated[str | None, NOT_NULL] = Field(None, min_length=1, max_length=100)
    goal: Annotated[str | None, NOT_NULL] = Field(None, max_length=2000)
    start_date: Annotated[CalendarDate | None, NOT_NULL] = None
    end_date: Annotated[CalendarDate | None, NOT_NULL] = None


class Tally(BaseModel):
    items: int
    points: float


class SprintReport(BaseModel):
    """Frozen when the sprint completes (definitions in docs/metrics.md)."""

    committed: Tally = Field(description="Items and points at start, with estimates at start.")
    completed: Tally = Field(description="Done at completion, including items added later.")
    added: Tally = Field(description="Joined after the start (estimate when they joined).")
    removed: Tally = Field(description="Left after the start (estimate when they left).")
    carried_over: Tally = Field(description="Not done at completion, moved on.")
    say_do_ratio: float | None = Field(description="Committed-and-done points / committed.")
    scope_change: float | None = Field(description="(added - removed points) / committed.")
    carry_over_rate: float | None = Field(description="Carried-over points / committed.")
    unestimated: int = Field(description="Items counted with 0 points because unestimated.")
    person_days: float = Field(description="Team availability in the sprint (capacity).")
    carried_over_to: str | None = Field(description="`backlog` or the sprint id they went to.")


ProductionMark = TypeAliasType(
    "ProductionMark", Literal["in production", "done, not yet in production"]
)


class ReviewItem(BaseModel):
    """A done item of the sprint, marked by whether it reached production."""

    key: str = Field(examples=["API-42"])
    title: str
    type: str = Field(description="`epic`, `story`, `task`, `bug` or `spike`.")
    estimate: float | None
    status: str = Field(description="Its status (one of the done category).", examples=["Done"])
    production: ProductionMark = Field(
        description="`in production` once a successful deployment to an environment of type "
        "`production` shipped it, else `done, not yet in production`."
    )
    in_production_since: datetime | None = Field(
        description="When the first such deployment succeeded; null if none did."
    )


class SprintReview(BaseModel):
    """The sprint's done items for its review, each marked "in production" or "done, not yet in
    production" (now, not frozen at completion)."""

    sprint_id: str
    name: str
    state: SprintState
    done: int = Field(description="Done items in the sprint.", examples=[12])
    in_production: int = Field(description="Of them, in production.", examples=[9])
    not_in_production: int = Field(description="Of them, done but not yet in production.")
    items: list[ReviewItem] = Field(
        description="By rank; the first 500 when there are more (`truncated`)."
    )
    truncated: bool = Field(description="Whether `items` stops before the last done item.")


class Commitment(BaseModel):
    items: int
    points: float
    keys: list[str]


class SprintRead(BaseModel):
    id: str
    project_key: str
    name: str
    goal: str
    start_date: date
    end_date: date
    state: SprintState
    started_at: datetime | None
    completed_at: datetime | None
    commitment: Commitment | None = Field(description="Frozen at start; null before.")
    report: SprintReport | None = Field(description="Frozen at completion; null before.")
    created_at: datetime
    updated_at: datetime
    version: int


class ScopeAdd(Input):
    item_keys: Annotated[list[ItemKey], Field(min_length=1, max_length=100)]

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"item_keys": ["API-7", "API-9"]}]}
    )


class CompleteRequest(Input):
    carry_over_to: str = Field(
        "backlog",
        max_length=36,
        description="`backlog`, `next` (the next planned sprint, created if none) or a sprint id.",
    )

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"carry_over_to": "next"}]}
    )


class CapacityUpdate(Input):
    allocation: float = Field(1.0, ge=0, le=1, description="Share of time on this sprint.")
    absent_days: Annotated[list[CalendarDate], Field(max_length=90)] = Field(
        default_factory=list, description="Dates off (only working days in the sprint count)."
    )


class MemberCapacity(BaseModel):
    user: UserSummary
    allocation: float
    absent_days: list[date]
    working_days: int = Field(description="Working days in the sprint.")
    available_days: float = Field(description="(working - absent) x allocation.")


class PointsCapacity(BaseModel):
    points: float | None = Field(description="Null when there is no completed sprint to go by.")
    mean_velocity: float | None
    mean_person_days: float | None
    based_on: list[str] = Field(description="Ids of the completed sprints used (up to 3).")
    reason: str | None = Field(None, description="Why `points` is null.")


class Capacity(BaseModel):
    sprint_id: str
    working_days: list[date]
    members: list[MemberCapacity]
    person_days: float
    points: PointsCapacity


class ScopeChange(BaseModel):
    key: str
    change: ScopeChangeKind
    estimate: float | None
    at: datetime


class BurndownDay(BaseModel):
    """One working day of the sprint. Days not measured yet (after today, or after the sprint
    ended early) carry the ideal line and null actuals."""

    date: date
    remaining_points: float | None
    remaining_items: int | None
    completed_points: float | None
    completed_items: int | None
    scope_points: float | None
    scope_items: int | None
    ideal_points: float = Field(
        description="R(start) x (1 - k/K): k the day's index, K the sprint's working days."
    )
    scope_changes: list[ScopeChange]


class Burndown(BaseModel):
    """Burndown and burnup in one: remaining, completed and scope per working day."""

    sprint_id: str
    start_date: date
    end_date: date
    days: list[BurndownDay]
    unestimated_items: int = Field(description="Items in scope counted as 0 points.")


class VelocitySprint(BaseModel):
    id: str
    name: str
    start_date: date
    end_date: date
    committed_points: float
    completed_points: float


class Velocity(BaseModel):
    sprints: list[VelocitySprint] = Field(description="Most recent first.")
    mean: float | None
    std_dev: float | None = Field(description="Sample standard deviation (n - 1).")


class History(BaseModel):
    working_days: int = Field(description="Days of throughput history used (zero days included).")
    first_day: date | None
    last_day: date | None
    finished_items: int


class SprintForecast(BaseModel):
    sprint_id: str
    remaining_items: int
    working_days_left: int
    probability: float = Field(description="Share of trials finishing by the sprint's end.")
    trials: int
    history: History


# A forecast of more items than this is beyond any plan; the horizon bounds the work anyway.
MAX_FORECAST_ITEMS = 10_000


class ForecastRequest(Input):
    item_count: int | None = Field(
        None, ge=1, le=MAX_FORECAST_ITEMS, description="How many items (at most 10,000)."
    )
    item_keys: Annotated[list[ItemKey], Field(max_length=1000)] | None = None
    window: int = Field(60, ge=10, le=500, description="Working days of history to use.")

    @model_validator(mode="after")
    def _one(self) -> ForecastRequest:
        if (self.item_count is None) == (self.item_keys is None):
            raise ValueError("give exactly one of item_count, item_keys")
        return self

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"item_count": 20}]})


class ForecastDates(BaseModel):
    """Null where that share of the trials had not finished within the forecast's horizon
    (2,600 working days, about ten years): no date that far out would mean anything."""

    p50: date | None = Field(description="50 % chance of finishing on or before.")
    p85: date | None = Field(description="85 % chance of finishing on or before.")
    p95: date | None = Field(description="95 % chance of finishing on or before.")


class ProjectForecast(BaseModel):
    items: int = Field(description="Items still to finish.")
    finish: ForecastDates | None = Field(description="Null when nothing is left to do.")
    trials: int
    history: History
