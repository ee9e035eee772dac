"""The inbox's work the worker runs: `integrations.process`, one job per inbound delivery,
queued in the transaction that put the delivery in the inbox (registered by
`takt.worker.kinds`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core import jobs
from takt.core.jobs import Job, JobContext, JobKind

PROCESS = "integrations.process"
# A failure the worker can't foresee (the database went away) is tried again after 1 s, 2 s,
# 4 s, 8 s…; after the last try the delivery is `failed` with the reason, for redelivery.
MAX_ATTEMPTS = 8
TIMEOUT_SECONDS = 120.0


def processing_key(delivery_id: str) -> str:
    return f"inbound-delivery:{delivery_id}"


async def enqueue_processing(session: AsyncSession, delivery_id: str) -> None:
    """Queue the delivery's processing in the caller's transaction (its id only: the body stays
    in the inbox)."""
    await jobs.enqueue(
        session,
        PROCESS,
        {"delivery_id": delivery_id},
        dedupe_key=processing_key(delivery_id),
        max_attempts=MAX_ATTEMPTS,
    )


async def _process(ctx: JobContext, job: Job) -> None:
    # Imported when it first runs: the service imports this module to queue jobs.
    from takt.integrations import service

    delivery_id = str(job.payload.get("delivery_id", ""))
    try:
        await service.process(ctx.database, delivery_id)
    except Exception as exc:
        final = job.attempts >= min(job.max_attempts, MAX_ATTEMPTS)
        reason = f"{type(exc).__name__}: {exc}"
        await service.record_failure(ctx.database, delivery_id, reason, final=final)
        raise


JOB_KINDS: list[JobKind] = [
    JobKind(PROCESS, run=_process, max_attempts=MAX_ATTEMPTS, timeout_seconds=TIMEOUT_SECONDS)
]
