"""The job queue for instance admins: what is queued, running and dead, and retrying the dead."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.principal import Principal
from takt.core import jobs
from takt.core.audit import ClientContext
from takt.core.audit import record_by as audit_by
from takt.core.errors import Conflict, NotFound
from takt.core.jobs import Job, QueueStats
from takt.core.pagination import PageRequest, SortKey
from takt.worker import repository as repo
from takt.worker.schemas import JobFilters


class JobNotDead(Conflict):
    """Only a dead job can be retried: a ready one runs at its `run_at` and a running one is
    being tried now. Look at the job's `state`."""

    code = "job-not-dead"
    title = "Job not dead"


async def list_jobs(
    session: AsyncSession, principal: Principal, *, filters: JobFilters, page: PageRequest
) -> tuple[QueueStats, list[Job], str | None]:
    """The queue's figures and one page of its jobs, oldest first."""
    principal.require_instance_admin("Reading the job queue")
    stats = await jobs.queue_stats(session)
    rows, next_cursor = await page.fetch(
        session,
        repo.jobs_of(state=filters.state, kind=filters.kind),
        # created_at never changes, so a job can't move between pages as it is retried.
        keys=[SortKey(Job.created_at), SortKey(Job.id)],
        key_of=lambda j: (j.created_at, j.id),
        sort_name="created_at",
    )
    return stats, rows, next_cursor


async def retry_job(
    session: AsyncSession, principal: Principal, job_id: str, *, client: ClientContext
) -> Job:
    """A dead job runs again now, with its attempts counted afresh."""
    principal.require_instance_admin("Retrying jobs")
    job = await repo.get_job(session, job_id)
    if job is None:
        raise NotFound("No such job.")
    if not await jobs.retry_dead(session, job_id):
        raise JobNotDead(f"The job is {job.state}, not dead.")
    await session.refresh(job)
    await audit_by(
        session,
        principal,
        "job.retried",
        client=client,
        target_type="job",
        target_id=job.id,
        details={"kind": job.kind},
    )
    return job
