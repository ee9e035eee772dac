"""Nothing lost (QUALITY.md): `takt worker` processes delivering to a local receiver, one of
them killed with SIGKILL in the middle of a burst; and three at once on PostgreSQL that never
send a pair twice when none of them crashes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from standardwebhooks import Webhook as Verifier

from takt.config import Settings
from takt.core.db import Database
from takt.core.events import Event, emit_each
from takt.projects.models import Project
from takt.webhooks.models import WebhookDelivery
from tests.conftest import TEST_SECRET
from tests.support import Probe, team
from tests.webhooks.receiver import Receiver, add_webhook

ROOT = Path(__file__).resolve().parents[2]
TAKT = str(Path(sys.executable).with_name("takt"))


def environment(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAKT_")}
    env.update(
        TAKT_DATABASE_URL=database_url,
        TAKT_SECRET_KEY=TEST_SECRET,
        TAKT_DATA_DIR=str(data_dir),
        TAKT_LOG_LEVEL="WARNING",
        TAKT_DB_POOL_SIZE="4",
        TAKT_DB_MAX_OVERFLOW="2",
        TAKT_WORKER_POLL_SECONDS="0.2",
        TAKT_WEBHOOK_ALLOW_PRIVATE="true",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


@contextmanager
def worker_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[str]]:
    """A `takt worker`; stopped with SIGTERM when the block ends, unless it is gone already."""
    with log.open("w") as output:
        process = subprocess.Popen(
            [TAKT, "worker", "--grace-seconds", "5"],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


async def project_of(db: Database, key: str = "API") -> str:
    async with db.transaction(write=False) as session:
        found = await session.scalar(select(Project.id).where(Project.key == key))
    assert found is not None
    return found


async def burst(db: Database, project_id: str, actor: str, count: int, start: int = 0) -> None:
    """`count` events of the project, committed a few at a time."""
    for first in range(start, start + count, 5):
        async with db.transaction() as session:
            await emit_each(
                session,
                project_id,
                actor,
                [
                    (f"probe-{n}", Probe(number=n), None)
                    for n in range(first, min(first + 5, start + count))
                ],
            )
        await asyncio.sleep(0.005)


async def event_ids(db: Database) -> set[str]:
    async with db.transaction(write=False) as session:
        return set(await session.scalars(select(Event.id).where(Event.type == "test.probe")))


@pytest.mark.slow
async def test_a_worker_killed_mid_burst_loses_no_delivery(
    app: FastAPI, db: Database, settings: Settings, receiver: Receiver, tmp_path: Path
) -> None:
    people = await team(app, db)
    project = await project_of(db)
    secrets = {}
    for path in ("/a", "/b"):
        receiver.answer(path, 200, delay=0.02)  # calls in flight when the kill comes
        _, secrets[path] = await add_webhook(
            db, settings, project, receiver.url(path), event_types=["test.*"]
        )
    # A killed worker's jobs go to the next one soon (a lease this short may also pass while a
    # busy machine delays a heartbeat: the job then runs twice, which this test allows).
    env = environment(settings.database_url, tmp_path, TAKT_JOB_LEASE_SECONDS="2")

    with worker_process(env, tmp_path / "first.log") as first:
        await burst(db, project, people["ada"].id, 60)
        await asyncio.to_thread(receiver.wait_for, None, 20, 30)
        first.kill()  # SIGKILL: mid-burst, with deliveries in flight
        await asyncio.to_thread(first.wait, 30)
    await burst(db, project, people["ada"].id, 60, start=60)
    expected = {(path, event_id) for event_id in await event_ids(db) for path in secrets}
    assert len(expected) == 240

    with worker_process(env, tmp_path / "second.log"):

        def all_arrived() -> bool:
            return {(r.path, r.headers["webhook-id"]) for r in receiver.received()} >= expected

        async with asyncio.timeout(45):
            while not all_arrived():  # noqa: ASYNC110 - the receiver runs in another thread
                await asyncio.sleep(0.1)

    requests = receiver.received()
    # At least once, and exactly once once the receiver drops repeated webhook-ids.
    assert {(r.path, r.headers["webhook-id"]) for r in requests} == expected
    for request in requests:
        assert Verifier(secrets[request.path]).verify(request.body, request.headers)
    async with db.transaction(write=False) as session:
        states = Counter((await session.execute(select(WebhookDelivery.state))).scalars().all())
    assert states == {"succeeded": 240}


# Enough to keep three workers claiming side by side for a while; the throughput itself is
# measured in bench/, not here.
EVENTS = 500


@pytest.mark.slow
async def test_three_workers_on_postgresql_send_each_event_once(
    app: FastAPI, db: Database, settings: Settings, receiver: Receiver, tmp_path: Path
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("several worker processes share the work on PostgreSQL")
    people = await team(app, db)
    project = await project_of(db)
    _, secret = await add_webhook(db, settings, project, receiver.url("/all"))
    total = EVENTS
    async with db.transaction() as session:
        for first in range(0, total, 500):
            await emit_each(
                session,
                project,
                people["ada"].id,
                [(f"probe-{n}", Probe(number=n), None) for n in range(first, first + 500)],
            )
    env = environment(settings.database_url, tmp_path, TAKT_WORKER_GROUP_CONCURRENCY="16")

    with ExitStack() as stack:
        for number in range(3):
            stack.enter_context(worker_process(env, tmp_path / f"worker-{number}.log"))
        await asyncio.to_thread(receiver.wait_for, "/all", total, 50)

    requests = receiver.received("/all")
    sent = Counter(r.headers["webhook-id"] for r in requests)
    assert len(sent) == total
    assert [event for event, times in sent.items() if times > 1] == []
    assert sent.keys() == await event_ids(db)
    assert Verifier(secret).verify(requests[-1].body, requests[-1].headers)
    async with db.transaction(write=False) as session:
        made = await session.scalar(select(func.count()).select_from(WebhookDelivery))
    assert made == total
