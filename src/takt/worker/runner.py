"""The worker: claims due jobs and runs them, keeps the pumps going and enqueues the periodic
sweeps, until it is told to stop (docs/architecture.md, Jobs and the worker).

One `Worker` per process: embedded in `takt serve` (main.create_app) or alone in `takt worker`.
Any number of them share one database: a job is held by one worker at a time through its lease
(core.jobs.claim), a sweep's slot is enqueued by one worker (core.jobs.take_slot), and a worker
that dies leaves nothing behind that another can't pick up once the leases run out.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from takt.config import Settings
from takt.core import jobs
from takt.core.db import Database
from takt.core.jobs import Job, JobContext, JobKind, Pump, RetryJob, Sweep
from takt.core.metrics import Metrics
from takt.core.time import utcnow
from takt.core.wakeup import Wakeups
from takt.worker import kinds as registry

log = logging.getLogger("takt.worker")

Outcome = Literal["succeeded", "retried", "dead"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def slot_of(moment: datetime, every: timedelta) -> datetime:
    """The slot of a sweep of period `every` that `moment` falls in (its start, counted from
    the Unix epoch): every worker computes the same one."""
    return EPOCH + ((moment - EPOCH) // every) * every


def sweep_job_key(name: str, slot: datetime) -> str:
    return f"sweep:{name}:{slot.isoformat()}"


def new_worker_id() -> str:
    """Names the worker in `jobs.locked_by`: where it runs, and unique among restarts."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class _Running:
    job: Job
    task: asyncio.Task[None]
    # Past its handler, writing the outcome: a shutdown lets it finish rather than cancel it.
    recording: bool = False


async def _wait_any(events: Iterable[asyncio.Event], timeout: float) -> None:
    """Until one of `events` is set or `timeout` seconds pass."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, timeout=max(timeout, 0), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()


class Worker:
    """Runs jobs, pumps and sweeps until `request_stop` (or `stop`).

    - Jobs: claimed in short transactions, as many as there are free slots
      (`worker_concurrency`), at most `worker_group_concurrency` of one group; each attempt runs
      as an asyncio task bounded by its kind's `timeout_seconds`, while a heartbeat extends the
      leases of running jobs every third of the lease.
    - Between claims it waits for a wake-up (a commit that enqueued jobs, in this process or,
      on PostgreSQL, any), a freed slot, the next job's `run_at`, or `worker_poll_seconds`.
    - Stopping: no more claims; running jobs get `grace_seconds` to finish, the rest are
      cancelled and released untried (their attempt not counted).
    """

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        kinds: Mapping[str, JobKind] | Iterable[JobKind] | None = None,
        pumps: Iterable[Pump] | None = None,
        sweeps: Iterable[Sweep] | None = None,
        wakeups: Wakeups | None = None,
        metrics: Metrics | None = None,
        concurrency: int | None = None,
        worker_id: str | None = None,
        grace_seconds: float = 10.0,
        sweep_check_seconds: float = 5.0,
        pump_retry_seconds: float = 1.0,
    ) -> None:
        self.database = database
        self.settings = settings
        self.id = worker_id or new_worker_id()
        self.sweeps = sorted(registry.sweeps() if sweeps is None else sweeps, key=lambda s: s.name)
        given = registry.job_kinds() if kinds is None else _kind_list(kinds)
        self.kinds = {k.name: k for k in [*map(registry.sweep_kind, self.sweeps), *given]}
        self.pumps = registry.pumps() if pumps is None else list(pumps)
        self.concurrency = concurrency or settings.worker_concurrency
        self.group_limit = settings.worker_group_concurrency
        self.poll_seconds = settings.worker_poll_seconds
        self.lease = timedelta(seconds=settings.job_lease_seconds)
        self.grace_seconds = grace_seconds
        self.sweep_check_seconds = sweep_check_seconds
        self.pump_retry_seconds = pump_retry_seconds
        self.metrics = metrics
        self.context = JobContext(database=database, settings=settings, worker_id=self.id)
        self._owns_wakeups = wakeups is None
        self.wakeups = wakeups or Wakeups()
        self._running: dict[str, _Running] = {}
        self._slot_freed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # Starting and stopping -------------------------------------------------------------------

    def start(self) -> None:
        """Run in the background (the embedded worker); `stop` ends it."""
        self._task = asyncio.create_task(self.run(), name="takt-worker")

    def request_stop(self) -> None:
        """Stop claiming and shut down gracefully (a signal handler may call it)."""
        self._stopping.set()

    async def stop(self) -> None:
        self.request_stop()
        if self._task is not None:
            await self._task
            self._task = None

    async def run(self) -> None:
        """Work until `request_stop`, then shut down gracefully."""
        if self._owns_wakeups:
            self.database.commit_listeners.append(self.wakeups.on_commit)
            self.wakeups.listen_postgres(self.database.url)
        log.info(
            "worker started",
            extra={
                "worker_id": self.id,
                "concurrency": self.concurrency,
                "kinds": sorted(self.kinds),
                "pumps": [p.name for p in self.pumps],
            },
        )
        heartbeat = asyncio.create_task(self._heartbeat(), name="takt-worker-heartbeat")
        scheduler = asyncio.create_task(self._schedule_sweeps(), name="takt-worker-sweeps")
        pumps = [asyncio.create_task(self._pump(p), name=f"takt-pump-{p.name}") for p in self.pumps]
        try:
            await self._claim_loop()
        finally:
            self._stopping.set()
            scheduler.cancel()
            await self._shut_down(pumps)
            heartbeat.cancel()
            await asyncio.gather(heartbeat, scheduler, return_exceptions=True)
            if self._owns_wakeups:
                self.database.commit_listeners.remove(self.wakeups.on_commit)
                await self.wakeups.close()
            log.info("worker stopped", extra={"worker_id": self.id})

    async def _shut_down(self, pumps: list[asyncio.Task[None]]) -> None:
        """Let running jobs (and the pumps' current batches) finish within the grace period;
        cancel the rest and give their jobs back untried."""
        waiting = [r.task for r in self._running.values()] + pumps
        if waiting:
            await asyncio.wait(waiting, timeout=self.grace_seconds)
        unfinished = [r for r in self._running.values() if not r.recording]
        for running in unfinished:
            running.task.cancel()
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(
            *(r.task for r in list(self._running.values())), *pumps, return_exceptions=True
        )
        released = [r.job.id for r in unfinished]
        if released:
            try:
                async with self.database.transaction() as session:
                    await jobs.release(session, released, self.id)
                log.info("jobs released", extra={"worker_id": self.id, "jobs": len(released)})
            except Exception:
                log.exception("could not release jobs; they run again after their lease")

    # Claiming ------------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        while not self._stopping.is_set():
            # Taken before looking, so a commit made after the look wakes the wait below.
            woken = self.wakeups.waiter("jobs")
            self._slot_freed.clear()
            has_room = self.concurrency > len(self._running)
            if has_room:
                try:
                    if await self._claim():
                        continue  # there may be more: look again at once
                except Exception:
                    log.exception("could not claim jobs", extra={"worker_id": self.id})
            timeout = await self._idle_timeout() if has_room else self.poll_seconds
            await _wait_any((woken, self._slot_freed, self._stopping), timeout)

    async def _claim(self) -> int:
        busy = Counter(r.job.group_key for r in self._running.values() if r.job.group_key)
        saturated = {group for group, count in busy.items() if count >= self.group_limit}
        async with self.database.transaction() as session:
            claimed = await jobs.claim(
                session,
                worker_id=self.id,
                limit=self.concurrency - len(self._running),
                lease=self.lease,
                skip_groups=saturated,
                group_limit=self.group_limit,
                group_busy=busy,
            )
        for job in claimed:
            task = asyncio.create_task(self._execute(job), name=f"takt-job-{job.id}")
            self._running[job.id] = _Running(job, task)
        return len(claimed)

    async def _idle_timeout(self) -> float:
        """Until the next job falls due, at most the poll interval. A due job that could not
        be claimed (its group is at its limit, or every slot is taken) waits for a freed slot
        or the poll."""
        try:
            async with self.database.transaction(write=False) as session:
                due = await jobs.next_due_at(session)
        except Exception:
            log.exception("could not read the queue", extra={"worker_id": self.id})
            return self.poll_seconds
        if due is None:
            return self.poll_seconds
        until = (due - utcnow()).total_seconds()
        return self.poll_seconds if until <= 0 else min(self.poll_seconds, until)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            held = list(self._running)
            if not held:
                continue
            try:
                async with self.database.transaction() as session:
                    await jobs.extend_lease(session, held, self.id, self.lease)
            except Exception:
                log.exception("could not extend leases", extra={"worker_id": self.id})

    # Running a job -------------------------------------------------------------------------

    async def _execute(self, job: Job) -> None:
        started = time.monotonic()
        try:
            error, retry_at, outcome = await self._attempt(job)
            self._running[job.id].recording = True
            await self._record(job, error, retry_at)
            if self.metrics is not None:
                self.metrics.job_ran(job.kind, outcome, time.monotonic() - started)
        finally:
            self._running.pop(job.id, None)
            self._slot_freed.set()

    async def _attempt(self, job: Job) -> tuple[str | None, datetime | None, Outcome]:
        """Run the job once: (error or None, when to try again or None for never, outcome).
        A cancellation (shutdown) goes through: the job is released, not failed."""
        kind = self.kinds.get(job.kind)
        if kind is None:
            return f"no handler for job kind {job.kind!r} in this worker", None, "dead"
        most = min(kind.max_attempts, job.max_attempts)
        if job.attempts > most:
            # Claimed again and again without an outcome: its worker died each time (it may
            # be what kills them). Never run it again by itself.
            error = f"claimed {job.attempts} times without finishing; its worker stopped each time"
            return error, None, "dead"
        deadline = asyncio.timeout(kind.timeout_seconds)
        try:
            async with deadline:
                await kind.run(self.context, job)
        except RetryJob as exc:
            # The handler's own time, while attempts remain: no job runs more than its most.
            if exc.at is None or job.attempts >= most:
                return str(exc), None, "dead"
            return str(exc), exc.at, "retried"
        except Exception as exc:
            if isinstance(exc, TimeoutError) and deadline.expired():
                error = f"timed out after {kind.timeout_seconds:g} s"
                log.warning("job timed out", extra=self._about(job, error))
            else:
                error = f"{type(exc).__name__}: {exc}"
                log.warning("job failed", exc_info=True, extra=self._about(job, error))
        else:
            return None, None, "succeeded"
        if job.attempts >= most:
            return error, None, "dead"
        return error, utcnow() + timedelta(seconds=kind.backoff(job.attempts)), "retried"

    async def _record(self, job: Job, error: str | None, retry_at: datetime | None) -> None:
        try:
            async with self.database.transaction() as session:
                if error is None:
                    held = await jobs.complete(session, job.id, self.id)
                else:
                    state = await jobs.fail(session, job, self.id, error=error, retry_at=retry_at)
                    held = state is not None
        except Exception:
            log.exception("could not record a job's outcome; it runs again after its lease")
            return
        if not held:
            log.warning("job was taken over after its lease ran out", extra=self._about(job))
        elif error is not None and retry_at is None:
            log.error("job is dead", extra=self._about(job, error))

    def _about(self, job: Job, error: str | None = None) -> dict[str, object]:
        about: dict[str, object] = {
            "worker_id": self.id,
            "job_id": job.id,
            "kind": job.kind,
            "attempts": job.attempts,
        }
        if error is not None:
            about["error"] = error
        return about

    # Pumps and sweeps ----------------------------------------------------------------------

    async def _pump(self, pump: Pump) -> None:
        """`pump.run` batch after batch while it says more is waiting; then wait for a
        wake-up or the poll interval. A failure is logged and retried after a pause."""
        while not self._stopping.is_set():
            woken = self.wakeups.waiter(pump.wake_on)
            try:
                more = await pump.run(self.context)
            except Exception:
                log.exception("pump failed", extra={"worker_id": self.id, "pump": pump.name})
                await _wait_any((self._stopping,), self.pump_retry_seconds)
                continue
            if not more:
                await _wait_any((woken, self._stopping), self.poll_seconds)

    async def _schedule_sweeps(self) -> None:
        """Every few seconds, enqueue each sweep whose slot came and whose `take_slot` this
        worker wins: a slot's job is enqueued once across all workers."""
        seen: dict[str, datetime] = {}
        while not self._stopping.is_set():
            now = utcnow()
            slots = {s.name: slot_of(now, s.every) for s in self.sweeps}
            new = [s for s in self.sweeps if seen.get(s.name) != slots[s.name]]
            if new:
                try:
                    await self._enqueue_sweeps(new, slots)
                    seen.update((s.name, slots[s.name]) for s in new)
                except Exception:
                    log.exception("could not schedule sweeps", extra={"worker_id": self.id})
            await _wait_any((self._stopping,), self.sweep_check_seconds)

    async def _enqueue_sweeps(self, sweeps: list[Sweep], slots: dict[str, datetime]) -> None:
        # One transaction: the slot is taken only together with its job. Sweeps go in name
        # order, so two workers lock the schedule's rows in the same order.
        async with self.database.transaction() as session:
            for sweep in sweeps:
                slot = slots[sweep.name]
                if await jobs.take_slot(session, sweep.name, slot):
                    kind = self.kinds[f"{registry.SWEEP_PREFIX}{sweep.name}"]
                    await jobs.enqueue(
                        session,
                        kind.name,
                        {"slot": slot.isoformat()},
                        dedupe_key=sweep_job_key(sweep.name, slot),
                        max_attempts=kind.max_attempts,
                    )


def _kind_list(kinds: Mapping[str, JobKind] | Iterable[JobKind]) -> list[JobKind]:
    return list(kinds.values()) if isinstance(kinds, Mapping) else list(kinds)
