"""The job queue: a table of jobs that workers claim with leases (docs/architecture.md, Jobs
and the worker).

A table of our own rather than a job library: the jobs a change causes (a webhook delivery, a
manual retry) are written in the change's own transaction, on SQLite as on PostgreSQL, which
no broker-backed library (Celery, arq, Dramatiq: Redis or RabbitMQ) nor the PostgreSQL-only
ones (Procrastinate) can do. The pattern is that of Oban, River and Solid Queue:

- `enqueue` inserts a `ready` row in the caller's transaction (never committed here).
- A worker claims due rows in one statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has
  one writer at a time) and sets a lease, `locked_until`. A worker that dies leaves its rows
  `running` with a lease that runs out; any worker then claims them again.
- A job that succeeds is deleted; one that fails is set `ready` again with a later `run_at`,
  until it has had `max_attempts` attempts; then it is `dead`, kept for an admin to see and retry.

This module is the kit: the table and the statements. The runner is `takt.worker`.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import (
    ColumnElement,
    Index,
    Integer,
    ScalarSelect,
    String,
    Subquery,
    Text,
    and_,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.models import Base, JSONType, UTCDateTime, new_id
from takt.core.time import utcnow

if TYPE_CHECKING:
    from takt.config import Settings
    from takt.core.db import Database

JobState = Literal["ready", "running", "dead"]

# Set on a session that enqueued a job: after its commit the process wakes its own worker
# (takt.core.wakeup); on PostgreSQL a trigger on `jobs` also NOTIFYs the other processes.
JOBS_ENQUEUED = "takt.jobs_enqueued"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # The claim: due ready jobs, and running ones whose lease ran out, oldest first.
        Index("ix_jobs_state_run_at", "state", "run_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(64), doc="Which handler runs it (`webhook.deliver`).")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="ready")
    # Jobs of one group (a webhook endpoint) share a per-worker concurrency limit, so one slow
    # endpoint can't take every slot of a worker.
    group_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # At most one live job per key (a delivery has one job, a sweep slot one run).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=10)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JobSchedule(Base):
    """The last slot each periodic sweep was enqueued for: moving it forward is the one atomic
    step that lets exactly one worker enqueue a slot's run."""

    __tablename__ = "job_schedule"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_slot: Mapped[datetime] = mapped_column(UTCDateTime())


# What runs a job ------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobContext:
    """What a handler gets besides its job: it opens its own transactions (a webhook delivery
    must not hold one open during its HTTP call)."""

    database: Database
    settings: Settings
    worker_id: str


class RetryJob(Exception):
    """Raised by a handler that failed and chose when to try again: at `at`, or never (the job
    goes dead) when `at` is None. Either way a job has no more than its `max_attempts` (and its
    kind's). Any other exception retries on the kind's `backoff`."""

    def __init__(self, message: str, *, at: datetime | None) -> None:
        super().__init__(message)
        self.at = at


def exponential_backoff(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: 1 s, 2 s, 4 s… up to an hour,
    with ±10 % jitter so a burst of failures doesn't come back all at once."""
    base: float = min(2 ** max(attempts - 1, 0), 3600)
    return base * random.uniform(0.9, 1.1)  # noqa: S311 - jitter, not a secret


@dataclass(frozen=True)
class JobKind:
    """A kind of job and its handler, registered with the worker (takt.worker.kinds)."""

    name: str
    run: Callable[[JobContext, Job], Awaitable[None]]
    max_attempts: int = 10
    backoff: Callable[[int], float] = exponential_backoff
    timeout_seconds: float = 300.0


@dataclass(frozen=True)
class Sweep:
    """A periodic sweep: enqueued once per slot of `every` across all workers (`take_slot`),
    run as a job of kind `sweep.<name>`."""

    name: str
    every: timedelta
    run: Callable[[JobContext], Awaitable[None]]


@dataclass(frozen=True)
class Pump:
    """Work a worker keeps doing while there is some (the webhook relay: event log ->
    deliveries). `run` does one batch in its own transaction and says whether more is waiting;
    when none is, the worker waits for a wake-up on `wake_on` (takt.core.wakeup) or its poll
    interval. Every worker runs every pump; a pump that must run alone locks for itself."""

    name: str
    run: Callable[[JobContext], Awaitable[bool]]
    wake_on: Literal["events", "jobs"] = "events"


# The statements ---------------------------------------------------------------------------------


def _insert_ignoring_duplicates(dialect: str) -> Any:
    if dialect == "postgresql":
        return pg_insert(Job).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return sqlite_insert(Job).on_conflict_do_nothing(index_elements=["dedupe_key"])


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    group_key: str | None = None,
    max_attempts: int = 10,
) -> None:
    """Add a job in the caller's transaction. With `dedupe_key`, nothing is added when a job with
    that key is still queued, running or dead."""
    await enqueue_many(
        session,
        [
            {
                "kind": kind,
                "payload": payload or {},
                "run_at": run_at,
                "dedupe_key": dedupe_key,
                "group_key": group_key,
                "max_attempts": max_attempts,
            }
        ],
    )


async def enqueue_many(session: AsyncSession, jobs: list[dict[str, Any]]) -> None:
    """`enqueue` for many jobs in one INSERT: dicts with `kind` and optionally `payload`,
    `run_at`, `dedupe_key`, `group_key`, `max_attempts`."""
    if not jobs:
        return
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "kind": job["kind"],
            "payload": job.get("payload") or {},
            "state": "ready",
            "group_key": job.get("group_key"),
            "dedupe_key": job.get("dedupe_key"),
            "attempts": 0,
            "max_attempts": job.get("max_attempts") or 10,
            "run_at": job.get("run_at") or now,
            "created_at": now,
            "updated_at": now,
        }
        for job in jobs
    ]
    dialect = session.get_bind().dialect.name
    await session.execute(_insert_ignoring_duplicates(dialect), rows)
    session.info[JOBS_ENQUEUED] = True


async def claim(
    session: AsyncSession,
    *,
    worker_id: str,
    limit: int,
    lease: timedelta,
    kinds: list[str] | None = None,
    skip_groups: set[str] | frozenset[str] = frozenset(),
    group_limit: int | None = None,
    group_busy: Mapping[str, int] | None = None,
) -> list[Job]:
    """Take up to `limit` due jobs for `worker_id` until `now + lease`: ready ones whose `run_at`
    has come, and running ones whose lease ran out (their worker died). Each claim counts as an
    attempt. Jobs of `skip_groups` (groups this worker has at their limit) are left for later.

    With `group_limit`, no group gets more than its room: `group_limit` less what the worker
    already runs of it (`group_busy`), so a worker never claims a job it could not start at
    once (and never has to give one back)."""
    now = utcnow()
    due = or_(
        and_(Job.state == "ready", Job.run_at <= now),
        and_(Job.state == "running", Job.locked_until < now),
    )
    # A group's jobs beyond its room are passed over, so look a little further than `limit`.
    scan = limit if group_limit is None else limit * 4
    chosen = select(Job.id, Job.group_key, Job.run_at).where(due).order_by(Job.run_at).limit(scan)
    if kinds is not None:
        chosen = chosen.where(Job.kind.in_(kinds))
    if skip_groups:
        chosen = chosen.where(or_(Job.group_key.is_(None), Job.group_key.not_in(skip_groups)))
    if session.get_bind().dialect.name == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True)
    if group_limit is None:
        ids = chosen.with_only_columns(Job.id).scalar_subquery()
    else:
        ids = _within_group_room(chosen.subquery(), limit, group_limit, group_busy or {})
    claimed = await session.scalars(
        update(Job)
        .where(Job.id.in_(ids))
        .values(
            state="running",
            locked_by=worker_id,
            locked_until=now + lease,
            attempts=Job.attempts + 1,
            updated_at=now,
        )
        .returning(Job)
        .execution_options(synchronize_session=False)
    )
    return list(claimed)


def _within_group_room(
    candidates: Subquery, limit: int, group_limit: int, busy: Mapping[str, int]
) -> ScalarSelect[str]:
    """The first `limit` candidates, taking of each group only its room. The rank is computed
    outside the locking select: PostgreSQL allows no window function next to FOR UPDATE."""
    rank = func.row_number().over(
        partition_by=candidates.c.group_key,
        order_by=(candidates.c.run_at, candidates.c.id),
    )
    ranked = select(candidates, rank.label("rank")).subquery()
    rooms = {group: group_limit - count for group, count in busy.items() if count > 0}
    room: ColumnElement[int] = (
        case(rooms, value=ranked.c.group_key, else_=group_limit) if rooms else literal(group_limit)
    )
    return (
        select(ranked.c.id)
        .where(or_(ranked.c.group_key.is_(None), ranked.c.rank <= room))
        .order_by(ranked.c.run_at)
        .limit(limit)
        .scalar_subquery()
    )


async def complete(session: AsyncSession, job_id: str, worker_id: str) -> bool:
    """The job succeeded: it goes. False when the worker no longer holds it (its lease ran out
    and another worker took it), which the caller can only log."""
    result = await session.execute(
        delete(Job).where(Job.id == job_id, Job.locked_by == worker_id, Job.state == "running")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def fail(
    session: AsyncSession,
    job: Job,
    worker_id: str,
    *,
    error: str,
    retry_at: datetime | None,
) -> JobState | None:
    """The attempt failed: `ready` again at `retry_at`, or `dead` when `retry_at` is None (the
    caller decides, from the attempts and its backoff). None when the worker no longer holds it."""
    state: JobState = "dead" if retry_at is None else "ready"
    result = await session.execute(
        update(Job)
        .where(Job.id == job.id, Job.locked_by == worker_id, Job.state == "running")
        .values(
            state=state,
            run_at=retry_at or job.run_at,
            locked_by=None,
            locked_until=None,
            last_error=error[:2000],
            updated_at=utcnow(),
        )
    )
    return state if result.rowcount else None  # type: ignore[attr-defined]


async def release(session: AsyncSession, job_ids: list[str], worker_id: str) -> None:
    """Give claimed jobs back untried (a worker shutting down): ready now, the attempt not
    counted."""
    if not job_ids:
        return
    await session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.locked_by == worker_id, Job.state == "running")
        .values(
            state="ready",
            locked_by=None,
            locked_until=None,
            attempts=Job.attempts - 1,
            updated_at=utcnow(),
        )
    )


async def extend_lease(
    session: AsyncSession, job_ids: list[str], worker_id: str, lease: timedelta
) -> None:
    """Keep holding jobs that are still running (a heartbeat)."""
    if not job_ids:
        return
    await session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.locked_by == worker_id, Job.state == "running")
        .values(locked_until=utcnow() + lease)
    )


async def retry_dead(session: AsyncSession, job_id: str) -> bool:
    """An admin's retry of a dead job: ready now, with its attempts counted afresh."""
    now = utcnow()
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == "dead")
        .values(state="ready", attempts=0, run_at=now, last_error=None, updated_at=now)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    session.info[JOBS_ENQUEUED] = True  # wakes this process's worker (no INSERT, no NOTIFY)
    return True


async def requeue(
    session: AsyncSession, dedupe_key: str
) -> Literal["requeued", "running", "missing"]:
    """Run the job with `dedupe_key` again now: a dead one with its attempts counted afresh, a
    ready one without waiting for its `run_at`. "running" when a worker holds it (the caller
    answers a conflict), "missing" when there is none (the caller enqueues a new one)."""
    now = utcnow()
    state = await session.scalar(
        select(Job.state).where(Job.dedupe_key == dedupe_key).with_for_update()
    )
    if state is None:
        return "missing"
    if state == "running":
        return "running"
    await session.execute(
        update(Job)
        .where(Job.dedupe_key == dedupe_key)
        .values(
            state="ready",
            attempts=0 if state == "dead" else Job.attempts,
            run_at=now,
            last_error=None,
            updated_at=now,
        )
    )
    session.info[JOBS_ENQUEUED] = True
    return "requeued"


async def next_run_at(session: AsyncSession) -> datetime | None:
    """When the next ready job falls due (a worker sleeps until then, or until woken)."""
    return await session.scalar(select(func.min(Job.run_at)).where(Job.state == "ready"))


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When `claim` next finds something: the next ready job's `run_at`, or the first lease of
    a running job to run out (its worker may have died), whichever comes first."""
    ready = select(func.min(Job.run_at)).where(Job.state == "ready").scalar_subquery()
    leased = select(func.min(Job.locked_until)).where(Job.state == "running").scalar_subquery()
    row = (await session.execute(select(ready, leased))).one()
    return min((moment for moment in row if moment is not None), default=None)


# What the queue holds --------------------------------------------------------------------------


@dataclass(frozen=True)
class KindStats:
    """The queue of one kind of job (or of all), as `/metrics` and the admin API show it."""

    ready: int = 0
    running: int = 0
    dead: int = 0
    # Ready again after a failed attempt, waiting for their next try.
    retrying: int = 0
    # Attempts made so far by the jobs still queued or running (dead ones keep theirs apart).
    attempts: int = 0
    # How long the oldest ready job whose time has come has waited for a worker (0: none).
    oldest_ready_age_seconds: float = 0.0

    def __add__(self, other: KindStats) -> KindStats:
        return KindStats(
            ready=self.ready + other.ready,
            running=self.running + other.running,
            dead=self.dead + other.dead,
            retrying=self.retrying + other.retrying,
            attempts=self.attempts + other.attempts,
            oldest_ready_age_seconds=max(
                self.oldest_ready_age_seconds, other.oldest_ready_age_seconds
            ),
        )


@dataclass(frozen=True)
class QueueStats:
    by_kind: dict[str, KindStats]

    @property
    def total(self) -> KindStats:
        return sum(self.by_kind.values(), KindStats())


async def queue_stats(session: AsyncSession) -> QueueStats:
    """Counts by kind and state, read from the table: they cover every worker process."""
    now = utcnow()
    rows = await session.execute(
        select(
            Job.kind,
            Job.state,
            func.count(),
            func.sum(case((Job.attempts > 0, 1), else_=0)),
            func.sum(Job.attempts),
            func.min(case((Job.run_at <= now, Job.run_at))),
        ).group_by(Job.kind, Job.state)
    )
    by_kind: dict[str, KindStats] = {}
    for kind, state, count, with_attempts, attempts, oldest_due in rows:
        if state == "ready":
            age = (now - oldest_due).total_seconds() if oldest_due is not None else 0.0
            stats = KindStats(
                ready=count,
                retrying=int(with_attempts or 0),
                attempts=int(attempts or 0),
                oldest_ready_age_seconds=max(age, 0.0),
            )
        elif state == "running":
            stats = KindStats(running=count, attempts=int(attempts or 0))
        else:
            stats = KindStats(dead=count)
        by_kind[kind] = by_kind.get(kind, KindStats()) + stats
    return QueueStats(by_kind=dict(sorted(by_kind.items())))


async def take_slot(session: AsyncSession, name: str, slot: datetime) -> bool:
    """True for exactly one caller per (sweep, slot): the one whose update moved the schedule
    forward (or, the first time, whose insert made the row)."""
    moved = await session.execute(
        update(JobSchedule)
        .where(JobSchedule.name == name, JobSchedule.last_slot < slot)
        .values(last_slot=slot)
    )
    if moved.rowcount:  # type: ignore[attr-defined]
        return True
    dialect = session.get_bind().dialect.name
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(JobSchedule)
    created = await session.execute(
        statement.values(name=name, last_slot=slot).on_conflict_do_nothing(index_elements=["name"])
    )
    return bool(created.rowcount)  # type: ignore[attr-defined]


__all__ = [
    "JOBS_ENQUEUED",
    "Job",
    "JobContext",
    "JobKind",
    "JobSchedule",
    "JobState",
    "KindStats",
    "Pump",
    "QueueStats",
    "RetryJob",
    "Sweep",
    "claim",
    "complete",
    "enqueue",
    "enqueue_many",
    "exponential_backoff",
    "extend_lease",
    "fail",
    "next_due_at",
    "next_run_at",
    "queue_stats",
    "release",
    "requeue",
    "retry_dead",
    "take_slot",
]
