"""Export and import endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from takt.auth.deps import ClientDep, CurrentPrincipal
from takt.core.concurrency import etag_for
from takt.core.deps import SessionDep
from takt.core.openapi import problems
from takt.projects.deps import ProjectAccessDep
from takt.projects.schemas import ProjectRead
from takt.projects.views import project_read
from takt.transfer import service
from takt.transfer.schemas import ExportDocument, ImportRequest

router = APIRouter(tags=["export and import"])

IMPORT_PATH = "/projects/import"


@router.get("/projects/{project_key}/export", responses=problems(401, 403, 404))
async def export_project(access: ProjectAccessDep, session: SessionDep) -> ExportDocument:
    """The whole project as one JSON document that `POST /projects/import` takes back."""
    return await service.export_project(session, access)


@router.post(
    IMPORT_PATH,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 409, 413, 422),
)
async def import_project(
    body: ImportRequest,
    principal: CurrentPrincipal,
    session: SessionDep,
    client: ClientDep,
    response: Response,
) -> ProjectRead:
    """Recreate an exported project under a new key; you become its admin. Other exported
    members join only when an instance admin imports; the people its history names stay names.
    The body may be as large as `TAKT_MAX_IMPORT_BYTES`."""
    access = await service.import_project(session, principal, body, client=client)
    response.headers["Location"] = f"/api/v1/projects/{access.project.key}"
    response.headers["ETag"] = etag_for(access.project.version)
    return project_read(access.project, "admin")
