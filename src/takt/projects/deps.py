"""`ProjectAccessDep`: the project named in the path, loaded through the visibility rule."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from takt.auth.deps import CurrentPrincipal
from takt.core.deps import SessionDep
from takt.projects import service
from takt.projects.policies import ProjectAccess

PROJECT_KEY_MAX = 64

ProjectKeyPath = Annotated[
    str,
    Path(
        min_length=1, max_length=PROJECT_KEY_MAX, description="The project's key.", examples=["API"]
    ),
]


async def get_project_access(
    project_key: ProjectKeyPath, principal: CurrentPrincipal, session: SessionDep
) -> ProjectAccess:
    return await service.access(session, principal, project_key)


ProjectAccessDep = Annotated[ProjectAccess, Depends(get_project_access)]
