"""`SprintContextDep`: the sprint in the path, found only inside a project the caller sees."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from takt.auth.deps import CurrentPrincipal
from takt.core.deps import SessionDep
from takt.projects.service import load_in_project
from takt.sprints import repository as repo
from takt.sprints.service import SprintContext

SprintIdPath = Annotated[str, Path(min_length=1, max_length=36, description="The sprint's id.")]


async def get_sprint_context(
    sprint_id: SprintIdPath, principal: CurrentPrincipal, session: SessionDep
) -> SprintContext:
    found = await load_in_project(
        session, principal, repo.SPRINT_BY_ID, sprint_id, missing="No such sprint."
    )
    return SprintContext(access=found.access, sprint=found.child)


SprintContextDep = Annotated[SprintContext, Depends(get_sprint_context)]
