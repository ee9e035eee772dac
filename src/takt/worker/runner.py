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
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from takt.config import Settings
from takt.core import jobs
from takt.core.db import Database
from takt.core.jobs import Attempted, Job, JobContext, JobKind, Pump, RetryJob, Sweep, Verdict
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


@dataclass(eq=False)
class _Held:
    """A job this worker holds, from its claim until its outcome is committed."""

    job: Job
    kind: JobKind | None
    # What the kind's batch `load` prepared for it (None for a kind without a batch).
    prepared: Any
    claimed_at: float
    # When its run began (its group's turn came); None before.
    started_at: float | None = None
    task: asyncio.Task[None] | None = None
    # Handed to the recorder: a shutdown lets its outcome be written rather than cancel it.
    recording: bool = False


@dataclass(eq=False)
class _Finished:
    """A job's attempt, waiting for the recorder to write its outcome."""

    held: _Held
    error: str | None = None
    retry_at: datetime | None = None
    outcome: Outcome = "succeeded"
    # Set when the kind's batch `settle` decides the outcome from what `run` returned.
    settle: bool = False
    result: Any = None
    # From the start of its run to its outcome (the metrics' job duration).
    seconds: float = 0.0


# How long the recorder waits at most for held jobs still running to finish before it writes
# the outcomes waiting (a job's commit-to-delivery latency can grow by as much).
RECORD_LINGER_SECONDS = 0.02
# The pause between a wake-up and the look it causes (`Worker._settle_wakeups`).
WAKE_SETTLE_SECONDS = 0.003
# A job that waited longer than this for its group's turn reads what its batch prepared again
# before it runs (a webhook disabled meanwhile is not called).
STALE_AFTER_SECONDS = 2.0


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

    - Jobs: claimed in batches, one short transaction each, as many as there are free slots
      (`worker_concurrency`), at most half of them of one group; in the same transaction each
      kind with a `JobBatch` loads what its jobs need. Each attempt runs as an asyncio task
      bounded by its kind's `timeout_seconds`, at most `worker_group_concurrency` of one group
      at a time; a heartbeat extends the leases of held jobs every third of the lease.
    - Outcomes: a recorder writes every outcome that finished since its last write in one
      transaction (with the batch kinds' `settle`), so jobs finishing together cost one commit.
    - Between claims it waits for a wake-up (a commit that enqueued jobs, in this process or,
      on PostgreSQL, any), freed slots, the next job's `run_at`, or `worker_poll_seconds`.
    - Stopping: no more claims; running jobs get `grace_seconds` to finish and their outcomes
      are written, the rest are cancelled and released untried (their attempt not counted).
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
        # At most this many of a group run at once (their turn comes through the group's
        # semaphore), and at most `group_claim_limit` are held: claimed together so that a
        # batch is worth its transactions, while a slow group never holds more than half of
        # the slots.
        self.group_limit = settings.worker_group_concurrency
        self.group_claim_limit = max(self.group_limit, self.concurrency // 2)
        # With no room for this many, the worker waits for more slots to free before claiming:
        # a busy worker claims batches, not the one job each freed slot would let it.
        self.claim_threshold = max(1, self.concurrency // 4)
        self.poll_seconds = settings.worker_poll_seconds
        self.lease = timedelta(seconds=settings.job_lease_seconds)
        self.grace_seconds = grace_seconds
        self.sweep_check_seconds = sweep_check_seconds
        self.pump_retry_seconds = pump_retry_seconds
        self.metrics = metrics
        self.context = JobContext(database=database, settings=settings, worker_id=self.id)
        self._owns_wakeups = wakeups is None
        self.wakeups = wakeups or Wakeups()
        self._running: dict[str, _Held] = {}
        self._held_by_group: Counter[str] = Counter()
        self._group_turns: dict[str, asyncio.Semaphore] = {}
        self._finished: list[_Finished] = []
        self._finished_ready = asyncio.Event()
        self._recorder_stop = asyncio.Event()
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
        recorder = asyncio.create_task(self._record_loop(), name="takt-worker-recorder")
        pumps = [asyncio.create_task(self._pump(p), name=f"takt-pump-{p.name}") for p in self.pumps]
        try:
            await self._claim_loop()
        finally:
            self._stopping.set()
            scheduler.cancel()
            await self._shut_down(pumps, recorder)
            heartbeat.cancel()
            await asyncio.gather(heartbeat, scheduler, return_exceptions=True)
            await self._close_kinds()
            if self._owns_wakeups:
                self.database.commit_listeners.remove(self.wakeups.on_commit)
                await self.wakeups.close()
            log.info("worker stopped", extra={"worker_id": self.id})

    async def _shut_down(
        self, pumps: list[asyncio.Task[None]], recorder: asyncio.Task[None]
    ) -> None:
        """Let running jobs (and the pumps' current batches) finish within the grace period and
        write their outcomes; cancel the rest and give their jobs back untried."""
        waiting = [h.task for h in self._running.values() if h.task is not None] + pumps
        if waiting:
            await asyncio.wait(waiting, timeout=self.grace_seconds)
        unfinished = [h for h in self._running.values() if not h.recording]
        for held in unfinished:
            if held.task is not None:
                held.task.cancel()
        for pump in pumps:
            pump.cancel()
        tasks = [h.task for h in list(self._running.values()) if h.task is not None]
        await asyncio.gather(*tasks, *pumps, return_exceptions=True)
        # What finished is written before the worker goes (the recorder drains, then ends).
        self._recorder_stop.set()
        await asyncio.gather(recorder, return_exceptions=True)
        released = [h.job.id for h in unfinished]
        if released:
            try:
                async with self.database.transaction() as session:
                    await jobs.release(session, released, self.id)
                log.info("jobs released", extra={"worker_id": self.id, "jobs": len(released)})
            except Exception:
                log.exception("could not release jobs; they run again after their lease")

    async def _close_kinds(self) -> None:
        for kind in self.kinds.values():
            if kind.batch is not None and kind.batch.close is not None:
                try:
                    await kind.batch.close(self.context)
                except Exception:
                    log.exception("could not close a job kind", extra={"kind": kind.name})

    # Claiming ------------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        while not self._stopping.is_set():
            # Taken before looking, so a commit made after the look wakes the wait below.
            woken = self.wakeups.waiter("jobs")
            self._slot_freed.clear()
            room = self.concurrency - len(self._running)
            timeout = self.poll_seconds
            # Freed slots are worth a look only when due jobs were left for want of them.
            for_slots = True
            if room >= self.claim_threshold or (room > 0 and not self._running):
                try:
                    claimed, due, left = await self._claim(room)
                    if claimed == room:
                        continue  # there may be more: look again once slots free
                    if not claimed and not left:
                        timeout = self._until(due)
                    for_slots = left
                except Exception:
                    log.exception("could not claim jobs", extra={"worker_id": self.id})
            waits = (
                (woken, self._stopping, self._slot_freed) if for_slots else (woken, self._stopping)
            )
            await _wait_any(waits, timeout)
            if woken.is_set():
                await self._settle_wakeups()

    async def _claim(self, room: int) -> tuple[int, datetime | None, bool]:
        """Claim up to `room` due jobs and load what the batch kinds need, in one transaction;
        start a task for each. When none was due, also when the next one falls due (the wait
        until then; a job that falls due while others run waits at most the poll interval).
        And whether due jobs may have been left for want of room in their groups."""
        busy = self._held_by_group
        saturated = {group for group, count in busy.items() if count >= self.group_claim_limit}
        due = None
        async with self.database.transaction() as session:
            claimed = await jobs.claim(
                session,
                worker_id=self.id,
                limit=room,
                lease=self.lease,
                skip_groups=saturated,
                group_limit=self.group_claim_limit,
                group_busy=busy,
            )
            prepared = await self._load(session, claimed)
            if not claimed:
                due = await jobs.next_due_at(session)
        now = time.monotonic()
        for job in claimed:
            held = _Held(job, self.kinds.get(job.kind), prepared.get(job.id), now)
            self._running[job.id] = held
            if job.group_key:
                self._held_by_group[job.group_key] += 1
            held.task = asyncio.create_task(self._execute(held), name=f"takt-job-{job.id}")
        full = {job.group_key for job in claimed if job.group_key}
        left = bool(saturated) or any(
            self._held_by_group[group] >= self.group_claim_limit for group in full
        )
        return len(claimed), due, left

    async def _load(self, session: AsyncSession, claimed: list[Job]) -> dict[str, Any]:
        """What each batch kind prepares for its claimed jobs, by job id."""
        by_kind: dict[str, list[Job]] = {}
        for job in claimed:
            kind = self.kinds.get(job.kind)
            if kind is not None and kind.batch is not None:
                by_kind.setdefault(kind.name, []).append(job)
        prepared: dict[str, Any] = {}
        for name, of_kind in by_kind.items():
            batch = self.kinds[name].batch
            assert batch is not None
            prepared.update(await batch.load(session, self.context, of_kind))
        return prepared

    def _until(self, due: datetime | None) -> float:
        """Seconds to wait for the next job due at `due`, at most the poll interval. A due job
        that could not be claimed (its group is at its limit, or every slot is taken) waits for
        freed slots or the poll."""
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

    async def _execute(self, held: _Held) -> None:
        """Run the attempt (in its group's turn) and hand its outcome to the recorder. A
        cancellation (shutdown) goes through: the job is released, not failed."""
        try:
            finished = await self._attempt(held)
        except Exception:
            # The worker's own failure, not the job's: leave the job to its lease.
            log.exception(
                "could not run a job; it runs again after its lease", extra=self._about(held.job)
            )
            self._forget(held)
            return
        finished.seconds = time.monotonic() - (held.started_at or held.claimed_at)
        held.recording = True
        self._finished.append(finished)
        self._finished_ready.set()

    async def _attempt(self, held: _Held) -> _Finished:
        job, kind = held.job, held.kind
        if kind is None:
            error = f"no handler for job kind {job.kind!r} in this worker"
            return _Finished(held, error=error, outcome="dead")
        most = min(kind.max_attempts, job.max_attempts)
        if job.attempts > most:
            # Claimed again and again without an outcome: its worker died each time (it may
            # be what kills them). Never run it again by itself.
            error = f"claimed {job.attempts} times without finishing; its worker stopped each time"
            return _Finished(held, error=error, outcome="dead")
        async with self._turn(job.group_key):
            held.started_at = time.monotonic()
            if kind.batch is not None and held.started_at - held.claimed_at > STALE_AFTER_SECONDS:
                async with self.database.transaction(write=False) as session:
                    loaded = await kind.batch.load(session, self.context, [job])
                    held.prepared = loaded.get(job.id)
            deadline = asyncio.timeout(kind.timeout_seconds)
            try:
                async with deadline:
                    if kind.batch is not None:
                        result = await kind.batch.run(self.context, job, held.prepared)
                        return _Finished(held, settle=True, result=result)
                    await kind.run(self.context, job)
            except RetryJob as exc:
                # The handler's own time, while attempts remain: no job runs more than its most.
                if exc.at is None or job.attempts >= most:
                    return _Finished(held, error=str(exc), outcome="dead")
                return _Finished(held, error=str(exc), retry_at=exc.at, outcome="retried")
            except Exception as exc:
                if isinstance(exc, TimeoutError) and deadline.expired():
                    error = f"timed out after {kind.timeout_seconds:g} s"
                    log.warning("job timed out", extra=self._about(job, error))
                else:
                    error = f"{type(exc).__name__}: {exc}"
                    log.warning("job failed", exc_info=True, extra=self._about(job, error))
            else:
                return _Finished(held)
        if job.attempts >= most:
            return _Finished(held, error=error, outcome="dead")
        retry_at = utcnow() + timedelta(seconds=kind.backoff(job.attempts))
        return _Finished(held, error=error, retry_at=retry_at, outcome="retried")

    def _turn(self, group: str | None) -> AbstractAsyncContextManager[Any]:
        """The group's turn: at most `group_limit` of its jobs run at once in this worker."""
        if not group:
            return nullcontext()
        turn = self._group_turns.get(group)
        if turn is None:
            turn = self._group_turns[group] = asyncio.Semaphore(self.group_limit)
        return turn

    def _forget(self, held: _Held) -> None:
        """The job is no longer this worker's to hold (its outcome is written, or left to its
        lease): its slot frees."""
        if self._running.pop(held.job.id, None) is None:
            return
        group = held.job.group_key
        if group:
            self._held_by_group[group] -= 1
            if self._held_by_group[group] <= 0:
                del self._held_by_group[group]
                self._group_turns.pop(group, None)
        self._slot_freed.set()

    # Recording outcomes --------------------------------------------------------------------

    async def _record_loop(self) -> None:
        """Write the outcomes that finished, all that are waiting in one transaction, until
        told to stop and nothing is left (what finishes during a write goes in the next)."""
        while True:
            if not self._finished:
                if self._recorder_stop.is_set():
                    return
                await _wait_any((self._finished_ready, self._recorder_stop), self.poll_seconds)
                continue
            await self._linger()
            batch, self._finished = self._finished, []
            self._finished_ready.clear()
            try:
                await self._record(batch)
            finally:
                for finished in batch:
                    self._forget(finished.held)

    async def _linger(self) -> None:
        """While other held jobs still run (not those waiting for their group's turn), wait
        for them a little (at most `RECORD_LINGER_SECONDS`), so that one write takes the
        outcomes of jobs that finish together: a batch claimed together is mostly written
        together."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RECORD_LINGER_SECONDS
        while not self._recorder_stop.is_set():
            left = deadline - loop.time()
            running = (h for h in self._running.values() if h.started_at and not h.recording)
            if left <= 0 or next(running, None) is None:
                return
            self._finished_ready.clear()
            await _wait_any((self._finished_ready, self._recorder_stop), left)

    async def _record(self, batch: list[_Finished]) -> None:
        try:
            await self._write(batch)
        except Exception:
            if len(batch) == 1:
                log.exception(
                    "could not record a job's outcome; it runs again after its lease",
                    extra=self._about(batch[0].held.job),
                )
                return
            # One at a time, so that what sank the batch sinks only its own job.
            log.warning(
                "could not record a batch of outcomes; recording them one by one", exc_info=True
            )
            for finished in batch:
                await self._record([finished])
            return
        if self.metrics is not None:
            for finished in batch:
                self.metrics.job_ran(finished.held.job.kind, finished.outcome, finished.seconds)

    async def _write(self, batch: list[_Finished]) -> None:
        """In one transaction: each batch kind's `settle` of its attempts, then every job's
        outcome (deleted, ready again later, or dead)."""
        async with self.database.transaction() as session:
            to_settle: dict[str, list[_Finished]] = {}
            for finished in batch:
                if finished.settle:
                    to_settle.setdefault(finished.held.job.kind, []).append(finished)
            for name, of_kind in to_settle.items():
                kind = self.kinds[name]
                assert kind.batch is not None
                verdicts = await kind.batch.settle(
                    session,
                    self.context,
                    [Attempted(f.held.job, f.held.prepared, f.result) for f in of_kind],
                )
                for finished in of_kind:
                    _apply(finished, kind, verdicts.get(finished.held.job.id))
            done = [f.held.job.id for f in batch if f.error is None]
            held = await jobs.complete_many(session, done, self.id)
            for finished in batch:
                job = finished.held.job
                if finished.error is not None:
                    state = await jobs.fail(
                        session, job, self.id, error=finished.error, retry_at=finished.retry_at
                    )
                    if state is not None:
                        held.add(job.id)
        for finished in batch:
            job = finished.held.job
            if job.id not in held:
                log.warning("job was taken over after its lease ran out", extra=self._about(job))
            elif finished.outcome == "dead":
                log.error("job is dead", extra=self._about(job, finished.error))

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
                if woken.is_set():
                    await self._settle_wakeups()

    async def _settle_wakeups(self) -> None:
        """A moment after a wake-up, before looking: a commit of this process wakes it twice,
        at once and again when PostgreSQL's NOTIFY of the same commit comes back, and the
        second would cost a look that finds nothing. The wait lets that echo land on the
        wake-up already spent; anything committed meanwhile is seen by the look that follows
        (the next waiter is taken before it)."""
        await _wait_any((self._stopping,), WAKE_SETTLE_SECONDS)

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
                    await jobs.forget_dead(session, kind.name)
                    await jobs.enqueue(
                        session,
                        kind.name,
                        {"slot": slot.isoformat()},
                        dedupe_key=sweep_job_key(sweep.name, slot),
                        max_attempts=kind.max_attempts,
                    )


def _kind_list(kinds: Mapping[str, JobKind] | Iterable[JobKind]) -> list[JobKind]:
    return list(kinds.values()) if isinstance(kinds, Mapping) else list(kinds)


def _apply(finished: _Finished, kind: JobKind, verdict: Verdict) -> None:
    """A batch kind's verdict on one job, within the attempts it has: succeeded, again at the
    time chosen, or dead."""
    if verdict is None:
        return
    finished.error = verdict.error
    most = min(kind.max_attempts, finished.held.job.max_attempts)
    if verdict.retry_at is None or finished.held.job.attempts >= most:
        finished.outcome = "dead"
    else:
        finished.retry_at = verdict.retry_at
        finished.outcome = "retried"
