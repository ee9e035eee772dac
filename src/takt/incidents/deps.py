"""`IncidentContextDep`: the incident in the path, found only inside a project the caller
sees."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from takt.auth.deps import CurrentPrincipal
from takt.core.deps import SessionDep
from takt.incidents import repository as repo
from takt.incidents.service import IncidentContext
from takt.projects.service import load_in_project

IncidentIdPath = Annotated[str, Path(min_length=1, max_length=36, description="The incident's id.")]


async def get_incident_context(
    incident_id: IncidentIdPath, principal: CurrentPrincipal, session: SessionDep
) -> IncidentContext:
    found = await load_in_project(
        session, principal, repo.INCIDENT_BY_ID, incident_id, missing="No such incident."
    )
    environment, opened_by = found.extras
    return IncidentContext(
        access=found.access, incident=found.child, environment=environment, opened_by=opened_by
    )


IncidentContextDep = Annotated[IncidentContext, Depends(get_incident_context)]
