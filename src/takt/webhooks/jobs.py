"""The webhook work the worker runs: the `webhook.deliver` job kind and the relay pump.

Registered with the worker by `takt.worker.kinds`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core import jobs
from takt.core.jobs import Attempted, Job, JobBatch, JobContext, JobKind, Pump, Verdict
from takt.core.netguard import RESOLVE_TIMEOUT_SECONDS

DELIVER = "webhook.deliver"
# Standard Webhooks' schedule: the delay before each attempt: at once, then after 5 s, 5 min,
# 30 min, 2 h, 5 h, 10 h and 10 h: eight in all. After attempt n fails, the next comes
# RETRY_SCHEDULE[n] seconds later, give or take the jitter.
RETRY_SCHEDULE = (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(RETRY_SCHEDULE)
# Spread retries of a burst that failed together (an endpoint that was down) by ±15 %.
JITTER = 0.15
# The worker's limit on one delivery job, a backstop: the call itself stops after
# TAKT_WEBHOOK_TIMEOUT_SECONDS (at most 60, config.py), resolving the host after 5 s; the rest is
# the short transactions around it.
DELIVER_TIMEOUT_SECONDS = RESOLVE_TIMEOUT_SECONDS + 60 + 10


def retry_delay(attempts: int) -> float:
    """Seconds from a failed attempt (the `attempts`-th) to the next one, jittered."""
    base = RETRY_SCHEDULE[min(max(attempts, 0), MAX_ATTEMPTS - 1)]
    return base * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 - jitter, not a secret


def delivery_job_key(delivery_id: str) -> str:
    return f"webhook-delivery:{delivery_id}"


async def enqueue_delivery(
    session: AsyncSession, delivery_id: str, webhook_id: str, *, run_at: datetime | None = None
) -> None:
    """Queue the delivery's job in the caller's transaction (the endpoint is its group, so a
    slow endpoint holds only its own share of a worker)."""
    await jobs.enqueue(
        session,
        DELIVER,
        {"delivery_id": delivery_id},
        run_at=run_at,
        dedupe_key=delivery_job_key(delivery_id),
        group_key=webhook_id,
        max_attempts=MAX_ATTEMPTS,
    )


# The handlers import this module (and the service, which queues through it): they are
# imported when they first run, not when it is.


async def _deliver(ctx: JobContext, job: Job) -> None:
    from takt.webhooks.delivery import deliver

    await deliver(ctx, job)


async def _load(session: AsyncSession, ctx: JobContext, jobs: Sequence[Job]) -> Mapping[str, Any]:
    from takt.webhooks.delivery import load

    return await load(session, ctx, jobs)


async def _run(ctx: JobContext, job: Job, prepared: Any) -> Any:
    from takt.webhooks.delivery import run

    return await run(ctx, job, prepared)


async def _close(ctx: JobContext) -> None:
    from takt.webhooks.delivery import close

    await close(ctx)


async def _settle(
    session: AsyncSession, ctx: JobContext, attempted: Sequence[Attempted[Any, Any]]
) -> Mapping[str, Verdict]:
    from takt.webhooks.delivery import settle

    return await settle(session, ctx, attempted)


async def _relay(ctx: JobContext) -> bool:
    from takt.webhooks.relay import relay

    return await relay(ctx)


JOB_KINDS: list[JobKind] = [
    JobKind(
        DELIVER,
        run=_deliver,
        max_attempts=MAX_ATTEMPTS,
        # For a failure the handler doesn't expect (it picks its own retry time otherwise).
        backoff=retry_delay,
        timeout_seconds=DELIVER_TIMEOUT_SECONDS,
        # How the worker runs them: a batch's reads in its claim, its calls at once, its
        # outcomes in one transaction (takt.webhooks.delivery).
        batch=JobBatch(load=_load, run=_run, settle=_settle, close=_close),
    )
]
# The relay: event log -> deliveries and their jobs, woken by committed events.
PUMPS: list[Pump] = [Pump("webhooks.relay", run=_relay, wake_on="events")]
