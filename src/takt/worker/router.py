"""`/admin/jobs`: the worker's queue for instance admins, and retrying a dead job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from takt.auth.deps import ClientDep, CurrentPrincipal
from takt.core.deps import PageDep, SessionDep
from takt.core.openapi import problems
from takt.worker import service
from takt.worker.schemas import JobFilters, JobList, JobRead, JobState
from takt.worker.views import job_read, queue_summary_read

router = APIRouter(tags=["operations"])

JobIdPath = Annotated[str, Path(min_length=1, max_length=36, description="The job's id.")]


@router.get("/admin/jobs", responses=problems(400, 401, 403, 422))
async def list_jobs(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: PageDep,
    state: Annotated[JobState | None, Query(description="Only jobs in this state.")] = None,
    kind: Annotated[
        str | None,
        Query(max_length=64, description="Only jobs of this kind.", examples=["webhook.deliver"]),
    ] = None,
) -> JobList:
    """The worker's queue (instance admins): its figures, and its jobs oldest first."""
    stats, rows, next_cursor = await service.list_jobs(
        session, principal, filters=JobFilters(state=state, kind=kind), page=page
    )
    return JobList(
        summary=queue_summary_read(stats),
        data=[job_read(job) for job in rows],
        next_cursor=next_cursor,
    )


@router.post("/admin/jobs/{job_id}/retry", responses=problems(401, 403, 404, 409))
async def retry_job(
    job_id: JobIdPath, principal: CurrentPrincipal, session: SessionDep, client: ClientDep
) -> JobRead:
    """Run a dead job again now, its attempts counted afresh (instance admins; audited)."""
    job = await service.retry_job(session, principal, job_id, client=client)
    return job_read(job)
