"""FastAPI dependencies of deployments: the resources in its paths, loaded through the
visibility rule (`EnvironmentContextDep`, `DeploymentContextDep`; `…ForUpdate`: read `FOR
UPDATE` on PostgreSQL for a write)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from takt.auth.deps import CurrentPrincipal
from takt.auth.principal import Principal
from takt.core.deps import SessionDep
from takt.deployments import repository as repo
from takt.deployments.environments import EnvironmentContext
from takt.deployments.service import DeploymentContext
from takt.projects.service import load_in_project

EnvironmentIdPath = Annotated[
    str, Path(min_length=1, max_length=36, description="The environment's id.")
]
DeploymentIdPath = Annotated[
    str, Path(min_length=1, max_length=36, description="The deployment's id.")
]


async def _environment(
    environment_id: str, principal: Principal, session: SessionDep, *, lock: bool
) -> EnvironmentContext:
    found = await load_in_project(
        session,
        principal,
        repo.ENVIRONMENT_BY_ID,
        environment_id,
        missing="No such environment.",
        lock=lock,
    )
    return EnvironmentContext(access=found.access, environment=found.child)


async def get_environment_for_update(
    environment_id: EnvironmentIdPath, principal: CurrentPrincipal, session: SessionDep
) -> EnvironmentContext:
    return await _environment(environment_id, principal, session, lock=True)


async def _deployment(
    deployment_id: str, principal: Principal, session: SessionDep, *, lock: bool
) -> DeploymentContext:
    found = await load_in_project(
        session,
        principal,
        repo.DEPLOYMENT_BY_ID,
        deployment_id,
        missing="No such deployment.",
        lock=lock,
    )
    return DeploymentContext(
        access=found.access, deployment=found.child, environment=found.extras[0]
    )


async def get_deployment_context(
    deployment_id: DeploymentIdPath, principal: CurrentPrincipal, session: SessionDep
) -> DeploymentContext:
    return await _deployment(deployment_id, principal, session, lock=False)


async def get_deployment_for_update(
    deployment_id: DeploymentIdPath, principal: CurrentPrincipal, session: SessionDep
) -> DeploymentContext:
    return await _deployment(deployment_id, principal, session, lock=True)


EnvironmentForUpdateDep = Annotated[EnvironmentContext, Depends(get_environment_for_update)]
DeploymentContextDep = Annotated[DeploymentContext, Depends(get_deployment_context)]
DeploymentForUpdateDep = Annotated[DeploymentContext, Depends(get_deployment_for_update)]
