"""Helpers for the worker's tests: jobs in the table, a worker running for a block, waiting for
what the worker does (it runs in the background, so tests wait for its effects)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select

from takt.config import Settings
from takt.core import jobs
from takt.core.db import Database
from takt.core.jobs import Job, JobContext, JobKind
from takt.worker.runner import Worker

Handler = Callable[[JobContext, Job], Awaitable[None]]


def quick(settings: Settings, **overrides: Any) -> Settings:
    """The suite's settings with a short poll, so a test never waits long for a look."""
    return settings.model_copy(update={"worker_poll_seconds": 0.1, **overrides})


def kind(name: str, run: Handler, **options: Any) -> JobKind:
    return JobKind(name=name, run=run, **options)


def worker(db: Database, settings: Settings, *kinds: JobKind, **options: Any) -> Worker:
    """A worker with only the given kinds, no pumps and no sweeps unless asked."""
    options.setdefault("pumps", [])
    options.setdefault("sweeps", [])
    return Worker(db, quick(settings), kinds=kinds, **options)


@asynccontextmanager
async def running(*workers: Worker) -> AsyncIterator[None]:
    for each in workers:
        each.start()
    try:
        yield
    finally:
        await asyncio.gather(*(each.stop() for each in workers))


async def add_jobs(
    db: Database,
    kind_name: str,
    count: int = 1,
    *,
    payload: dict[str, Any] | None = None,
    **options: Any,
) -> None:
    """`count` jobs of `kind_name`, numbered by `n` in their payload."""
    async with db.transaction() as session:
        await jobs.enqueue_many(
            session,
            [
                {"kind": kind_name, "payload": {"n": n, **(payload or {})}, **options}
                for n in range(count)
            ],
        )


async def all_jobs(db: Database) -> list[Job]:
    async with db.transaction(write=False) as session:
        return list(await session.scalars(select(Job).order_by(Job.created_at, Job.id)))


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 20.0) -> None:
    """Wait until `check()` holds (the worker acts in the background); fail after `within`."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "the worker did not get there in time"
        await asyncio.sleep(0.02)


async def queue_is_empty(db: Database) -> bool:
    return not await all_jobs(db)
