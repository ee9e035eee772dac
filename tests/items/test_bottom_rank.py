"""The project's bottom rank: creates and moves to the bottom take the place after it under the
project row's lock, so the backlog keeps one order with unique ranks under concurrency, and
PostgreSQL's copy of `rank_after` (`takt_rank_after`, migration 0022) agrees with Python's."""

from __future__ import annotations

import asyncio
import random

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select, text, update

from takt.auth.principal import Principal
from takt.core.db import Database
from takt.items import service
from takt.items.models import Item
from takt.items.ranking import initial_ranks, rank_after, rank_between
from takt.items.schemas import ItemCreate
from takt.projects import service as projects_service
from takt.projects.models import Project
from tests.support import Account, new_item, team

ITEMS = "/api/v1/projects/API/items"


async def _backlog(client: AsyncClient, who: Account) -> list[str]:
    order = await client.get(ITEMS, params={"sort": "rank", "limit": 100}, headers=who.headers)
    assert order.status_code == 200
    return [i["key"] for i in order.json()["data"]]


async def _ranks(db: Database) -> dict[str, str]:
    async with db.transaction() as session:
        return dict((await session.execute(select(Item.key, Item.rank))).all())


async def _bottom(db: Database) -> str | None:
    async with db.transaction() as session:
        return await session.scalar(select(Project.bottom_rank).where(Project.key == "API"))


def _keys_to_check() -> list[str]:
    """Keys of every shape rank_after meets: runs of appends, leading "z" runs that widen the
    step, carries across several digits, and long keys from moves in between."""
    keys, key = [], "V"
    for _ in range(400):
        keys.append(key)
        key = rank_after(key)
    keys += ["z", "zz", "zzz", "zzzzzz1", "zy", "zzy", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz1"]
    keys += ["1", "01", "0001", "Az", "Azz", "Azzzz", "9zzzzz", "yzzzzzzz", "z0z", "zz0zz"]
    keys += initial_ranks(200)
    generator = random.Random(19)
    low, high = "1", "z"
    for _ in range(200):
        middle = rank_between(low, high)
        low, high = (middle, high) if generator.random() < 0.5 else (low, middle)
        keys.append(middle)
    return keys


async def test_the_databases_rank_after_agrees_with_pythons(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("takt_rank_after is PostgreSQL's; SQLite creates compute the rank in Python")
    keys = _keys_to_check()
    async with db.transaction() as session:
        found = (
            await session.execute(
                text("SELECT key, takt_rank_after(key) FROM unnest(CAST(:keys AS text[])) AS key"),
                {"keys": keys},
            )
        ).all()
    assert dict(found) == {key: rank_after(key) for key in keys}


async def test_creates_append_after_an_item_moved_to_the_bottom(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    keys = [(await new_item(client, ada, title=f"n{i}"))["key"] for i in range(3)]
    assert await _bottom(db) == (await _ranks(db))[keys[2]]
    moved = await client.post(
        f"/api/v1/items/{keys[0]}/move", json={"after": keys[2]}, headers=ada.headers
    )
    assert moved.status_code == 200
    last = (await new_item(client, ada, title="last"))["key"]
    assert await _backlog(client, ada) == [keys[1], keys[2], keys[0], last]
    assert await _bottom(db) == (await _ranks(db))[last]


async def test_an_unknown_bottom_is_found_from_the_items(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """A rebalance (or an import) leaves the bottom unknown: the next create reads the items'
    last rank, trashed items included (a restored item comes back to its place)."""
    ada = (await team(app, db))["ada"]
    keys = [(await new_item(client, ada, title=f"n{i}"))["key"] for i in range(4)]
    trashed = await client.delete(f"/api/v1/items/{keys[3]}", headers=ada.headers)
    assert trashed.status_code == 204
    async with db.transaction() as session:
        project = (await session.execute(select(Project).where(Project.key == "API"))).scalar_one()
        await service.rebalance(session, project)
    assert await _bottom(db) is None
    respaced = await _ranks(db)
    assert sorted(respaced, key=respaced.__getitem__) == keys
    last = (await new_item(client, ada, title="last"))["key"]
    ranks = await _ranks(db)
    assert ranks[last] == rank_after(respaced[keys[3]]) == await _bottom(db)
    assert await _backlog(client, ada) == [*keys[:3], last]


async def test_concurrent_creates_and_moves_to_the_bottom_keep_one_order(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    first = [(await new_item(client, ada, title=f"n{i}"))["key"] for i in range(10)]
    creates = [client.post(ITEMS, json={"title": f"c{i}"}, headers=ada.headers) for i in range(20)]
    moves = [
        client.post(f"/api/v1/items/{key}/move", json={"after": first[-1]}, headers=ada.headers)
        for key in first[:5]
    ]
    answers = await asyncio.gather(*creates, *moves)
    assert [a.status_code for a in answers] == [201] * 20 + [200] * 5
    ranks = await _ranks(db)
    assert len(set(ranks.values())) == len(ranks) == 30  # no two items share a place
    assert {a.json()["key"] for a in answers[:20]} == {f"API-{n}" for n in range(11, 31)}
    order = sorted(ranks, key=ranks.__getitem__)
    # Everything created or moved to the bottom ended below the items that stayed.
    assert order[:5] == first[5:]
    assert await _bottom(db) == ranks[order[-1]]


class _Abandoned(Exception):
    pass


async def _create_after_a_write_then_fail(db: Database, who: Account) -> None:
    async with db.transaction() as session:
        access = await projects_service.access(session, Principal.of(who.user), "API")
        await session.execute(
            update(Project).where(Project.key == "API").values(description="changed")
        )
        await service.create_item(session, access, ItemCreate(title="second"))
        raise _Abandoned


async def test_a_create_after_a_write_of_its_transaction_rolls_back_with_it(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """On PostgreSQL a create that only read before runs as a statement of its own (the project
    row's lock is then released inside the database); after a write of its transaction it
    joins that transaction instead, so both stand or fall together. Both databases: the
    general path keeps it too."""
    ada = (await team(app, db))["ada"]
    await new_item(client, ada, title="first")  # the bottom is known from here on
    with pytest.raises(_Abandoned):
        await _create_after_a_write_then_fail(db, ada)
    async with db.transaction() as session:
        project = (await session.execute(select(Project).where(Project.key == "API"))).scalar_one()
        assert project.description != "changed"
        assert project.item_seq == 1
    assert list(await _ranks(db)) == ["API-1"]
    assert (await new_item(client, ada, title="second"))["key"] == "API-2"


async def test_creates_and_moves_leave_the_project_as_it_was(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Item numbers and the bottom rank are the items' bookkeeping: the project's body (its
    `updated_at` included) and its ETag stay, so a cached copy is still right (a 304 for it)."""
    ada = (await team(app, db))["ada"]
    before = await client.get("/api/v1/projects/API", headers=ada.headers)

    async def unchanged() -> None:
        after = await client.get("/api/v1/projects/API", headers=ada.headers)
        assert after.json() == before.json()
        assert after.headers["etag"] == before.headers["etag"]
        cached = await client.get(
            "/api/v1/projects/API",
            headers={**ada.headers, "If-None-Match": before.headers["etag"]},
        )
        assert cached.status_code == 304

    keys = [(await new_item(client, ada, title=f"n{i}"))["key"] for i in range(3)]
    await unchanged()  # numbers handed out, the bottom rank set (and raised in one statement)
    moved = await client.post(
        f"/api/v1/items/{keys[0]}/move", json={"after": keys[2]}, headers=ada.headers
    )
    assert moved.status_code == 200
    await unchanged()  # the bottom rank set by a move
    await new_item(client, ada, title="last")
    await unchanged()
