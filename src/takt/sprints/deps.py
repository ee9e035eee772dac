"""`SprintContextDep`: the sprint in the path, visible only through its project."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from takt.auth.deps import CurrentPrincipal
from takt.core.deps import SessionDep
from takt.sprints import service
from takt.sprints.service import SprintContext

SprintIdPath = Annotated[str, Path(min_length=1, max_length=36, description="The sprint's id.")]


async def get_sprint_context(
    sprint_id: SprintIdPath, principal: CurrentPrincipal, session: SessionDep
) -> SprintContext:
    return await service.context(session, principal, sprint_id)


SprintContextDep = Annotated[SprintContext, Depends(get_sprint_context)]
