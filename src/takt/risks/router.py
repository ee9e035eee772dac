"""Risk register endpoints: the register, one risk, and the 5x5 matrix."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from takt.core.concurrency import (
    may_name_a_representation,
    representation_etag,
    representation_response,
    resolve_if_match,
)
from takt.core.deps import IfMatchHeader, IfNoneMatchHeader, PageDep, SessionDep
from takt.core.openapi import problems
from takt.core.pagination import Page
from takt.projects.deps import ProjectAccessDep
from takt.projects.models import Project
from takt.risks import service, views
from takt.risks.deps import RiskContextDep
from takt.risks.schemas import (
    RiskCreate,
    RiskFilters,
    RiskMatrix,
    RiskRead,
    RiskStatus,
    RiskUpdate,
    Severity,
)
from takt.risks.service import RiskContext, ShownRisk

router = APIRouter(tags=["risks"])


def _answer(
    shown: ShownRisk,
    project: Project,
    *,
    if_none_match: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """The risk tagged by its body: it shows its owner's name, its items' keys and whether it is
    overdue today, which change without the risk's version (`concurrency.representation_etag`)."""
    return representation_response(
        views.risk_body(shown, project),
        shown.risk.version,
        if_none_match=if_none_match,
        status_code=status_code,
        headers=headers,
    )


async def _if_match(if_match: str | None, session: SessionDep, context: RiskContext) -> str | None:
    """`If-Match` as the version the write checks: the risk's current ETag stands for it. Naming
    it costs a read of the risk's links (a version tag, `"v<version>"`, doesn't)."""
    if not may_name_a_representation(if_match):
        return if_match
    shown = await service.show_risk(session, context)
    version = context.risk.version
    return resolve_if_match(
        if_match,
        version,
        lambda: representation_etag(version, views.risk_body(shown, context.access.project)),
    )


@router.get("/projects/{project_key}/risks", responses=problems(400, 401, 404, 422))
async def list_risks(
    access: ProjectAccessDep,
    session: SessionDep,
    page: PageDep,
    status: Annotated[RiskStatus | None, Query(description="Only risks in this status.")] = None,
    severity: Annotated[
        Severity | None,
        Query(
            description="Only risks of this band: low 1-4, medium 5-9, high 10-16, critical 20-25."
        ),
    ] = None,
    overdue: Annotated[
        bool | None,
        Query(
            description="true: only risks past their review date and not closed; false: "
            "only the others."
        ),
    ] = None,
    owner: Annotated[
        str | None,
        Query(
            min_length=1, max_length=64, description="Only risks this person (username or id) owns."
        ),
    ] = None,
    item: Annotated[
        str | None,
        Query(
            min_length=3,
            max_length=24,
            description="Only risks that threaten this item (key).",
            examples=["API-42"],
        ),
    ] = None,
    sprint_id: Annotated[
        str | None,
        Query(min_length=1, max_length=36, description="Only risks that threaten this sprint."),
    ] = None,
) -> Page[RiskRead]:
    """The project's risk register, the highest score first."""
    filters = RiskFilters(
        status=status,
        severity=severity,
        overdue=overdue,
        owner=owner,
        item=item,
        sprint_id=sprint_id,
    )
    rows, next_cursor = await service.list_risks(session, access, filters=filters, page=page)
    return Page[RiskRead](data=views.risk_reads(rows, access.project), next_cursor=next_cursor)


@router.post(
    "/projects/{project_key}/risks",
    status_code=status.HTTP_201_CREATED,
    response_model=RiskRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def create_risk(body: RiskCreate, access: ProjectAccessDep, session: SessionDep) -> Response:
    """Add a risk to the register (score and severity follow from likelihood and impact)."""
    shown = await service.create_risk(session, access, body)
    return _answer(
        shown,
        access.project,
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/api/v1/risks/{shown.risk.id}"},
    )


@router.get("/projects/{project_key}/risks/matrix", responses=problems(401, 404))
async def get_risk_matrix(access: ProjectAccessDep, session: SessionDep) -> RiskMatrix:
    """The 5x5 matrix: open risks (open or mitigating) counted by likelihood and impact."""
    return views.matrix_read(await service.matrix(session, access))


@router.get(
    "/risks/{risk_id}",
    response_model=RiskRead,
    responses={**problems(401, 404), 304: {"description": "Not modified."}},
)
async def get_risk(
    context: RiskContextDep, session: SessionDep, if_none_match: IfNoneMatchHeader = None
) -> Response:
    """One risk, with its links and whether it is overdue for review."""
    # A 304 needs the body's tag, so it reads the links as a 200 does.
    shown = await service.show_risk(session, context)
    return _answer(shown, context.access.project, if_none_match=if_none_match)


@router.patch(
    "/risks/{risk_id}", response_model=RiskRead, responses=problems(401, 403, 404, 412, 422)
)
async def update_risk(
    body: RiskUpdate, context: RiskContextDep, session: SessionDep, if_match: IfMatchHeader = None
) -> Response:
    """Re-rate, re-own, mitigate, review, relink or change the status of a risk. Closing it
    resolves no blocker it was promoted from."""
    resolved = await _if_match(if_match, session, context)
    shown = await service.update_risk(session, context, body, if_match=resolved)
    return _answer(shown, context.access.project)


@router.delete(
    "/risks/{risk_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 412),
)
async def delete_risk(
    context: RiskContextDep, session: SessionDep, if_match: IfMatchHeader = None
) -> Response:
    """Delete a risk from the register (a blocker promoted to it can be promoted again)."""
    await service.delete_risk(
        session, context, if_match=await _if_match(if_match, session, context)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
