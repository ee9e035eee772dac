"""Incident rows to the API's response shapes: the one place an `Incident` becomes an
`IncidentRead`."""

from __future__ import annotations

from takt.auth.schemas import UserSummary
from takt.incidents.schemas import IncidentRead
from takt.incidents.service import Person, ShownIncident


def _person(person: Person | None) -> UserSummary | None:
    if person is None:
        return None
    return UserSummary(id=person.id, username=person.username, display_name=person.display_name)


def incident_read(shown: ShownIncident, project_key: str) -> IncidentRead:
    """The incident as the API shows it."""
    incident = shown.incident
    return IncidentRead.model_validate(
        {
            "id": incident.id,
            "project_key": project_key,
            "number": incident.number,
            "title": incident.title,
            "description": incident.description,
            "severity": incident.severity,
            "state": incident.state,
            "environment_id": shown.environment.id,
            "environment": shown.environment.name,
            "opened_at": incident.opened_at,
            "resolved_at": incident.resolved_at,
            "caused_by_deployment_id": incident.caused_by_deployment_id,
            "fixed_by_deployment_id": incident.fixed_by_deployment_id,
            "opened_by": _person(shown.opened_by),
            "created_at": incident.created_at,
            "updated_at": incident.updated_at,
            "version": incident.version,
        }
    )
