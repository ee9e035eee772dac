"""Deployments endpoints: a project's environments (`/projects/{key}/environments`,
`/environments/{id}`) and its deployments (`/projects/{key}/deployments`, `/deployments/{id}`),
the CI call included. GitHub's and GitLab's deployment deliveries come in through
`takt.integrations`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.deps import ClientDep
from takt.core.concurrency import (
    etag_for,
    may_name_a_representation,
    representation_etag,
    representation_response,
    resolve_if_match,
)
from takt.core.deps import IfMatchHeader, IfNoneMatchHeader, PageDep, SessionDep
from takt.core.openapi import problems
from takt.core.pagination import Page
from takt.deployments import environments, service, views
from takt.deployments.deps import (
    DeploymentContextDep,
    DeploymentForUpdateDep,
    EnvironmentForUpdateDep,
    FromQuery,
    ToQuery,
    moment,
)
from takt.deployments.models import Deployment
from takt.deployments.schemas import (
    DeploymentCreate,
    DeploymentDetail,
    DeploymentFilters,
    DeploymentRead,
    DeploymentState,
    DeploymentUpdate,
    EnvironmentCreate,
    EnvironmentList,
    EnvironmentRead,
    EnvironmentUpdate,
)
from takt.projects.deps import ProjectAccessDep
from takt.projects.models import Project

router = APIRouter(tags=["deployments"])


async def _body(session: AsyncSession, project: Project, deployment: Deployment) -> bytes:
    shown, shipped = await service.deployment_detail(session, project, deployment)
    return views.deployment_detail(shown, project.key, shipped).model_dump_json().encode()


async def _answer(
    session: AsyncSession,
    project: Project,
    deployment: Deployment,
    *,
    if_none_match: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """The deployment tagged by its body: it shows its environment's and reporter's names and
    what it shipped (commits, pull requests, items), which change without the deployment's
    version (`concurrency.representation_etag`)."""
    return representation_response(
        await _body(session, project, deployment),
        deployment.version,
        if_none_match=if_none_match,
        status_code=status_code,
        headers=headers,
    )


# Environments -------------------------------------------------------------------------------------


@router.get("/projects/{project_key}/environments", responses=problems(401, 404))
async def list_environments(access: ProjectAccessDep, session: SessionDep) -> EnvironmentList:
    """The project's environments along the promotion path (at most 20: one answer)."""
    rows = await environments.list_environments(session, access)
    key = access.project.key
    return EnvironmentList(data=[views.environment_read(e, key) for e in rows])


@router.post(
    "/projects/{project_key}/environments",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
)
async def create_environment(
    body: EnvironmentCreate,
    access: ProjectAccessDep,
    session: SessionDep,
    client: ClientDep,
    response: Response,
) -> EnvironmentRead:
    """Add an environment to the promotion path (project admins)."""
    env = await environments.create_environment(session, access, body, client=client)
    response.headers["ETag"] = etag_for(env.version)
    return views.environment_read(env, access.project.key)


@router.patch("/environments/{environment_id}", responses=problems(401, 403, 404, 409, 412, 422))
async def update_environment(
    body: EnvironmentUpdate,
    context: EnvironmentForUpdateDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> EnvironmentRead:
    """Rename or retype an environment, or move it along the promotion path (project admins)."""
    env = await environments.update_environment(session, context, body, if_match=if_match)
    response.headers["ETag"] = etag_for(env.version)
    return views.environment_read(env, context.access.project.key)


@router.delete(
    "/environments/{environment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 409, 412),
)
async def delete_environment(
    context: EnvironmentForUpdateDep,
    session: SessionDep,
    client: ClientDep,
    if_match: IfMatchHeader = None,
) -> Response:
    """Delete an environment no deployment went to (project admins; 409 `environment-in-use`
    otherwise). Incidents recorded in it are deleted with it."""
    await environments.delete_environment(session, context, if_match=if_match, client=client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Deployments --------------------------------------------------------------------------------------


@router.get("/projects/{project_key}/deployments", responses=problems(400, 401, 404, 422))
async def list_deployments(
    access: ProjectAccessDep,
    session: SessionDep,
    page: PageDep,
    environment: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="Only those to this environment (its name, ignoring case).",
            examples=["production"],
        ),
    ] = None,
    state: Annotated[DeploymentState | None, Query(description="Only those in this state.")] = None,
    sha: Annotated[
        str | None,
        Query(
            min_length=7,
            max_length=64,
            pattern=r"^[0-9a-fA-F]+$",
            description="Only those of this commit (a full SHA, or its first 7 or more "
            "characters).",
        ),
    ] = None,
    from_: FromQuery = None,
    to: ToQuery = None,
) -> Page[DeploymentRead]:
    """The project's deployments, latest started first."""
    filters = DeploymentFilters(
        environment=environment,
        state=state,
        sha=sha,
        started_from=moment("from", from_),
        started_to=moment("to", to),
    )
    rows, next_cursor = await service.list_deployments(session, access, filters=filters, page=page)
    key = access.project.key
    return Page[DeploymentRead](
        data=[views.deployment_read(row, key) for row in rows], next_cursor=next_cursor
    )


@router.post(
    "/projects/{project_key}/deployments",
    status_code=status.HTTP_201_CREATED,
    response_model=DeploymentDetail,
    responses={
        **problems(401, 403, 404, 409, 422),
        200: {
            "description": "The deployment was reported before (same pipeline, environment "
            "and sequence): here it is, moved on if this report says so.",
            "model": DeploymentDetail,
        },
    },
)
async def report_deployment(
    body: DeploymentCreate, access: ProjectAccessDep, session: SessionDep
) -> Response:
    """Report a deployment: the call a CI job makes (members, or a token with the write scope;
    a token limited to the project is best). Idempotent on `pipeline_id` + `sequence` +
    `environment`: 201 the first time, 200 after."""
    deployment, created = await service.report_deployment(session, access, body)
    return await _answer(
        session,
        access.project,
        deployment,
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        headers={"Location": f"/api/v1/deployments/{deployment.id}"},
    )


@router.get(
    "/deployments/{deployment_id}",
    response_model=DeploymentDetail,
    responses={**problems(401, 404), 304: {"description": "Not modified."}},
)
async def get_deployment(
    context: DeploymentContextDep,
    session: SessionDep,
    if_none_match: IfNoneMatchHeader = None,
) -> Response:
    """One deployment, with what it shipped: its commits (the newest 100 and the count), pull
    requests and work items."""
    return await _answer(
        session, context.access.project, context.deployment, if_none_match=if_none_match
    )


@router.patch(
    "/deployments/{deployment_id}",
    response_model=DeploymentDetail,
    responses=problems(401, 403, 404, 409, 412, 422),
)
async def update_deployment(
    body: DeploymentUpdate,
    context: DeploymentForUpdateDep,
    session: SessionDep,
    if_match: IfMatchHeader = None,
) -> Response:
    """Move a deployment's state forward (`success` → `rolled_back` included) or change its
    version, link, description, hotfix or rollback marks (members)."""
    project, version = context.access.project, context.deployment.version
    if may_name_a_representation(if_match):
        # The current tag, built only when the header could be one (a `"v<version>"` tag or
        # `*` costs nothing): it stands for the version the write checks under its lock.
        shown = representation_etag(version, await _body(session, project, context.deployment))
        if_match = resolve_if_match(if_match, version, lambda: shown)
    deployment = await service.update_deployment(session, context, body, if_match=if_match)
    return await _answer(session, project, deployment)
