"""`BlockerContextDep`: the blocker in the path, found only inside a project the caller sees."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from takt.auth.deps import CurrentPrincipal
from takt.blockers import repository as repo
from takt.blockers.repository import BlockerRow
from takt.blockers.service import BlockerContext
from takt.core.deps import SessionDep
from takt.projects.service import load_in_project

BlockerIdPath = Annotated[str, Path(min_length=1, max_length=36, description="The blocker's id.")]


async def get_blocker_context(
    blocker_id: BlockerIdPath, principal: CurrentPrincipal, session: SessionDep
) -> BlockerContext:
    found = await load_in_project(
        session, principal, repo.BLOCKER_BY_ID, blocker_id, missing="No such blocker."
    )
    return BlockerContext(access=found.access, row=BlockerRow.of((found.child, *found.extras)))


BlockerContextDep = Annotated[BlockerContext, Depends(get_blocker_context)]
