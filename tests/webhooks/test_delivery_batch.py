"""Deliveries in batches, as the worker sends them (`core.jobs.JobBatch`): one transaction claims
a batch and reads what it sends, the calls go out together, one transaction logs every attempt
and settles every delivery and job. One endpoint's failure stays its own; a worker that dies
mid-batch leaves its jobs to another once their leases run out."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from standardwebhooks import Webhook as Verifier

from takt.config import Settings
from takt.core import jobs
from takt.core.db import Database
from takt.core.events import Event
from takt.core.jobs import Failed, Job, JobContext
from takt.core.time import utcnow
from takt.projects.models import Project
from takt.webhooks.delivery import GONE
from takt.webhooks.jobs import DELIVER, JOB_KINDS, delivery_job_key
from takt.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery
from takt.worker.runner import Worker
from tests.support import new_item, team
from tests.webhooks.receiver import Receiver, add_webhook, engine_settings, relay_all, run_batch


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def engine(settings: Settings, db: Database) -> JobContext:
    return JobContext(database=db, settings=engine_settings(settings), worker_id="batch-worker")


async def project_id(db: Database) -> str:
    async with db.transaction(write=False) as session:
        found = await session.scalar(select(Project.id).where(Project.key == "API"))
    assert found is not None
    return found


async def deliveries_by_webhook(db: Database) -> dict[str, list[WebhookDelivery]]:
    async with db.transaction(write=False) as session:
        rows = await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at))
        found: dict[str, list[WebhookDelivery]] = {}
        for row in rows:
            found.setdefault(row.webhook_id, []).append(row)
        return found


async def job_of(db: Database, delivery_id: str) -> Job | None:
    async with db.transaction(write=False) as session:
        return await session.scalar(
            select(Job).where(Job.dedupe_key == delivery_job_key(delivery_id))
        )


async def attempt_count(db: Database) -> Counter[str]:
    async with db.transaction(write=False) as session:
        rows = await session.scalars(select(WebhookAttempt.delivery_id))
        return Counter(rows)


async def test_one_failing_endpoint_in_a_batch_leaves_the_others_delivered(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    people = await team(app, db)
    project = await project_id(db)
    receiver.answer("/down", 503, body=b"upstream unavailable")
    first, _ = await add_webhook(db, settings, project, receiver.url("/one"))
    down, _ = await add_webhook(db, settings, project, receiver.url("/down"))
    second, _ = await add_webhook(db, settings, project, receiver.url("/two"))
    for title in ("First", "Second"):
        await new_item(client, people["ada"], title=title)
    await relay_all(db)

    batch = await run_batch(engine)

    assert len(batch.jobs) == 6  # two events to three endpoints, in one batch
    by_webhook = await deliveries_by_webhook(db)
    for webhook_id in (first, second):
        assert [d.state for d in by_webhook[webhook_id]] == ["succeeded", "succeeded"]
        for delivery in by_webhook[webhook_id]:
            assert await job_of(db, delivery.id) is None
    for delivery in by_webhook[down]:
        assert (delivery.state, delivery.last_status) == ("pending", 503)
        assert delivery.next_attempt_at is not None
        job = await job_of(db, delivery.id)
        assert job is not None
        assert (job.state, job.run_at) == ("ready", delivery.next_attempt_at)
        assert job.last_error == "attempt 1 of 8 failed: the endpoint answered 503"
    failed = [v for v in batch.verdicts.values() if v is not None]
    assert len(failed) == 2
    assert all(isinstance(v, Failed) and v.retry_at is not None for v in failed)
    assert set((await attempt_count(db)).values()) == {1}  # each delivery's attempt, once
    async with db.transaction(write=False) as session:
        rows = await session.execute(select(Webhook.id, Webhook.failing_since))
        failing = {row[0]: row[1] for row in rows}
    assert failing[first] is None
    assert failing[second] is None
    assert failing[down] is not None
    # The six attempts logged in one statement, the webhooks read (and locked) in one, all the
    # succeeded jobs deleted in one.
    assert (batch.statements.count("INSERT"), batch.statements.count("SELECT")) == (1, 1)
    assert batch.statements.count("DELETE") == 1


async def test_a_410_in_a_batch_disables_its_webhook_once_and_ends_each_of_its_jobs(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    people = await team(app, db)
    project = await project_id(db)
    receiver.answer("/gone", 410, body=b"gone")
    gone, _ = await add_webhook(db, settings, project, receiver.url("/gone"))
    fine, _ = await add_webhook(db, settings, project, receiver.url("/fine"))
    for title in ("First", "Second"):
        await new_item(client, people["ada"], title=title)
    await relay_all(db)

    batch = await run_batch(engine)

    assert len(batch.jobs) == 4
    assert set(batch.verdicts.values()) == {None}  # no job is retried: each one ended
    by_webhook = await deliveries_by_webhook(db)
    assert [d.state for d in by_webhook[gone]] == ["cancelled", "cancelled"]
    assert [d.state for d in by_webhook[fine]] == ["succeeded", "succeeded"]
    async with db.transaction(write=False) as session:
        webhook = await session.get(Webhook, gone)
        disabled = list(
            await session.scalars(select(Event).where(Event.type == "webhook.disabled"))
        )
        left = list(await session.scalars(select(Job).where(Job.kind == DELIVER)))
    assert webhook is not None
    assert (webhook.enabled, webhook.disabled_reason) == (False, GONE)
    assert len(disabled) == 1
    assert left == []


async def test_a_worker_killed_mid_batch_leaves_its_jobs_to_another_after_the_lease(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    """A worker claims a batch, makes its calls and dies before logging them: its jobs stay
    `running` until their lease runs out, then another worker sends them again, with the same
    `webhook-id` (at least once: the receiver drops the repeats)."""
    people = await team(app, db)
    webhook_id, secret = await add_webhook(db, settings, await project_id(db), receiver.url())
    for number in range(3):
        await new_item(client, people["ada"], title=f"Item {number}")
    await relay_all(db)
    (kind,) = JOB_KINDS
    assert kind.batch is not None
    async with db.transaction() as session:
        claimed = await jobs.claim(
            session,
            worker_id="killed",
            limit=10,
            lease=timedelta(seconds=1),
            kinds=[DELIVER],
        )
        prepared = await kind.batch.load(session, engine, claimed)
    await asyncio.gather(*(kind.batch.run(engine, job, prepared[job.id]) for job in claimed))
    assert len(receiver.received()) == 3  # sent, then nothing: the worker is gone
    async with db.transaction() as session:
        # Under a live lease no other worker takes them.
        assert await jobs.claim(session, worker_id="early", limit=10, lease=timedelta(1)) == []

    worker = Worker(
        db,
        engine_settings(settings, worker_poll_seconds=0.1),
        kinds=JOB_KINDS,
        sweeps=[],
        pumps=[],
    )
    worker.start()
    try:
        await asyncio.to_thread(receiver.wait_for, "/hook", 6)

        async def settled() -> bool:
            by_webhook = await deliveries_by_webhook(db)
            return [d.state for d in by_webhook[webhook_id]] == ["succeeded"] * 3

        deadline = asyncio.get_running_loop().time() + 20
        while not await settled():
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
    ids = Counter(r.headers["webhook-id"] for r in receiver.received())
    assert sorted(ids.values()) == [2, 2, 2]  # each event twice, with its one id
    assert all(Verifier(secret).verify(r.body, r.headers) for r in receiver.received())
    async with db.transaction(write=False) as session:
        left = list(await session.scalars(select(Job).where(Job.kind == DELIVER)))
    assert left == []
    # The dead worker's calls were never logged; the second worker's were, once each.
    assert sorted((await attempt_count(db)).values()) == [1, 1, 1]


async def test_a_worker_settles_a_mixed_batch_and_retries_only_the_failure(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
) -> None:
    people = await team(app, db)
    project = await project_id(db)
    receiver.answer("/down", 500)
    up, _ = await add_webhook(db, settings, project, receiver.url("/up"))
    down, _ = await add_webhook(db, settings, project, receiver.url("/down"))
    worker = Worker(
        db,
        engine_settings(settings, worker_poll_seconds=0.1),
        kinds=JOB_KINDS,
        sweeps=[],
    )
    worker.start()
    try:
        for number in range(5):
            await new_item(client, people["bob"], title=f"Item {number}")

        async def settled() -> bool:
            by_webhook = await deliveries_by_webhook(db)
            states = Counter(
                (d.webhook_id, d.state, d.attempts) for ds in by_webhook.values() for d in ds
            )
            return states == Counter({(up, "succeeded", 1): 5, (down, "pending", 1): 5})

        deadline = asyncio.get_running_loop().time() + 20
        while not await settled():
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
    async with db.transaction(write=False) as session:
        left = list(await session.scalars(select(Job).where(Job.kind == DELIVER)))
    assert len(left) == 5  # the failures' retries, in about 5 s
    assert all(job.state == "ready" and job.run_at > utcnow() for job in left)
    assert len(receiver.received("/up")) == len(receiver.received("/down")) == 5


async def test_two_workers_settling_batches_of_the_same_webhooks_never_block_each_other(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each settle locks the webhooks it touches, in id order, before their deliveries: two
    workers whose batches share webhooks (failures writing `failing_since`, successes clearing
    it) wait for each other at most, never in a circle, and every batch is written whole."""
    people = await team(app, db)
    project = await project_id(db)
    receiver.answer("/down-1", 503)
    receiver.answer("/down-2", 502)
    hooks = [
        (await add_webhook(db, settings, project, receiver.url(path)))[0]
        for path in ("/up", "/down-1", "/down-2")
    ]
    for number in range(10):
        await new_item(client, people["bob"], title=f"Item {number}")
    await relay_all(db)
    quick = engine_settings(settings, worker_poll_seconds=0.1, worker_group_concurrency=2)
    workers = [
        Worker(db, quick, kinds=JOB_KINDS, sweeps=[], pumps=[], concurrency=8) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    try:

        async def all_attempted() -> bool:
            return sum((await attempt_count(db)).values()) == 30

        deadline = asyncio.get_running_loop().time() + 30
        while not await all_attempted():
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
    finally:
        for worker in workers:
            await worker.stop()
    assert set((await attempt_count(db)).values()) == {1}
    assert not [r for r in caplog.records if "could not record" in r.getMessage()]
    by_webhook = await deliveries_by_webhook(db)
    assert {d.state for d in by_webhook[hooks[0]]} == {"succeeded"}
    assert {d.state for hook in hooks[1:] for d in by_webhook[hook]} == {"pending"}


async def test_a_delivery_that_waited_for_its_turn_reads_its_webhook_again_before_the_call(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
) -> None:
    """Two deliveries to one endpoint, one call at a time: the first hangs for a while, and the
    webhook is disabled meanwhile. The second, claimed with the first, reads its webhook again
    once its turn comes, and is closed without a call."""
    people = await team(app, db)
    receiver.answer("/slow", 200, delay=2.5)
    webhook_id, _ = await add_webhook(db, settings, await project_id(db), receiver.url("/slow"))
    for title in ("First", "Second"):
        await new_item(client, people["ada"], title=title)
    await relay_all(db)
    one_at_a_time = engine_settings(settings, worker_poll_seconds=0.1, worker_group_concurrency=1)
    worker = Worker(db, one_at_a_time, kinds=JOB_KINDS, sweeps=[], pumps=[])
    worker.start()
    try:
        await asyncio.to_thread(receiver.wait_for, "/slow", 1)
        async with db.transaction() as session:
            webhook = await session.get(Webhook, webhook_id)
            assert webhook is not None
            webhook.enabled = False

        async def both_ended() -> bool:
            by_webhook = await deliveries_by_webhook(db)
            return {d.state for d in by_webhook[webhook_id]} <= {"succeeded", "cancelled"}

        deadline = asyncio.get_running_loop().time() + 20
        while not await both_ended():
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
    states = sorted(d.state for d in (await deliveries_by_webhook(db))[webhook_id])
    assert states == ["cancelled", "succeeded"]
    assert len(receiver.received("/slow")) == 1  # the second was never sent
