"""`EstimationContextDep`: the planning-poker session in the path, found only inside a project
the caller sees."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from takt.auth.deps import CurrentPrincipal
from takt.core.deps import SessionDep
from takt.estimation import repository as repo
from takt.estimation.service import EstimationContext
from takt.projects.service import load_in_project

SessionIdPath = Annotated[
    str, Path(min_length=1, max_length=36, description="The estimation session's id.")
]


async def get_estimation_context(
    session_id: SessionIdPath, principal: CurrentPrincipal, session: SessionDep
) -> EstimationContext:
    found = await load_in_project(
        session, principal, repo.SESSION_BY_ID, session_id, missing="No such estimation session."
    )
    (facilitator,) = found.extras
    return EstimationContext(access=found.access, estimation=found.child, facilitator=facilitator)


EstimationContextDep = Annotated[EstimationContext, Depends(get_estimation_context)]
