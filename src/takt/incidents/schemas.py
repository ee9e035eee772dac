"""Shapes of incidents: what a client sends to open or change one, what it reads back, and the
list's filters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypeAliasType

from takt.auth.schemas import UserSummary
from takt.core.bounds import Instant
from takt.core.schemas import NOT_BLANK, NOT_NULL, Input
from takt.items.schemas import Markdown

IncidentSeverity = TypeAliasType("IncidentSeverity", Literal["sev1", "sev2", "sev3", "sev4"])
IncidentState = TypeAliasType("IncidentState", Literal["open", "resolved"])

SEVERITY_DOC = "`sev1` (worst: the service is down for everyone) to `sev4` (minor)."
ENVIRONMENT_DOC = (
    "Where it happened: the name (any case) or the id of one of the project's environments."
)
CAUSED_BY_DOC = (
    "The deployment that caused it (an id; a deployment of this project to the incident's "
    "environment). Linking it marks that deployment failed from `opened_at` (change failure "
    "rate); resolving the incident restores it (recovery time). Null: no known cause."
)
FIXED_BY_DOC = (
    "The deployment that fixed it (an id; a deployment of this project to the incident's "
    "environment, not the one that caused it). Null: none recorded."
)
OPENED_AT_DOC = (
    "When it began. Default: now. May be earlier (back-dated), never in the future; from "
    "1970 to 9000."
)
RESOLVED_AT_DOC = (
    "When service was restored. Default, on resolving: now. Not before `opened_at` nor in the "
    "future. Giving it resolves the incident."
)

IncidentTitle = Annotated[
    str,
    StringConstraints(min_length=1, max_length=255, strip_whitespace=True, pattern=NOT_BLANK),
    Field(examples=["Checkout returns 500 for card payments"]),
]
EnvironmentRef = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, strip_whitespace=True, pattern=NOT_BLANK),
    Field(description=ENVIRONMENT_DOC, examples=["production"]),
]
DeploymentId = Annotated[str, Field(min_length=1, max_length=36, description="A deployment's id.")]


class IncidentCreate(Input):
    title: IncidentTitle
    description: Markdown = Field("", description="What happened and its impact; Markdown.")
    severity: IncidentSeverity = Field(description=SEVERITY_DOC)
    environment: EnvironmentRef | None = Field(
        None,
        description=ENVIRONMENT_DOC + " May be left out when `caused_by_deployment_id` is "
        "given: the incident is then in that deployment's environment.",
    )
    opened_at: Instant | None = Field(None, description=OPENED_AT_DOC)
    state: IncidentState | None = Field(
        None,
        description="`open` (the default) or `resolved` (recording an incident that is over; "
        "`resolved_at` defaults to now).",
    )
    resolved_at: Instant | None = Field(None, description=RESOLVED_AT_DOC)
    caused_by_deployment_id: DeploymentId | None = Field(None, description=CAUSED_BY_DOC)
    fixed_by_deployment_id: DeploymentId | None = Field(None, description=FIXED_BY_DOC)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Checkout returns 500 for card payments",
                    "severity": "sev2",
                    "environment": "production",
                    "caused_by_deployment_id": "0b6f9f7e-2f6c-4d43-9c55-0c8d1f7a1e21",
                }
            ]
        },
    )


class IncidentUpdate(Input):
    """What a PATCH changes: only the fields sent. `state: resolved` resolves it (at
    `resolved_at`, default now); `state: open` reopens it and clears `resolved_at`. A link set
    to null is removed."""

    title: Annotated[IncidentTitle | None, NOT_NULL] = None
    description: Annotated[Markdown | None, NOT_NULL] = None
    severity: Annotated[IncidentSeverity | None, NOT_NULL] = Field(None, description=SEVERITY_DOC)
    environment: Annotated[EnvironmentRef | None, NOT_NULL] = None
    opened_at: Annotated[Instant | None, NOT_NULL] = Field(None, description=OPENED_AT_DOC)
    state: Annotated[IncidentState | None, NOT_NULL] = Field(
        None, description="`resolved` resolves it; `open` reopens it (clears `resolved_at`)."
    )
    resolved_at: Annotated[Instant | None, NOT_NULL] = Field(None, description=RESOLVED_AT_DOC)
    caused_by_deployment_id: DeploymentId | None = Field(None, description=CAUSED_BY_DOC)
    fixed_by_deployment_id: DeploymentId | None = Field(None, description=FIXED_BY_DOC)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "state": "resolved",
                    "fixed_by_deployment_id": "5d1c3a52-8d0e-4b1f-a6a4-9f0e2b7c4d10",
                }
            ]
        },
    )


class IncidentFilters(BaseModel):
    """What a list of incidents is narrowed to (the list's query parameters)."""

    model_config = ConfigDict(frozen=True)

    state: IncidentState | None = None
    severity: IncidentSeverity | None = None
    environment: str | None = None
    deployment_id: str | None = None


class IncidentRead(BaseModel):
    id: str
    project_key: str
    number: int = Field(description="Numbered per project: 1, 2, … (shown as INC-1).")
    title: str
    description: str = Field(description="Markdown.")
    severity: IncidentSeverity = Field(description=SEVERITY_DOC)
    state: IncidentState
    environment_id: str
    environment: str = Field(description="The environment's name.", examples=["production"])
    opened_at: datetime = Field(description="When it began.")
    resolved_at: datetime | None = Field(description="When it was resolved; null while open.")
    caused_by_deployment_id: str | None = Field(description="The deployment that caused it.")
    fixed_by_deployment_id: str | None = Field(description="The deployment that fixed it.")
    opened_by: UserSummary | None = Field(description="Who opened it (null: a deleted account).")
    created_at: datetime
    updated_at: datetime
    version: int
