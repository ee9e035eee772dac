"""Kinds with a `JobBatch`: what their jobs need is loaded in the claim's transaction, each job
runs by itself (within its group's turns), and the outcomes that finish together are settled in
one transaction with the jobs' own; a settle that fails sinks only its own job; a shutdown
writes what finished and releases the rest untried."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.config import Settings
from takt.core.db import Database
from takt.core.jobs import Attempted, Failed, Job, JobBatch, JobContext, JobKind, Verdict
from takt.core.time import utcnow
from tests.worker.helpers import add_jobs, all_jobs, eventually, quick, running, worker


async def _never(_ctx: JobContext, _job: Job) -> None:
    raise AssertionError("a batch kind's jobs run through its batch")


def batch_kind(name: str, batch: JobBatch[Any, Any], **options: Any) -> JobKind:
    return JobKind(name=name, run=_never, batch=batch, **options)


async def test_a_batch_loads_with_its_claim_runs_each_job_and_settles_them_together(
    db: Database, settings: Settings
) -> None:
    loaded: list[int] = []
    ran: Counter[int] = Counter()
    settled: Counter[int] = Counter()
    in_claim: list[bool] = []

    async def load(session: AsyncSession, _ctx: JobContext, of: Sequence[Job]) -> Mapping[str, int]:
        in_claim.append(session.in_transaction())
        loaded.append(len(of))
        return {job.id: int(job.payload["n"]) * 10 for job in of}

    async def run(_ctx: JobContext, job: Job, prepared: int | None) -> int:
        assert prepared == int(job.payload["n"]) * 10
        ran[int(job.payload["n"])] += 1
        return prepared + 1

    async def settle(
        _session: AsyncSession, _ctx: JobContext, attempted: Sequence[Attempted[int | None, int]]
    ) -> Mapping[str, Verdict]:
        verdicts: dict[str, Verdict] = {}
        for entry in attempted:
            assert entry.prepared is not None
            assert entry.result == entry.prepared + 1
            settled[int(entry.job.payload["n"])] += 1
            if entry.job.payload["n"] == 3:
                verdicts[entry.job.id] = Failed("not yet", utcnow() + timedelta(hours=1))
        return verdicts

    await add_jobs(db, "test.batch", 6)
    kind = batch_kind("test.batch", JobBatch(load=load, run=run, settle=settle))
    async with running(worker(db, settings, kind, concurrency=8)):

        async def one_left() -> bool:
            return [j.payload["n"] for j in await all_jobs(db)] == [3] and settled[3] == 1

        await eventually(one_left)
    assert sum(loaded) == 6
    assert all(in_claim)
    assert ran == settled == Counter(range(6))
    [left] = await all_jobs(db)
    assert (left.state, left.attempts, left.last_error) == ("ready", 1, "not yet")
    assert left.run_at > utcnow() + timedelta(minutes=59)


async def test_a_settle_that_fails_sinks_only_its_own_job(db: Database, settings: Settings) -> None:
    async def load(
        _session: AsyncSession, _ctx: JobContext, of: Sequence[Job]
    ) -> Mapping[str, None]:
        return {}

    async def run(_ctx: JobContext, _job: Job, _prepared: None) -> None:
        await asyncio.sleep(0.05)  # they finish together

    async def settle(
        _session: AsyncSession, _ctx: JobContext, attempted: Sequence[Attempted[None, None]]
    ) -> Mapping[str, Verdict]:
        if any(entry.job.payload.get("poison") for entry in attempted):
            raise RuntimeError("a bug that only this job meets")
        return {}

    await add_jobs(db, "test.batch", 4)
    await add_jobs(db, "test.batch", payload={"poison": True})
    kind = batch_kind("test.batch", JobBatch(load=load, run=run, settle=settle))
    one = worker(db, quick(settings, job_lease_seconds=1), kind, concurrency=8)
    async with running(one):

        async def only_poison_left() -> bool:
            return [j.payload.get("poison") for j in await all_jobs(db)] == [True]

        await eventually(only_poison_left)
        [poison] = await all_jobs(db)
        # Left to its lease, which no heartbeat extends: a worker takes it again after that.
        assert (poison.state, poison.attempts) == ("running", 1)
        assert poison.locked_until is not None
        lease_ended = poison.locked_until

        async def taken_again() -> bool:
            return [j.attempts for j in await all_jobs(db)] == [2]

        await eventually(taken_again)
    [again] = await all_jobs(db)
    assert again.updated_at >= lease_ended


async def test_attempts_a_batch_fails_again_and_again_end_dead(
    db: Database, settings: Settings
) -> None:
    async def load(
        _session: AsyncSession, _ctx: JobContext, of: Sequence[Job]
    ) -> Mapping[str, None]:
        return {}

    async def run(_ctx: JobContext, _job: Job, _prepared: None) -> None:
        return None

    async def settle(
        _session: AsyncSession, _ctx: JobContext, attempted: Sequence[Attempted[None, None]]
    ) -> Mapping[str, Verdict]:
        return {entry.job.id: Failed("still failing", utcnow()) for entry in attempted}

    await add_jobs(db, "test.batch", max_attempts=3)
    kind = batch_kind("test.batch", JobBatch(load=load, run=run, settle=settle), max_attempts=5)
    async with running(worker(db, settings, kind)):

        async def dead() -> bool:
            return [j.state for j in await all_jobs(db)] == ["dead"]

        await eventually(dead)
    [job] = await all_jobs(db)
    assert (job.attempts, job.last_error) == (3, "still failing")


async def test_a_shutdown_writes_what_finished_and_releases_jobs_waiting_for_their_turn(
    db: Database, settings: Settings
) -> None:
    started: list[int] = []
    settled: list[int] = []
    cancelled = asyncio.Event()

    async def load(
        _session: AsyncSession, _ctx: JobContext, of: Sequence[Job]
    ) -> Mapping[str, None]:
        return {}

    async def run(_ctx: JobContext, job: Job, _prepared: None) -> None:
        started.append(int(job.payload["n"]))
        if job.group_key == "stuck":
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancelled.set()
                raise

    async def settle(
        _session: AsyncSession, _ctx: JobContext, attempted: Sequence[Attempted[None, None]]
    ) -> Mapping[str, Verdict]:
        settled.extend(int(entry.job.payload["n"]) for entry in attempted)
        return {}

    await add_jobs(db, "test.batch", 3, group_key="stuck")
    await add_jobs(db, "test.batch", payload={"n": 9}, group_key="free")
    kind = batch_kind("test.batch", JobBatch(load=load, run=run, settle=settle))
    one = worker(
        db, quick(settings, worker_group_concurrency=1), kind, concurrency=8, grace_seconds=0.3
    )
    one.start()

    async def first_stuck() -> bool:
        return len(started) == 2 and settled == [9]

    await eventually(first_stuck)
    await one.stop()
    assert cancelled.is_set()
    left = await all_jobs(db)
    # The one that ran was cancelled, the two waiting for the group's one turn never started:
    # all three back in the queue untried.
    assert sorted(j.payload["n"] for j in left) == [0, 1, 2]
    assert {(j.state, j.attempts, j.locked_by) for j in left} == {("ready", 0, None)}
    assert len([n for n in started if n != 9]) == 1
