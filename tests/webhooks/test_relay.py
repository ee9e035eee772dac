"""The relay: event log -> one delivery and one job per (event, webhook that asked for it), in
cursor order, once, and nothing lost when it dies before its commit."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select, update

from takt.config import Settings
from takt.core.db import Database
from takt.core.events import Event, emit
from takt.core.jobs import Job
from takt.projects.models import Project
from takt.webhooks import repository as webhook_repository
from takt.webhooks.jobs import DELIVER, MAX_ATTEMPTS, delivery_job_key
from takt.webhooks.models import WebhookDelivery, WebhookRelay
from takt.webhooks.relay import RELAY_NAME, relay_batch, type_matcher
from tests.support import Probe, add_member, make_project, new_item, team
from tests.webhooks.receiver import add_webhook, relay_all

URL = "https://hooks.example.com/in"


async def project_id(db: Database, key: str = "API") -> str:
    async with db.transaction(write=False) as session:
        found = await session.scalar(select(Project.id).where(Project.key == key))
    assert found is not None
    return found


async def pairs(db: Database) -> list[tuple[str, str]]:
    """(webhook id, event type) of every delivery, in the order they were made."""
    async with db.transaction(write=False) as session:
        rows = await session.execute(
            select(WebhookDelivery.webhook_id, WebhookDelivery.event_type).order_by(
                WebhookDelivery.created_at, WebhookDelivery.event_type
            )
        )
        return [(row[0], row[1]) for row in rows]


async def counts(db: Database) -> tuple[int, int, int]:
    """Deliveries, distinct (webhook, event) pairs among them, and delivery jobs."""
    async with db.transaction(write=False) as session:
        made = await session.scalar(select(func.count()).select_from(WebhookDelivery))
        distinct = await session.scalar(
            select(func.count()).select_from(
                select(WebhookDelivery.webhook_id, WebhookDelivery.event_id).distinct().subquery()
            )
        )
        queued = await session.scalar(
            select(func.count()).select_from(Job).where(Job.kind == DELIVER)
        )
    return made or 0, distinct or 0, queued or 0


async def position(db: Database) -> tuple[int, int] | None:
    async with db.transaction(write=False) as session:
        row = (
            await session.execute(
                select(WebhookRelay.position_tx, WebhookRelay.position_seq).where(
                    WebhookRelay.name == RELAY_NAME
                )
            )
        ).first()
    return None if row is None else (row[0], row[1])


def test_a_filter_matches_exact_types_families_and_everything() -> None:
    exact = type_matcher(["item.created"])
    family = type_matcher(["item.*", "sprint.started"])
    everything = type_matcher(["sprint.*", "*"])
    assert exact("item.created")
    assert not exact("item.updated")
    assert not exact("item.created.more")
    assert family("item.updated")
    assert family("sprint.started")
    assert not family("sprint.completed")
    assert not family("items.created")  # the family is `item.`, not every type starting `item`
    assert everything("project.created")


async def test_each_webhook_gets_the_events_its_filter_names(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    project = await project_id(db)
    exact, _ = await add_webhook(db, settings, project, URL, event_types=["item.created"])
    family, _ = await add_webhook(db, settings, project, URL, event_types=["item.*"])
    everything, _ = await add_webhook(db, settings, project, URL, event_types=["*"])
    sprints, _ = await add_webhook(db, settings, project, URL, event_types=["sprint.*"])
    item = await new_item(client, people["ada"])
    changed = await client.patch(
        f"/api/v1/items/{item['key']}", json={"priority": "high"}, headers=people["ada"].headers
    )
    assert changed.status_code == 200

    await relay_all(db)

    made = await pairs(db)
    assert sorted(t for w, t in made if w == exact) == ["item.created"]
    assert sorted(t for w, t in made if w == family) == ["item.created", "item.updated"]
    assert sorted(t for w, t in made if w == everything) == ["item.created", "item.updated"]
    assert [t for w, t in made if w == sprints] == []
    async with db.transaction(write=False) as session:
        queued = list(await session.scalars(select(Job).where(Job.kind == DELIVER)))
        made_rows = list(await session.scalars(select(WebhookDelivery)))
    assert {j.dedupe_key for j in queued} == {delivery_job_key(d.id) for d in made_rows}
    assert all(j.max_attempts == MAX_ATTEMPTS for j in queued)
    groups = {j.payload["delivery_id"]: j.group_key for j in queued}
    assert groups == {d.id: d.webhook_id for d in made_rows}
    assert all(d.state == "pending" and d.payload is None for d in made_rows)


async def test_a_webhook_gets_only_its_own_projects_events(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    other_id = await make_project(db, people["ada"], "OPS")
    await add_member(db, other_id, people["bob"], "member")
    mine, _ = await add_webhook(db, settings, await project_id(db), URL)
    theirs, _ = await add_webhook(db, settings, other_id, URL)
    await new_item(client, people["bob"], "API")
    await new_item(client, people["bob"], "OPS")
    await new_item(client, people["bob"], "OPS")

    await relay_all(db)

    async with db.transaction(write=False) as session:
        rows = (
            await session.execute(
                select(WebhookDelivery.webhook_id, Event.project_id)
                .join(Event, Event.id == WebhookDelivery.event_id)
                .where(WebhookDelivery.event_type == "item.created")
            )
        ).all()
    assert sorted((w, p) for w, p in rows) == sorted(
        [(mine, await project_id(db)), (theirs, other_id), (theirs, other_id)]
    )


async def test_a_new_webhook_gets_the_events_from_its_creation_on(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    await new_item(client, people["ada"], title="Before")
    webhook_id, _ = await add_webhook(
        db, settings, await project_id(db), URL, event_types=["item.*"]
    )
    await new_item(client, people["ada"], title="After")

    await relay_all(db)

    async with db.transaction(write=False) as session:
        titles = list(
            await session.scalars(
                select(Event.data["title"].as_string())
                .join(WebhookDelivery, WebhookDelivery.event_id == Event.id)
                .where(WebhookDelivery.webhook_id == webhook_id)
            )
        )
    assert titles == ["After"]


async def test_imported_events_events_of_no_project_and_disabled_webhooks_make_nothing(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    await team(app, db)
    project = await project_id(db)
    enabled, _ = await add_webhook(db, settings, project, URL)
    await add_webhook(db, settings, project, URL, enabled=False)
    async with db.transaction() as session:
        await emit(session, Probe(label="nowhere"), None, None)
        imported = await emit(session, Probe(label="history"), project, None)
        imported.imported = True
        await emit(session, Probe(label="news"), project, None)

    await relay_all(db)

    assert await pairs(db) == [(enabled, "test.probe")]
    async with db.transaction(write=False) as session:
        (event_id,) = await session.scalars(select(WebhookDelivery.event_id))
        label = await session.scalar(
            select(Event.data["label"].as_string()).where(Event.id == event_id)
        )
    assert label == "news"


async def test_a_slack_webhook_gets_only_events_slack_has_messages_for(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    slack, _ = await add_webhook(db, settings, await project_id(db), URL, kind="slack")
    item = await new_item(client, people["ada"])
    deleted = await client.delete(f"/api/v1/items/{item['key']}", headers=people["ada"].headers)
    assert deleted.status_code == 204

    await relay_all(db)

    assert [t for _, t in await pairs(db)] == ["item.created"]
    assert {w for w, _ in await pairs(db)} == {slack}


async def test_the_relay_moves_on_and_never_makes_a_pair_twice(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    await add_webhook(db, settings, await project_id(db), URL)
    for title in ("One", "Two", "Three"):
        await new_item(client, people["ada"], title=title)

    async with db.transaction() as session:
        assert await relay_batch(session, limit=2) is True  # a full batch: more may wait
    assert (await counts(db))[0] < 3
    await relay_all(db)
    first = await counts(db)
    at = await position(db)
    async with db.transaction() as session:
        assert await relay_batch(session) is False  # caught up: nothing new
    assert await position(db) == at

    # Relaying the same events again (the position lost) makes no delivery and no job twice.
    async with db.transaction() as session:
        await session.execute(update(WebhookRelay).values(position_tx=0, position_seq=0))
    await relay_all(db)

    assert first == (3, 3, 3)
    assert await counts(db) == first
    assert await position(db) == at


async def test_a_relay_that_dies_before_its_commit_loses_nothing(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people = await team(app, db)
    await add_webhook(db, settings, await project_id(db), URL, event_types=["item.*"])
    await new_item(client, people["ada"])
    await new_item(client, people["ada"])
    await relay_all(db)  # the row exists and stands after these two
    before = await position(db)
    await new_item(client, people["ada"], title="Third")

    async def crash(*_args: object) -> None:
        raise RuntimeError("killed after the deliveries were written")

    with monkeypatch.context() as patched:
        patched.setattr(webhook_repository, "move_relay", crash)

        async def relay_and_die() -> None:
            async with db.transaction() as session:
                await relay_batch(session)

        with pytest.raises(RuntimeError):
            await relay_and_die()
    assert await position(db) == before
    assert await counts(db) == (2, 2, 2)

    await relay_all(db)

    assert await counts(db) == (3, 3, 3)


async def test_relays_running_at_once_make_each_pair_once(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    project = await project_id(db)
    for _ in range(3):
        await add_webhook(db, settings, project, URL)
    async with db.transaction() as session:
        for number in range(120):
            await emit(session, Probe(number=number), project, people["ada"].id)

    async def relay_while_more() -> None:
        more = True
        while more:
            async with db.transaction() as session:
                more = await relay_batch(session, limit=25)

    # Four at once: on PostgreSQL the ones that find the row held skip; on SQLite they take
    # turns. Whatever is left when they stop is relayed at the end.
    await asyncio.gather(*(relay_while_more() for _ in range(4)))
    await relay_all(db)

    assert await counts(db) == (360, 360, 360)


async def test_on_postgresql_a_second_relay_skips_while_one_holds_the_row(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite has one writer: a second relay waits for the first instead")
    people = await team(app, db)
    await add_webhook(db, settings, await project_id(db), URL)
    await new_item(client, people["ada"])
    await relay_all(db)  # make the row
    await new_item(client, people["ada"], title="Second")

    async with db.transaction() as holding:
        assert await relay_batch(holding) is False  # relayed the new event, row held
        async with db.transaction() as other:
            # Waiting for the row here would never end (the holder waits for this block).
            assert await asyncio.wait_for(relay_batch(other), 10) is False
        assert (await counts(db))[0] == 1  # the holder's work isn't committed yet

    assert await counts(db) == (2, 2, 2)


async def test_on_postgresql_relays_making_the_row_at_once_make_it_once(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite has one writer")
    people = await team(app, db)
    await add_webhook(db, settings, await project_id(db), URL)
    await new_item(client, people["ada"])

    async def one_batch() -> bool:
        async with db.transaction() as session:
            await relay_batch(session)
        return True

    await asyncio.gather(*(one_batch() for _ in range(4)))

    assert await counts(db) == (1, 1, 1)
    assert await position(db) is not None
