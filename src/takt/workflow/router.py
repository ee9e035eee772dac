"""`/projects/{key}/statuses` and `/projects/{key}/labels`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from takt.core.deps import SessionDep
from takt.core.openapi import problems
from takt.projects.deps import ProjectAccessDep
from takt.workflow import service
from takt.workflow.schemas import (
    LabelCreate,
    LabelList,
    LabelRead,
    LabelUpdate,
    StatusCreate,
    StatusList,
    StatusRead,
    StatusUpdate,
)
from takt.workflow.views import label_read, status_read

router = APIRouter(tags=["workflow"])


@router.get("/projects/{project_key}/statuses", responses=problems(401, 404))
async def list_statuses(access: ProjectAccessDep, session: SessionDep) -> StatusList:
    """The project's workflow: statuses in board order."""
    return StatusList(data=[status_read(s) for s in await service.list_statuses(session, access)])


@router.post(
    "/projects/{project_key}/statuses",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
)
async def create_status(
    body: StatusCreate, access: ProjectAccessDep, session: SessionDep
) -> StatusRead:
    """Add a status to the workflow (admins)."""
    return status_read(await service.create_status(session, access, body))


@router.patch(
    "/projects/{project_key}/statuses/{status_id}", responses=problems(401, 403, 404, 409, 422)
)
async def update_status(
    status_id: str, body: StatusUpdate, access: ProjectAccessDep, session: SessionDep
) -> StatusRead:
    """Rename, recategorize, reorder or limit a status (admins)."""
    return status_read(await service.update_status(session, access, status_id, body))


@router.delete(
    "/projects/{project_key}/statuses/{status_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 409, 422),
)
async def delete_status(
    status_id: str,
    access: ProjectAccessDep,
    session: SessionDep,
    move_to: Annotated[
        str | None,
        Query(max_length=50, description="Status (name or id) that takes this one's items."),
    ] = None,
) -> Response:
    """Delete a status (admins); a status in use needs `move_to`."""
    await service.delete_status(session, access, status_id, move_to=move_to)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/projects/{project_key}/labels", responses=problems(401, 404))
async def list_labels(access: ProjectAccessDep, session: SessionDep) -> LabelList:
    """The project's labels, by name."""
    return LabelList(data=[label_read(x) for x in await service.list_labels(session, access)])


@router.post(
    "/projects/{project_key}/labels",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
)
async def create_label(
    body: LabelCreate, access: ProjectAccessDep, session: SessionDep
) -> LabelRead:
    """Create a label (members)."""
    return label_read(await service.create_label(session, access, body))


@router.patch(
    "/projects/{project_key}/labels/{label_id}", responses=problems(401, 403, 404, 409, 422)
)
async def update_label(
    label_id: str, body: LabelUpdate, access: ProjectAccessDep, session: SessionDep
) -> LabelRead:
    """Rename or recolour a label (members)."""
    return label_read(await service.update_label(session, access, label_id, body))


@router.delete(
    "/projects/{project_key}/labels/{label_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404),
)
async def delete_label(label_id: str, access: ProjectAccessDep, session: SessionDep) -> Response:
    """Delete a label; items lose it (members)."""
    await service.delete_label(session, access, label_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
