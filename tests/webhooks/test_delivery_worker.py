"""The delivery engine under the real worker (takt.worker): registered kinds and pumps carry
changes to endpoints by themselves, and an endpoint that hangs holds only its own share."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from standardwebhooks import Webhook as Verifier

from takt.config import Settings
from takt.core.db import Database
from takt.projects.models import Project
from takt.worker.runner import Worker
from tests.support import new_item, team
from tests.webhooks.receiver import Receiver, add_webhook, engine_settings


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


async def test_a_worker_delivers_changes_while_another_endpoint_hangs(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings, receiver: Receiver
) -> None:
    people = await team(app, db)
    async with db.transaction(write=False) as session:
        project = await session.scalar(select(Project.id).where(Project.key == "API"))
    assert project is not None
    receiver.answer("/slow", 200, delay=60)
    _, slow_secret = await add_webhook(db, settings, project, receiver.url("/slow"))
    _, fast_secret = await add_webhook(db, settings, project, receiver.url("/fast"))
    worker = Worker(
        db,
        engine_settings(settings, worker_poll_seconds=0.2, webhook_timeout_seconds=60),
        sweeps=[],
        grace_seconds=0.2,
    )
    worker.start()
    try:
        for number in range(10):
            await new_item(client, people["bob"], title=f"Item {number}")

        fast = await asyncio.to_thread(receiver.wait_for, "/fast", 10)
        slow = receiver.received("/slow")
    finally:
        await worker.stop()
    titles = sorted(
        Verifier(fast_secret).verify(r.body, r.headers)["data"]["data"]["title"] for r in fast
    )
    assert titles == sorted(f"Item {n}" for n in range(10))
    # The hanging endpoint got only its share of the worker: its calls are still waiting.
    assert 0 < len(slow) <= settings.worker_group_concurrency
    assert all(Verifier(slow_secret).verify(r.body, r.headers) for r in slow)
