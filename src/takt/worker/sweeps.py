"""The periodic sweeps: each runs once per slot of its period across all workers, as a job of
kind `sweep.<name>` (takt.worker.runner enqueues it when its `take_slot` wins).

A sweep is idempotent and cheap when there is nothing to do: a slot that was missed (no worker
was running) is not made up for, the next one does the same work.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from takt.core.idempotency import purge_expired_keys
from takt.core.jobs import JobContext, Sweep
from takt.core.ratelimit import purge_expired_counters
from takt.items.trash import purge_trash

log = logging.getLogger("takt.worker")


async def sweep_idempotency_keys(ctx: JobContext) -> None:
    """Idempotency keys older than 24 hours: a retry after that runs again anyway."""
    async with ctx.database.transaction() as session:
        purged = await purge_expired_keys(session)
    log.info("idempotency keys swept", extra={"purged": purged})


async def sweep_rate_counters(ctx: JobContext) -> None:
    """Failed-login counters (kept in the database without Redis) whose window has ended."""
    async with ctx.database.transaction() as session:
        purged = await purge_expired_counters(session)
    log.info("rate counters swept", extra={"purged": purged})


async def sweep_trash(ctx: JobContext) -> None:
    """Items that have been in the trash for 30 days, in every project (`takt purge-trash`)."""
    async with ctx.database.transaction() as session:
        purged = await purge_trash(session)
    log.info("trash swept", extra={"purged": purged})


SWEEPS: tuple[Sweep, ...] = (
    Sweep("idempotency-keys", timedelta(hours=1), sweep_idempotency_keys),
    Sweep("rate-counters", timedelta(hours=1), sweep_rate_counters),
    # Trashed items are invisible once their 30 days are over, so a day's delay costs nothing.
    Sweep("trash", timedelta(days=1), sweep_trash),
)
