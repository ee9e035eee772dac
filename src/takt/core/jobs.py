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
- A kind with a `JobBatch` splits its work in three, so a worker handles many jobs with two short
  transactions in all rather than a few each: `load` what its jobs need in the claim's
  transaction, `run` each job outside any transaction, `settle` what happened together with the
  jobs' outcomes in one transaction (webhook deliveries: read, POST, log).

This module is the kit: the table and the statements. The runner is `takt.worker`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Index,
    Integer,
    String,
    Subquery,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column

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


P = TypeVar("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Failed:
    """A batch's verdict on one job that failed: try again at `retry_at`, or never (dead) when
    None. A job has no more than its `max_attempts` (and its kind's) either way."""

    error: str
    retry_at: datetime | None


# What `JobBatch.settle` says of each job: None when it succeeded.
Verdict = Failed | None


@dataclass(frozen=True)
class Attempted(Generic[P, R]):
    """One job of a batch after its run: what `load` prepared for it and what `run` returned."""

    job: Job
    prepared: P
    result: R


@dataclass(frozen=True)
class JobBatch(Generic[P, R]):
    """A kind's work in three steps, so that a worker pays for two short transactions per batch
    of jobs instead of a few per job:

    - `load(session, ctx, jobs)`: what each job needs, by job id, read in the transaction that
      claims them (one query for the batch). A job left out of the answer still runs, with None.
    - `run(ctx, job, prepared)`: the job's work outside any transaction (a network call); each
      job of the batch runs as a task of its own, at once, within its group's limit. An exception
      fails the job on the kind's `backoff` without `settle` seeing it.
    - `settle(session, ctx, attempted)`: record what the runs did, for every job finished since
      the last settle, in the one transaction that also completes or fails those jobs; a
      `Verdict` per job id (one left out succeeded). Written so that a job's writes stay right
      if it is settled again after a crash (a job may run more than once).

    If a batch's settle fails, each of its jobs is settled again alone, so one bad job can't
    keep the others from being recorded."""

    load: Callable[[AsyncSession, JobContext, Sequence[Job]], Awaitable[Mapping[str, P]]]
    run: Callable[[JobContext, Job, P | None], Awaitable[R]]
    settle: Callable[
        [AsyncSession, JobContext, Sequence[Attempted[P | None, R]]],
        Awaitable[Mapping[str, Verdict]],
    ]
    # Called once when the worker stops, to let go of what `run` kept for it (connections).
    close: Callable[[JobContext], Awaitable[None]] | None = None


@dataclass(frozen=True)
class JobKind:
    """A kind of job and its handler, registered with the worker (takt.worker.kinds). The
    worker runs `batch` when a kind has one, else `run` (which opens its own transactions);
    `run` stays the way to run one job by hand."""

    name: str
    run: Callable[[JobContext, Job], Awaitable[None]]
    max_attempts: int = 10
    backoff: Callable[[int], float] = exponential_backoff
    timeout_seconds: float = 300.0
    batch: JobBatch[Any, Any] | None = None


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


# Built once per dialect: enqueueing is on the path of every change that causes a job.
_INSERT_IGNORING_DUPLICATES = {
    "postgresql": pg_insert(Job).on_conflict_do_nothing(index_elements=["dedupe_key"]),
    "sqlite": sqlite_insert(Job).on_conflict_do_nothing(index_elements=["dedupe_key"]),
}


def _insert_ignoring_duplicates(dialect: str) -> Any:
    return _INSERT_IGNORING_DUPLICATES[dialect]


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


# The claim runs for every batch a worker takes: its statements are built once per dialect,
# with their values as bound parameters (building and keying a statement costs more than
# running it).
_jobs: Table = Job.__table__  # type: ignore[assignment]
_NOW = bindparam("now", type_=UTCDateTime())
DIALECTS = ("postgresql", "sqlite")


def one_of(
    column: ColumnElement[Any] | InstrumentedAttribute[Any], name: str, dialect: str
) -> ColumnElement[bool]:
    """`column IN (:name…)` for a list bound when the statement runs. On PostgreSQL `= ANY
    (:name)`, one array parameter: the statement's text, and so its prepared statement, is the
    same whatever the list's length (an expanded `IN` has one per length)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(String())))
    return column.in_(bindparam(name, expanding=True))


_candidates: dict[tuple[bool, bool, str], CompoundSelect[*tuple[Any, ...]]] = {}


def _candidates_statement(
    *, kinds: bool, skip: bool, dialect: str
) -> CompoundSelect[*tuple[Any, ...]]:
    """The oldest `scan` ready jobs whose time has come and the oldest `scan` running ones whose
    lease ran out, of `kinds` and outside the `skip` groups when asked; on PostgreSQL locked,
    skipping those another worker holds. Two branches, each an index range scan on (state,
    run_at) that stops after `scan` rows: one condition with OR would make PostgreSQL read and
    sort every due job, which for a deep queue cost more than the rest of a batch."""
    key = (kinds, skip, dialect)
    found = _candidates.get(key)
    if found is None:

        def oldest(due: ColumnElement[bool]) -> Subquery:
            branch = (
                select(_jobs.c.id, _jobs.c.group_key, _jobs.c.run_at)
                .where(due)
                .order_by(_jobs.c.run_at, _jobs.c.id)
                .limit(bindparam("scan", type_=Integer()))
            )
            if kinds:
                branch = branch.where(one_of(_jobs.c.kind, "kinds", dialect))
            if skip:
                branch = branch.where(
                    or_(_jobs.c.group_key.is_(None), ~one_of(_jobs.c.group_key, "skip", dialect))
                )
            if dialect == "postgresql":
                branch = branch.with_for_update(skip_locked=True)
            return branch.subquery()

        ready = oldest(and_(_jobs.c.state == "ready", _jobs.c.run_at <= _NOW))
        expired = oldest(and_(_jobs.c.state == "running", _jobs.c.locked_until < _NOW))
        found = union_all(select(*ready.c), select(*expired.c))
        _candidates[key] = found
    return found


_TAKE = {
    dialect: update(_jobs)
    .where(one_of(_jobs.c.id, "ids", dialect))
    .values(
        state="running",
        locked_by=bindparam("worker_id", type_=String()),
        locked_until=bindparam("until", type_=UTCDateTime()),
        attempts=_jobs.c.attempts + 1,
        updated_at=_NOW,
    )
    .returning(*_jobs.c)
    for dialect in DIALECTS
}


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
    already holds of it (`group_busy`), so a worker never claims more of a group than it may
    hold (and never has to give one back).

    Two statements, both built once: the due candidates (`_candidates_statement`), locked on
    PostgreSQL with `FOR UPDATE SKIP LOCKED`, so concurrent workers never take the same row
    nor wait for each other; then the update of those chosen within their groups' room, which
    returns them."""
    now = utcnow()
    # A group's jobs beyond its room are passed over, so look a little further than `limit`.
    scan = limit if group_limit is None else limit * 4
    dialect = session.get_bind().dialect.name
    statement = _candidates_statement(
        kinds=kinds is not None, skip=bool(skip_groups), dialect=dialect
    )
    params: dict[str, Any] = {"now": now, "scan": scan}
    if kinds is not None:
        params["kinds"] = list(kinds)
    if skip_groups:
        params["skip"] = sorted(skip_groups)
    # Oldest first across both branches (the run_at of a job whose lease ran out is when it
    # first fell due).
    candidates = sorted(
        (await session.execute(statement, params)).all(), key=lambda c: (c[2], c[0])
    )
    busy = group_busy or {}
    taken: Counter[str] = Counter()
    chosen: list[str] = []
    for job_id, group, _run_at in candidates:
        if group is not None and group_limit is not None:
            if taken[group] >= group_limit - busy.get(group, 0):
                continue
            taken[group] += 1
        chosen.append(job_id)
        if len(chosen) == limit:
            break
    if not chosen:
        return []
    rows = await session.execute(
        _TAKE[dialect], {"ids": chosen, "worker_id": worker_id, "until": now + lease, "now": now}
    )
    claimed = {row.id: Job(**row._mapping) for row in rows}
    return [claimed[job_id] for job_id in chosen if job_id in claimed]


async def complete(session: AsyncSession, job_id: str, worker_id: str) -> bool:
    """The job succeeded: it goes. False when the worker no longer holds it (its lease ran out
    and another worker took it), which the caller can only log."""
    result = await session.execute(
        delete(Job).where(Job.id == job_id, Job.locked_by == worker_id, Job.state == "running")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


_COMPLETE_MANY = {
    dialect: delete(_jobs)
    .where(
        one_of(_jobs.c.id, "ids", dialect),
        _jobs.c.locked_by == bindparam("worker_id", type_=String()),
        _jobs.c.state == "running",
    )
    .returning(_jobs.c.id)
    for dialect in DIALECTS
}


async def complete_many(session: AsyncSession, job_ids: Sequence[str], worker_id: str) -> set[str]:
    """`complete` for many jobs in one statement: the ids of those the worker still held."""
    if not job_ids:
        return set()
    statement = _COMPLETE_MANY[session.get_bind().dialect.name]
    deleted = await session.scalars(statement, {"ids": list(job_ids), "worker_id": worker_id})
    return set(deleted)


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
    """Keep holding jobs that are still running (a heartbeat). On PostgreSQL a row another
    transaction has locked (the worker recording its outcome) is skipped rather than waited
    for: the heartbeat never waits, so it can't deadlock with a batch that writes the same jobs
    in another order, and a skipped lease still has two thirds of its time left."""
    if not job_ids:
        return
    held = and_(Job.id.in_(job_ids), Job.locked_by == worker_id, Job.state == "running")
    if session.get_bind().dialect.name == "postgresql":
        free = select(Job.id).where(held).with_for_update(skip_locked=True).scalar_subquery()
        held = Job.id.in_(free)
    await session.execute(
        update(Job)
        .where(held)
        .values(locked_until=utcnow() + lease)
        .execution_options(synchronize_session=False)
    )


async def forget_dead(session: AsyncSession, kind: str) -> None:
    """Deletes the dead jobs of `kind`. For a sweep's earlier slots when its next slot is
    enqueued: the newer run stands for them, so a sweep failing every hour leaves one dead job
    (the latest, with its reason), not one more each hour."""
    await session.execute(
        delete(Job)
        .where(Job.kind == kind, Job.state == "dead")
        .execution_options(synchronize_session=False)
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
    "Attempted",
    "Failed",
    "Job",
    "JobBatch",
    "JobContext",
    "JobKind",
    "JobSchedule",
    "JobState",
    "KindStats",
    "Pump",
    "QueueStats",
    "RetryJob",
    "Sweep",
    "Verdict",
    "claim",
    "complete",
    "complete_many",
    "enqueue",
    "enqueue_many",
    "exponential_backoff",
    "extend_lease",
    "fail",
    "forget_dead",
    "next_due_at",
    "next_run_at",
    "queue_stats",
    "release",
    "requeue",
    "retry_dead",
    "take_slot",
]
