"""`RetroContextDep`: the retro in the path, found only inside a project the caller sees."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from takt.auth.deps import CurrentPrincipal
from takt.core.deps import SessionDep
from takt.projects.service import load_in_project
from takt.retros import repository as repo
from takt.retros.service import RetroContext

RetroIdPath = Annotated[str, Path(min_length=1, max_length=36, description="The retro's id.")]
CardIdPath = Annotated[str, Path(min_length=1, max_length=36, description="The card's id.")]
GroupIdPath = Annotated[str, Path(min_length=1, max_length=36, description="The group's id.")]
VoteIdPath = Annotated[str, Path(min_length=1, max_length=36, description="Your vote's id.")]


async def get_retro_context(
    retro_id: RetroIdPath, principal: CurrentPrincipal, session: SessionDep
) -> RetroContext:
    found = await load_in_project(
        session, principal, repo.RETRO_BY_ID, retro_id, missing="No such retro."
    )
    (facilitator,) = found.extras
    return RetroContext(access=found.access, retro=found.child, facilitator=facilitator)


RetroContextDep = Annotated[RetroContext, Depends(get_retro_context)]
