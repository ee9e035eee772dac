"""Periodic sweeps: a slot runs once however many workers race for it, and each sweep removes
what has expired and nothing else. Also the registry of kinds, and claiming within group room."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select, update

from takt.config import Settings
from takt.core import jobs
from takt.core.db import Database
from takt.core.idempotency import IdempotencyRecord
from takt.core.jobs import JobContext, JobSchedule, Sweep
from takt.core.ratelimit import RateCounter
from takt.core.time import utcnow
from takt.items.models import Item
from takt.webhooks import jobs as webhook_jobs
from takt.worker import kinds
from takt.worker.runner import slot_of
from takt.worker.sweeps import sweep_idempotency_keys, sweep_rate_counters, sweep_trash
from tests.support import new_item, team
from tests.worker.helpers import add_jobs, all_jobs, eventually, running, worker


def test_a_slot_is_the_start_of_its_period() -> None:
    moment = datetime(2026, 11, 27, 10, 42, 13, tzinfo=UTC)
    assert slot_of(moment, timedelta(hours=1)) == datetime(2026, 11, 27, 10, tzinfo=UTC)
    assert slot_of(moment, timedelta(days=1)) == datetime(2026, 11, 27, tzinfo=UTC)
    assert slot_of(moment, timedelta(minutes=15)) == datetime(2026, 11, 27, 10, 30, tzinfo=UTC)


async def test_one_caller_takes_a_slot_however_many_race(db: Database) -> None:
    async def take(slot: datetime) -> bool:
        async with db.transaction() as session:
            return await jobs.take_slot(session, "race", slot)

    async def winners(slot: datetime) -> int:
        return (await asyncio.gather(*(take(slot) for _ in range(8)))).count(True)

    first = datetime(2026, 11, 27, 10, tzinfo=UTC)
    second = first + timedelta(hours=1)
    assert await winners(first) == 1  # the schedule's row is created by one of them
    assert await winners(second) == 1  # and moved forward by one
    assert await winners(second) == 0
    assert await winners(first) == 0  # a past slot never runs again


async def test_a_sweep_runs_once_per_slot_with_three_workers(
    db: Database, settings: Settings
) -> None:
    runs: list[str] = []

    async def sweep(ctx: JobContext) -> None:
        runs.append(ctx.worker_id)

    hourly = Sweep("test-hourly", timedelta(hours=1), sweep)
    workers = [worker(db, settings, sweeps=[hourly], sweep_check_seconds=0.05) for _ in range(3)]
    async with running(*workers):

        async def ran() -> bool:
            return bool(runs) and not await all_jobs(db)

        await eventually(ran)
        await asyncio.sleep(0.3)  # several more checks by every worker
    assert len(runs) == 1
    async with db.transaction(write=False) as session:
        schedule = await session.get(JobSchedule, "test-hourly")
    assert schedule is not None
    assert schedule.last_slot == slot_of(utcnow(), timedelta(hours=1))


async def test_a_failing_sweeps_next_slot_replaces_its_dead_job(
    db: Database, settings: Settings
) -> None:
    """A sweep failing every hour leaves its latest dead job (with the reason), not one more
    each hour; other kinds' dead jobs stay for the admin."""

    async def broken(_ctx: JobContext) -> None:
        raise jobs.RetryJob("a history this code did not foresee", at=None)

    await add_jobs(db, "test.other")
    async with db.transaction() as session:
        await session.execute(update(jobs.Job).values(state="dead"))
    hourly = Sweep("test-broken", timedelta(hours=1), broken)

    async def dead() -> list[jobs.Job]:
        return [job for job in await all_jobs(db) if job.state == "dead"]

    earlier: set[str] = set()
    for _ in range(2):  # the slot taken again, as when the next hour comes
        async with db.transaction() as session:
            await session.execute(
                update(JobSchedule)
                .where(JobSchedule.name == "test-broken")
                .values(last_slot=datetime(2000, 1, 1, tzinfo=UTC))
            )
        one = worker(db, settings, sweeps=[hourly], sweep_check_seconds=0.05)
        async with running(one):

            async def sweep_died() -> bool:
                return any(
                    job.kind == "sweep.test-broken" and job.id not in earlier
                    for job in await dead()
                )

            await eventually(sweep_died)
        assert sorted(job.kind for job in await dead()) == ["sweep.test-broken", "test.other"]
        earlier.update(job.id for job in await dead())


async def test_the_idempotency_sweep_removes_keys_older_than_a_day(
    db: Database, settings: Settings
) -> None:
    now = utcnow()
    async with db.transaction() as session:
        for key, age in (("old", timedelta(hours=25)), ("fresh", timedelta(hours=23))):
            session.add(
                IdempotencyRecord(
                    caller="user:x",
                    key=key,
                    request_hash="h",
                    created_at=now - age,
                    claimed_until=now,
                )
            )
    await sweep_idempotency_keys(JobContext(db, settings, "test"))
    async with db.transaction(write=False) as session:
        assert list(await session.scalars(select(IdempotencyRecord.key))) == ["fresh"]


async def test_the_rate_counter_sweep_removes_ended_windows(
    db: Database, settings: Settings
) -> None:
    now = utcnow()
    async with db.transaction() as session:
        session.add(RateCounter(key="ended", hits=3, window_ends_at=now - timedelta(seconds=1)))
        session.add(RateCounter(key="open", hits=3, window_ends_at=now + timedelta(minutes=5)))
    await sweep_rate_counters(JobContext(db, settings, "test"))
    async with db.transaction(write=False) as session:
        assert list(await session.scalars(select(RateCounter.key))) == ["open"]


async def test_the_trash_sweep_purges_items_trashed_30_days_ago(
    client: AsyncClient, app: FastAPI, db: Database, settings: Settings
) -> None:
    ada = (await team(app, db))["ada"]
    old = await new_item(client, ada, title="Old")
    recent = await new_item(client, ada, title="Recent")
    for item in (old, recent):
        deleted = await client.delete(f"/api/v1/items/{item['key']}", headers=ada.headers)
        assert deleted.status_code == 204
    async with db.transaction() as session:
        await session.execute(
            update(Item)
            .where(Item.key == old["key"])
            .values(deleted_at=utcnow() - timedelta(days=30, minutes=1))
        )
    await sweep_trash(JobContext(db, settings, "test"))
    async with db.transaction(write=False) as session:
        assert list(await session.scalars(select(Item.key))) == [recent["key"]]


def test_the_worker_runs_every_sweep_and_every_domains_kinds() -> None:
    names = {kind.name for kind in kinds.job_kinds()}
    assert {"sweep.idempotency-keys", "sweep.rate-counters", "sweep.trash"} <= names
    assert {kind.name for kind in webhook_jobs.JOB_KINDS} <= names
    assert "sweep.blockers.escalate" in names
    assert "sweep.standup-summaries" in names
    # No sweep runs more often than every 5 minutes, nor less than daily.
    assert all(timedelta(minutes=5) <= s.every <= timedelta(days=1) for s in kinds.sweeps())


def test_a_kind_declared_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    twin = kinds.sweep_kind(kinds.sweeps()[0])
    monkeypatch.setattr(webhook_jobs, "JOB_KINDS", [*webhook_jobs.JOB_KINDS, twin])
    with pytest.raises(ValueError, match="declared twice"):
        kinds.job_kinds()


async def test_a_claim_takes_no_more_of_a_group_than_its_room(db: Database) -> None:
    await add_jobs(db, "test.grouped", 3, group_key="a")
    await add_jobs(db, "test.grouped", 3, group_key="b")
    await add_jobs(db, "test.grouped", 2)
    async with db.transaction() as session:
        claimed = await jobs.claim(
            session,
            worker_id="w",
            limit=10,
            lease=timedelta(minutes=1),
            group_limit=2,
            group_busy={"a": 1},
        )
    groups = sorted(job.group_key or "-" for job in claimed)
    assert groups == ["-", "-", "a", "b", "b"]
