"""The inbox's work the worker runs: `integrations.process`, one job per inbound delivery,
queued in the transaction that put the delivery in the inbox (registered by
`takt.worker.kinds`).

The worker runs them as a batch (`takt.core.jobs.JobBatch`): the deliveries' bodies are read
in the transaction that claims their jobs, each is parsed outside any transaction, and the
batch is recorded in one transaction that also completes the jobs, each delivery in a
savepoint of its own (one that fails is rolled back alone, `retrying` with the reason, and its
job retried). `run` processes one delivery by itself, in a transaction of its own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core import jobs
from takt.core.jobs import Attempted, Failed, Job, JobBatch, JobContext, JobKind, Verdict
from takt.core.time import utcnow

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


async def enqueue_processing_many(session: AsyncSession, delivery_ids: Sequence[str]) -> None:
    """`enqueue_processing` for many deliveries, in one statement."""
    await jobs.enqueue_many(
        session,
        [
            {
                "kind": PROCESS,
                "payload": {"delivery_id": delivery_id},
                "dedupe_key": processing_key(delivery_id),
                "max_attempts": MAX_ATTEMPTS,
            }
            for delivery_id in delivery_ids
        ],
    )


def _delivery_id(job: Job) -> str:
    return str(job.payload.get("delivery_id", ""))


def _final(job: Job) -> bool:
    return job.attempts >= min(job.max_attempts, MAX_ATTEMPTS)


async def _process(ctx: JobContext, job: Job) -> None:
    # Imported when it first runs: the service imports this module to queue jobs.
    from takt.integrations import service

    delivery_id = _delivery_id(job)
    try:
        await service.process(ctx.database, delivery_id)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        await service.record_failure(ctx.database, delivery_id, reason, final=_final(job))
        raise


async def _load(session: AsyncSession, ctx: JobContext, batch: Sequence[Job]) -> Mapping[str, Any]:
    """The stored deliveries of the batch's jobs, by job id (one statement)."""
    from takt.integrations import service

    stored = await service.load_stored(session, [_delivery_id(job) for job in batch])
    return {job.id: stored[_delivery_id(job)] for job in batch if _delivery_id(job) in stored}


async def _run(ctx: JobContext, job: Job, prepared: Any) -> Any:
    """The delivery's parse (CPU only, no transaction); None when it was gone or finished."""
    from takt.integrations import service

    return None if prepared is None else service.parse_stored(prepared)


async def _settle(
    session: AsyncSession, ctx: JobContext, attempted: Sequence[Attempted[Any, Any]]
) -> Mapping[str, Verdict]:
    from takt.integrations import service

    failed = await service.settle(
        session,
        [
            service.Attempt(a.job.id, _delivery_id(a.job), a.result, final=_final(a.job))
            for a in attempted
        ],
    )
    by_id = {a.job.id: a.job for a in attempted}
    verdicts: dict[str, Verdict] = {}
    for job_id, failure in failed.items():
        job = by_id[job_id]
        retry_at = (
            None
            if _final(job)
            else utcnow() + timedelta(seconds=jobs.exponential_backoff(job.attempts))
        )
        verdicts[job_id] = Failed(failure.error, retry_at)
    return verdicts


JOB_KINDS: list[JobKind] = [
    JobKind(
        PROCESS,
        run=_process,
        max_attempts=MAX_ATTEMPTS,
        timeout_seconds=TIMEOUT_SECONDS,
        batch=JobBatch(load=_load, run=_run, settle=_settle),
    )
]
