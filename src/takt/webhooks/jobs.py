"""The webhook work the worker runs: the `webhook.deliver` job kind and the relay pump.

Registered with the worker by `takt.worker.kinds`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core import jobs
from takt.core.jobs import JobKind, Pump

DELIVER = "webhook.deliver"
# Standard Webhooks' schedule: an attempt at once, then after 5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h and 10 h (with jitter): eight in all.
MAX_ATTEMPTS = 8


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


# Filled in by the delivery engine (takt.webhooks.delivery and takt.webhooks.relay).
JOB_KINDS: list[JobKind] = []
PUMPS: list[Pump] = []
