"""The runner: jobs run once across racing workers, retries and backoff, dead jobs, leases and
their heartbeat, group limits, timeouts, graceful shutdown and pumps."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from takt.config import Settings
from takt.core import jobs
from takt.core.db import Database
from takt.core.jobs import Job, JobContext, Pump, RetryJob
from takt.core.time import utcnow
from tests.worker.helpers import (
    add_jobs,
    all_jobs,
    eventually,
    kind,
    queue_is_empty,
    quick,
    running,
    worker,
)


async def test_four_workers_racing_run_each_of_200_jobs_once(
    db: Database, settings: Settings
) -> None:
    runs: Counter[int] = Counter()
    runners: Counter[str] = Counter()

    async def count(ctx: JobContext, job: Job) -> None:
        runs[job.payload["n"]] += 1
        runners[ctx.worker_id] += 1
        await asyncio.sleep(0)  # let the other workers in between

    work = kind("test.count", count)
    await add_jobs(db, "test.count", 200)
    workers = [worker(db, settings, work, concurrency=8) for _ in range(4)]
    async with running(*workers):
        await eventually(lambda: queue_is_empty(db))
    assert runs == Counter(range(200))
    assert set(runners) <= {w.id for w in workers}


async def test_a_job_whose_lease_ran_out_is_taken_by_another_worker(
    db: Database, settings: Settings
) -> None:
    await add_jobs(db, "test.once")
    async with db.transaction() as session:
        [held] = await jobs.claim(
            session, worker_id="gone", limit=1, lease=timedelta(milliseconds=200)
        )
    seen: list[tuple[int, str]] = []

    async def record(ctx: JobContext, job: Job) -> None:
        seen.append((job.attempts, ctx.worker_id))

    taker = worker(db, settings, kind("test.once", record))
    async with running(taker):
        await eventually(lambda: queue_is_empty(db))
    assert seen == [(2, taker.id)]
    async with db.transaction() as session:
        assert not await jobs.complete(session, held.id, "gone")  # no longer the dead one's


async def test_a_job_held_under_a_live_lease_is_left_alone(
    db: Database, settings: Settings
) -> None:
    await add_jobs(db, "test.once")
    async with db.transaction() as session:
        await jobs.claim(session, worker_id="alive", limit=1, lease=timedelta(minutes=5))
    ran: list[int] = []

    async def record(_ctx: JobContext, job: Job) -> None:
        ran.append(job.attempts)

    async with running(worker(db, settings, kind("test.once", record))):
        await asyncio.sleep(0.5)  # several looks at the queue
    assert ran == []
    [job] = await all_jobs(db)
    assert (job.state, job.locked_by) == ("running", "alive")


async def test_failures_back_off_then_the_job_is_dead(db: Database, settings: Settings) -> None:
    calls: list[tuple[int, float]] = []
    loop = asyncio.get_running_loop()

    async def broken(_ctx: JobContext, job: Job) -> None:
        calls.append((job.attempts, loop.time()))
        raise ValueError(f"boom {job.attempts}")

    work = kind("test.broken", broken, max_attempts=3, backoff=lambda attempts: 0.1 * attempts)
    await add_jobs(db, "test.broken", max_attempts=3)
    async with running(worker(db, settings, work)):

        async def dead() -> bool:
            return [j.state for j in await all_jobs(db)] == ["dead"]

        await eventually(dead)
    [job] = await all_jobs(db)
    assert (job.attempts, job.last_error, job.locked_by) == (3, "ValueError: boom 3", None)
    assert [attempts for attempts, _ in calls] == [1, 2, 3]
    # Each retry waited at least its backoff: 0.1 s after the first failure, 0.2 s after the second.
    assert calls[1][1] - calls[0][1] >= 0.1
    assert calls[2][1] - calls[1][1] >= 0.2


async def test_retry_job_runs_again_at_the_time_the_handler_chose(
    db: Database, settings: Settings
) -> None:
    chosen = utcnow()
    ran_at = []

    async def later(_ctx: JobContext, job: Job) -> None:
        nonlocal chosen
        ran_at.append(utcnow())
        if job.attempts == 1:
            chosen = utcnow() + timedelta(milliseconds=300)
            raise RetryJob("rate limited", at=chosen)

    await add_jobs(db, "test.later")
    async with running(worker(db, settings, kind("test.later", later))):
        await eventually(lambda: queue_is_empty(db))
    assert len(ran_at) == 2
    assert ran_at[1] >= chosen


async def test_retry_job_without_a_time_is_dead_at_once(db: Database, settings: Settings) -> None:
    async def give_up(_ctx: JobContext, _job: Job) -> None:
        raise RetryJob("the endpoint is gone (410)", at=None)

    await add_jobs(db, "test.give-up")
    async with running(worker(db, settings, kind("test.give-up", give_up))):

        async def dead() -> bool:
            return [j.state for j in await all_jobs(db)] == ["dead"]

        await eventually(dead)
    [job] = await all_jobs(db)
    assert (job.attempts, job.last_error) == (1, "the endpoint is gone (410)")


async def test_a_job_of_a_kind_no_worker_knows_is_dead_with_a_clear_error(
    db: Database, settings: Settings
) -> None:
    await add_jobs(db, "test.nobody-knows")

    async def nothing(_ctx: JobContext, _job: Job) -> None:
        return None

    async with running(worker(db, settings, kind("test.known", nothing))):

        async def dead() -> bool:
            return [j.state for j in await all_jobs(db)] == ["dead"]

        await eventually(dead)
    [job] = await all_jobs(db)
    assert job.last_error == "no handler for job kind 'test.nobody-knows' in this worker"


async def test_an_attempt_longer_than_its_timeout_fails_and_is_cancelled(
    db: Database, settings: Settings
) -> None:
    cancelled = asyncio.Event()

    async def hangs(_ctx: JobContext, _job: Job) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    work = kind("test.hangs", hangs, timeout_seconds=0.2, max_attempts=1)
    await add_jobs(db, "test.hangs", max_attempts=1)
    async with running(worker(db, settings, work)):

        async def dead() -> bool:
            return [j.state for j in await all_jobs(db)] == ["dead"]

        await eventually(dead)
    [job] = await all_jobs(db)
    assert job.last_error == "timed out after 0.2 s"
    assert cancelled.is_set()


async def test_the_heartbeat_keeps_a_long_job_from_being_taken(
    db: Database, settings: Settings
) -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    runs = 0

    async def long(_ctx: JobContext, _job: Job) -> None:
        nonlocal runs
        runs += 1
        started.set()
        await release.wait()

    await add_jobs(db, "test.long")
    holder = worker(db, quick(settings, job_lease_seconds=1), kind("test.long", long))
    async with running(holder):
        await asyncio.wait_for(started.wait(), 10)
        await asyncio.sleep(1.6)  # past the first lease: only the heartbeat keeps it
        async with db.transaction() as session:
            stolen = await jobs.claim(session, worker_id="thief", limit=5, lease=timedelta(1))
        release.set()
        await eventually(lambda: queue_is_empty(db))
    assert stolen == []
    assert runs == 1


async def test_a_group_never_runs_more_than_its_limit_while_others_flow(
    db: Database, settings: Settings
) -> None:
    gate = asyncio.Event()
    now_running: Counter[str] = Counter()
    most: Counter[str] = Counter()
    done: Counter[str] = Counter()

    async def tracked(_ctx: JobContext, job: Job) -> None:
        group = job.group_key or "none"
        now_running[group] += 1
        most[group] = max(most[group], now_running[group])
        try:
            if group == "slow":
                await gate.wait()
            else:
                await asyncio.sleep(0.01)
        finally:
            now_running[group] -= 1
        done[group] += 1

    work = kind("test.grouped", tracked)
    await add_jobs(db, "test.grouped", 6, group_key="slow")
    await add_jobs(db, "test.grouped", 10, group_key="fast")
    await add_jobs(db, "test.grouped", 10)
    one = worker(db, quick(settings, worker_group_concurrency=2), work, concurrency=8)
    async with running(one):

        async def others_done() -> bool:
            return done["fast"] == 10 and done["none"] == 10

        await eventually(others_done)  # while "slow" holds its two slots
        assert (now_running["slow"], done["slow"]) == (2, 0)
        gate.set()
        await eventually(lambda: queue_is_empty(db))
    assert done == Counter(slow=6, fast=10, none=10)
    assert most["slow"] == 2
    assert most["fast"] <= 2


async def test_graceful_shutdown_finishes_what_it_can_and_releases_the_rest(
    db: Database, settings: Settings
) -> None:
    started: Counter[str] = Counter()
    cancelled = asyncio.Event()

    async def quick_enough(_ctx: JobContext, _job: Job) -> None:
        started["quick"] += 1
        await asyncio.sleep(0.2)

    async def endless(_ctx: JobContext, _job: Job) -> None:
        started["endless"] += 1
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    await add_jobs(db, "test.quick")
    await add_jobs(db, "test.endless")
    one = worker(
        db,
        settings,
        kind("test.quick", quick_enough),
        kind("test.endless", endless),
        grace_seconds=1.0,
    )
    one.start()

    async def both_started() -> bool:
        return started == Counter(quick=1, endless=1)

    await eventually(both_started)
    await one.stop()
    [left] = await all_jobs(db)
    assert left.kind == "test.endless"
    assert (left.state, left.attempts, left.locked_by) == ("ready", 0, None)
    assert cancelled.is_set()


async def test_a_pump_runs_while_work_waits_and_survives_its_failures(
    db: Database, settings: Settings
) -> None:
    calls = 0

    async def relay(_ctx: JobContext) -> bool:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("database hiccup")
        return calls in (3, 4)  # more waiting after these batches

    one = worker(
        db, settings, pumps=[Pump("test.relay", relay, wake_on="events")], pump_retry_seconds=0.05
    )
    async with running(one):

        async def idle() -> bool:
            return calls >= 5

        await eventually(idle)
        before = calls
        one.wakeups.signal("events")  # a commit of events: the pump looks again

        async def woken() -> bool:
            return calls > before

        await eventually(woken)
        assert one._task is not None
        assert not one._task.done()  # the failure did not end the worker


async def test_a_handler_retrying_forever_still_stops_at_the_most_attempts(
    db: Database, settings: Settings
) -> None:
    async def again(_ctx: JobContext, _job: Job) -> None:
        raise RetryJob("not yet", at=utcnow())

    await add_jobs(db, "test.again", max_attempts=3)
    async with running(worker(db, settings, kind("test.again", again, max_attempts=5))):

        async def dead() -> bool:
            return [j.state for j in await all_jobs(db)] == ["dead"]

        await eventually(dead)
    [job] = await all_jobs(db)
    assert (job.attempts, job.last_error) == (3, "not yet")  # the job's 3, below the kind's 5


async def test_a_job_whose_workers_keep_dying_is_dead_instead_of_run_again(
    db: Database, settings: Settings
) -> None:
    await add_jobs(db, "test.deadly", max_attempts=1)
    async with db.transaction() as session:
        await jobs.claim(session, worker_id="killed", limit=1, lease=timedelta(milliseconds=100))
    ran = False

    async def deadly(_ctx: JobContext, _job: Job) -> None:
        nonlocal ran
        ran = True

    async with running(worker(db, settings, kind("test.deadly", deadly))):

        async def dead() -> bool:
            return [j.state for j in await all_jobs(db)] == ["dead"]

        await eventually(dead)
    [job] = await all_jobs(db)
    assert job.last_error == "claimed 2 times without finishing; its worker stopped each time"
    assert not ran
