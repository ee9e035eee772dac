"""The events of incidents: the catalogue's `incident.*`."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from takt.core.events import EventChanges, EventData


class IncidentEvent(EventData):
    """What every incident event carries (no type of its own)."""

    id: str
    number: int = Field(examples=[3])
    title: str = Field(examples=["Checkout returns 500"])
    severity: str = Field(description="`sev1` (worst) to `sev4`.")
    state: str = Field(description="`open` or `resolved`.")
    environment_id: str
    environment: str = Field(examples=["production"])
    caused_by_deployment_id: str | None = None
    fixed_by_deployment_id: str | None = None
    opened_at: str | None = Field(
        None, description="When it began (RFC 3339; may be earlier than the event, back-dated)."
    )


class IncidentOpened(IncidentEvent):
    """An incident was opened."""

    event_type: ClassVar[str] = "incident.opened"


class IncidentChanges(EventChanges):
    title: tuple[str, str] | None = None
    severity: tuple[str, str] | None = None
    caused_by_deployment_id: tuple[str | None, str | None] | None = None
    fixed_by_deployment_id: tuple[str | None, str | None] | None = None
    state: tuple[str, str] | None = None
    description: tuple[str, str] | None = None
    environment: tuple[str, str] | None = Field(None, description="Environment names.")
    opened_at: tuple[str, str] | None = Field(None, description="RFC 3339 times.")
    resolved_at: tuple[str | None, str | None] | None = Field(
        None, description="RFC 3339 times; null while open."
    )


class IncidentUpdated(IncidentEvent):
    """An incident's title, severity, description, environment, start or linked deployments
    changed (a change of state is `incident.resolved` or `incident.reopened`)."""

    event_type: ClassVar[str] = "incident.updated"
    changes_model: ClassVar[type[EventChanges] | None] = IncidentChanges


class IncidentResolved(IncidentEvent):
    """An incident was resolved; `resolved_at` ends its failed deployment's recovery time."""

    event_type: ClassVar[str] = "incident.resolved"
    changes_model: ClassVar[type[EventChanges] | None] = IncidentChanges
    resolved_at: str = Field(description="When it was resolved (RFC 3339).")


class IncidentReopened(IncidentEvent):
    """A resolved incident was opened again."""

    event_type: ClassVar[str] = "incident.reopened"
    changes_model: ClassVar[type[EventChanges] | None] = IncidentChanges
