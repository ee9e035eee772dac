"""Shapes of risks, their filters and the 5x5 matrix."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypeAliasType

from takt.auth.schemas import UserSummary
from takt.core.bounds import CalendarDate
from takt.core.schemas import NOT_BLANK, NOT_NULL, Input
from takt.items.schemas import ItemKey, Markdown, UserRef

RiskStatus = TypeAliasType("RiskStatus", Literal["open", "mitigating", "closed", "occurred"])
Severity = TypeAliasType("Severity", Literal["low", "medium", "high", "critical"])
Level = Annotated[int, Field(ge=1, le=5, examples=[3])]
RiskTitle = Annotated[
    str,
    StringConstraints(min_length=1, max_length=255, strip_whitespace=True, pattern=NOT_BLANK),
    Field(examples=["The card processor's sandbox may not be ready for the 3-D Secure tests"]),
]
SprintId = Annotated[str, Field(min_length=1, max_length=36, description="A sprint's id.")]
ItemKeys = Annotated[
    list[ItemKey],
    Field(max_length=100, description="Keys of the project's items the risk threatens."),
]
SprintIds = Annotated[
    list[SprintId],
    Field(max_length=20, description="Ids of the project's sprints the risk threatens."),
]

LIKELIHOOD_DOC = "How likely it is to happen, 1 (rare) to 5 (almost certain)."
IMPACT_DOC = "How bad it would be, 1 (negligible) to 5 (severe)."
SEVERITY_DOC = (
    "The band of `score` (likelihood x impact): 1-4 low, 5-9 medium, 10-16 high, 20-25 critical."
)


class RiskFields(Input):
    """Fields of a risk a client may set; the server owns score, severity and timestamps."""

    title: Annotated[RiskTitle | None, NOT_NULL] = None
    description: Annotated[Markdown | None, NOT_NULL] = None
    likelihood: Annotated[Level | None, NOT_NULL] = Field(None, description=LIKELIHOOD_DOC)
    impact: Annotated[Level | None, NOT_NULL] = Field(None, description=IMPACT_DOC)
    owner: UserRef | None = Field(
        None,
        description="Who watches the risk: a member of the project who can write (not a "
        "viewer), by username or id; null: nobody yet.",
    )
    mitigation: Annotated[Markdown | None, NOT_NULL] = Field(
        None, description="What is done to make it less likely or less bad."
    )
    status: Annotated[RiskStatus | None, NOT_NULL] = Field(
        None,
        description="`open`, `mitigating` (being worked on), `closed` (no longer a threat) or "
        "`occurred` (it happened).",
    )
    review_date: CalendarDate | None = Field(
        None, description="When to look at it again; past it (and not closed) it is `overdue`."
    )
    item_keys: Annotated[ItemKeys | None, NOT_NULL] = None
    sprint_ids: Annotated[SprintIds | None, NOT_NULL] = None


class RiskCreate(RiskFields):
    title: RiskTitle
    likelihood: Level = Field(description=LIKELIHOOD_DOC)
    impact: Level = Field(description=IMPACT_DOC)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "The processor's sandbox may not be ready for 3-D Secure tests",
                    "likelihood": 3,
                    "impact": 4,
                    "owner": "maya",
                    "mitigation": "Ask the processor for a date; mock the challenge flow.",
                    "review_date": "2026-12-04",
                    "item_keys": ["DEMO-12"],
                }
            ]
        },
    )


class RiskUpdate(RiskFields):
    """Only the fields you send change; send null to clear `owner` or `review_date`. A list
    sent replaces the list."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"status": "mitigating", "likelihood": 2}]},
    )


class RiskFilters(BaseModel):
    """What a list of risks is narrowed to (the list's query parameters)."""

    model_config = ConfigDict(frozen=True)

    status: RiskStatus | None = None
    severity: Severity | None = None
    overdue: bool | None = None
    owner: str | None = None
    item: str | None = None
    sprint_id: str | None = None


class RiskRead(BaseModel):
    id: str
    project_key: str
    title: str
    description: str
    likelihood: int = Field(description=LIKELIHOOD_DOC)
    impact: int = Field(description=IMPACT_DOC)
    score: int = Field(description="likelihood x impact, 1 to 25.", examples=[12])
    severity: Severity = Field(description=SEVERITY_DOC)
    owner: UserSummary | None
    mitigation: str
    status: RiskStatus
    review_date: date | None
    overdue: bool = Field(
        description="The review date has passed (in the project's time zone) and the risk is "
        "not closed."
    )
    item_keys: list[str] = Field(description="The items it threatens (those not in the trash).")
    sprint_ids: list[str] = Field(description="The sprints it threatens.")
    blocker_id: str | None = Field(
        description="The blocker it was promoted from (`POST /blockers/{id}/promote`), if any."
    )
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Changes on every write; the ETag carries it.")


class RiskMatrix(BaseModel):
    """Open risks (status `open` or `mitigating`) counted by likelihood and impact."""

    counts: list[list[int]] = Field(
        description="5 rows of 5 counts: `counts[likelihood - 1][impact - 1]`.",
        examples=[[[0, 0, 1, 0, 0]] * 5],
    )
    by_severity: dict[Severity, int] = Field(
        description="The same risks by severity band.",
        examples=[{"low": 2, "medium": 1, "high": 1, "critical": 0}],
    )
    total: int = Field(description="Open risks counted.")
