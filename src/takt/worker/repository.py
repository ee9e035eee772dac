"""Queries of the job queue for its admin view (the runner's statements are core.jobs')."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.jobs import Job


def jobs_of(*, state: str | None, kind: str | None) -> Select[Job]:
    stmt = select(Job)
    if state is not None:
        stmt = stmt.where(Job.state == state)
    if kind is not None:
        stmt = stmt.where(Job.kind == kind)
    return stmt


async def get_job(session: AsyncSession, job_id: str) -> Job | None:
    return await session.get(Job, job_id)
