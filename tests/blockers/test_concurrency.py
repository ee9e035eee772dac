"""What the database decides when blocker writes race: the item's `blocked` flag ends up true
exactly when one of its blockers is open, a blocker is escalated once and promoted once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.blockers import jobs
from takt.blockers.models import Blocker
from takt.core.db import Database
from takt.core.events import Event
from takt.core.jobs import JobContext
from takt.core.time import clock_at
from takt.items.models import Item
from takt.risks.models import Risk
from tests.blockers.kit import BLOCKERS, an_item, item_flag, raise_on
from tests.support import team


async def _open_count(db: Database, key: str) -> int:
    async with db.transaction() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Blocker)
            .join(Item, Item.id == Blocker.item_id)
            .where(Blocker.status == "open", Item.key == key)
        )
    return int(count or 0)


async def test_concurrent_resolves_of_the_last_two_blockers_clear_the_flag(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    for _ in range(3):
        key = await an_item(client, bob)
        first, second = await raise_on(client, bob, key), await raise_on(client, bob, key)
        answers = await asyncio.gather(
            *(
                client.post(f"/api/v1/blockers/{b['id']}/resolve", headers=bob.headers)
                for b in (first, second)
            )
        )
        assert [a.status_code for a in answers] == [200, 200]
        assert await item_flag(client, bob, key) is False


async def test_a_raise_racing_a_resolve_never_leaves_the_flag_wrong(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    body = {"reason": "again", "waiting_on": {"kind": "team", "name": "Ops"}}
    for _ in range(4):
        key = await an_item(client, bob)
        old = await raise_on(client, bob, key)
        resolved, raised = await asyncio.gather(
            client.post(f"/api/v1/blockers/{old['id']}/resolve", headers=bob.headers),
            client.post(BLOCKERS, json={"item_key": key, **body}, headers=bob.headers),
        )
        assert (resolved.status_code, raised.status_code) == (200, 201)
        assert await _open_count(db, key) == 1
        assert await item_flag(client, bob, key) is True


async def test_concurrent_sweeps_escalate_each_blocker_once(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    monday = datetime(2026, 11, 2, 9, tzinfo=UTC)
    raised = [await raise_on(client, bob, await an_item(client, bob), at=monday) for _ in range(5)]
    context = JobContext(database=db, settings=app.state.settings, worker_id="t")
    with clock_at(datetime(2026, 11, 5, 9, tzinfo=UTC)):  # 24 working hours later
        await asyncio.gather(*(jobs.escalate(context) for _ in range(4)))
    async with db.transaction() as session:
        escalated = list(
            await session.scalars(select(Event.subject_id).where(Event.type == "blocker.escalated"))
        )
    assert sorted(str(subject) for subject in escalated) == sorted(b["id"] for b in raised)


async def test_concurrent_promotions_create_one_risk(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    blocker = await raise_on(client, bob, await an_item(client, bob))
    answers = await asyncio.gather(
        *(
            client.post(f"/api/v1/blockers/{blocker['id']}/promote", headers=bob.headers)
            for _ in range(6)
        )
    )
    assert sorted(a.status_code for a in answers) == [201] + [409] * 5
    async with db.transaction() as session:
        risks = list(await session.scalars(select(Risk.blocker_id)))
    assert risks == [blocker["id"]]
    winner = next(a for a in answers if a.status_code == 201).json()
    shown = await client.get(f"/api/v1/blockers/{blocker['id']}", headers=bob.headers)
    assert shown.json()["risk_id"] == winner["id"]
