"""`/projects` and `/projects/{key}/members`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from takt.auth.deps import ClientDep, CurrentPrincipal, cached_principal
from takt.auth.schemas import UserSummary
from takt.core.concurrency import (
    representation_etag,
    representation_response,
    resolve_if_match,
)
from takt.core.deps import ETAG_HEADER_MAX, IfMatchHeader, IfNoneMatchHeader, PageDep, SessionDep
from takt.core.direct import DirectReader
from takt.core.openapi import problems
from takt.core.pagination import Page
from takt.projects import service
from takt.projects.deps import PROJECT_KEY_MAX, ProjectAccessDep, ProjectKeyPath
from takt.projects.policies import ProjectAccess
from takt.projects.schemas import (
    MemberAdd,
    MemberRead,
    MemberUpdate,
    ProjectCreate,
    ProjectRead,
    ProjectUpdate,
)
from takt.projects.views import member_read, project_read, user_summary

UserQuery = Annotated[
    str | None,
    Query(
        max_length=100,
        description=(
            "Part of a username or display name (any case), or a whole email address."
            " Omit (or leave empty) to list everyone you can find."
        ),
        examples=["ada"],
    ),
]

router = APIRouter(tags=["projects"])


def _body(access: ProjectAccess) -> bytes:
    return project_read(access.project, access.member_role).model_dump_json().encode()


def _answer(
    access: ProjectAccess,
    *,
    if_none_match: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """The project as the caller sees it, tagged by its body: it shows the caller's role, which
    changes without the project's version (`concurrency.representation_etag`)."""
    return representation_response(
        _body(access),
        access.project.version,
        if_none_match=if_none_match,
        status_code=status_code,
        headers=headers,
    )


def _if_match(if_match: str | None, access: ProjectAccess) -> str | None:
    """`If-Match` as the version the write checks: the caller's current ETag stands for it."""
    version = access.project.version
    return resolve_if_match(if_match, version, lambda: representation_etag(version, _body(access)))


@router.get("/projects", responses=problems(400, 401))
async def list_projects(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: PageDep,
) -> Page[ProjectRead]:
    """Projects you belong to (instance admins see every project), by key."""
    rows, next_cursor = await service.list_projects(session, principal, page=page)
    return Page[ProjectRead](
        data=[project_read(p, role) for p, role in rows], next_cursor=next_cursor
    )


@router.post(
    "/projects",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectRead,
    responses=problems(401, 403, 409, 422),
)
async def create_project(
    body: ProjectCreate, principal: CurrentPrincipal, session: SessionDep, client: ClientDep
) -> Response:
    """Create a project; you become its admin."""
    access = await service.create_project(session, principal, body, client=client)
    location = {"Location": f"/api/v1/projects/{access.project.key}"}
    return _answer(access, status_code=status.HTTP_201_CREATED, headers=location)


@router.get(
    "/projects/{project_key}",
    response_model=ProjectRead,
    responses={**problems(401, 404), 304: {"description": "Not modified."}},
)
async def get_project(
    access: ProjectAccessDep, if_none_match: IfNoneMatchHeader = None
) -> Response:
    """One project, with its settings and your role."""
    return _answer(access, if_none_match=if_none_match)


async def get_project_direct(request: Request, reader: DirectReader) -> Response | None:
    """`get_project` on the direct path (takt.core.direct, PostgreSQL): the same answer, or None
    to let `get_project` give it."""
    key = request.path_params["project_key"]
    if_none_match = request.headers.get("if-none-match")
    if len(key) > PROJECT_KEY_MAX or len(if_none_match or "") > ETAG_HEADER_MAX:
        return None  # the framework's 422
    principal = await cached_principal(request)
    if principal is None:
        return None
    access = await service.direct_access(reader, principal, key)
    return _answer(access, if_none_match=if_none_match)


@router.patch(
    "/projects/{project_key}",
    response_model=ProjectRead,
    responses=problems(401, 403, 404, 412, 422),
)
async def update_project(
    body: ProjectUpdate,
    access: ProjectAccessDep,
    session: SessionDep,
    if_match: IfMatchHeader = None,
) -> Response:
    """Change a project's name, description or settings (admins)."""
    await service.update_project(session, access, body, if_match=_if_match(if_match, access))
    return _answer(access)


@router.delete(
    "/projects/{project_key}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 412),
)
async def delete_project(
    access: ProjectAccessDep, session: SessionDep, client: ClientDep, if_match: IfMatchHeader = None
) -> Response:
    """Delete a project (admins). Soft: an instance admin can restore it."""
    await service.delete_project(
        session, access, if_match=_if_match(if_match, access), client=client
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/projects/{project_key}/restore",
    response_model=ProjectRead,
    responses=problems(401, 404, 409),
)
async def restore_project(
    project_key: ProjectKeyPath, principal: CurrentPrincipal, session: SessionDep, client: ClientDep
) -> Response:
    """Restore a deleted project (instance admins)."""
    access = await service.restore_project(session, principal, project_key, client=client)
    return _answer(access)


@router.get("/projects/{project_key}/members", responses=problems(400, 401, 404))
async def list_members(
    access: ProjectAccessDep,
    session: SessionDep,
    page: PageDep,
) -> Page[MemberRead]:
    """The project's members and their roles."""
    rows, next_cursor = await service.list_members(session, access, page=page)
    return Page[MemberRead](data=[member_read(m, u) for m, u in rows], next_cursor=next_cursor)


@router.post(
    "/projects/{project_key}/members",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
)
async def add_member(
    body: MemberAdd, access: ProjectAccessDep, session: SessionDep, client: ClientDep
) -> MemberRead:
    """Add a user to the project with a role (admins)."""
    member, user = await service.add_member(session, access, body, client=client)
    return member_read(member, user)


@router.patch(
    "/projects/{project_key}/members/{user_id}", responses=problems(401, 403, 404, 409, 422)
)
async def change_member_role(
    user_id: str,
    body: MemberUpdate,
    access: ProjectAccessDep,
    session: SessionDep,
    client: ClientDep,
) -> MemberRead:
    """Change a member's role (admins). The last admin can't be demoted."""
    member, user = await service.change_role(session, access, user_id, body.role, client=client)
    return member_read(member, user)


@router.delete(
    "/projects/{project_key}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 409),
)
async def remove_member(
    user_id: str, access: ProjectAccessDep, session: SessionDep, client: ClientDep
) -> Response:
    """Remove a member (admins). The last admin can't be removed."""
    await service.remove_member(session, access, user_id, client=client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users", responses=problems(400, 401, 422))
async def search_users(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: PageDep,
    q: UserQuery = None,
) -> Page[UserSummary]:
    """Find people by name or email: instance admins find everyone, others the people who
    share a project with them (with a project-limited token: one of its projects). Served by
    projects, since who may be found depends on sharing a project."""
    rows, next_cursor = await service.search_users(session, principal, q=q, page=page)
    return Page[UserSummary](data=[user_summary(u) for u in rows], next_cursor=next_cursor)
