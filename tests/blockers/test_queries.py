"""The statements a read of blockers and risks costs do not grow with the rows shown: a blocker in
a path loads with its project and what it shows in one statement, a page of blockers in one, a
page of risks in three."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.blockers.kit import BLOCKERS, an_item, raise_on
from tests.support import Account, QueryCounter, team


async def _statements(client: AsyncClient, db: Database, who: Account, url: str) -> int:
    assert (await client.get(url, headers=who.headers)).status_code == 200  # warms the caller
    with QueryCounter(db) as counter:
        response = await client.get(url, headers=who.headers)
    assert response.status_code == 200
    return counter.count


async def test_a_page_of_blockers_costs_the_same_for_two_or_twelve(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    blocking = await an_item(client, bob)
    for _ in range(2):
        await raise_on(client, bob, await an_item(client, bob))
    few = await _statements(client, db, bob, BLOCKERS)
    for who in ("ada", "bob", "vic"):
        waiting_on = {"kind": "person", "user": who}
        await raise_on(client, bob, await an_item(client, bob), waiting_on=waiting_on)
    for _ in range(7):
        waiting_on = {"kind": "item", "item_key": blocking}
        await raise_on(client, bob, await an_item(client, bob), waiting_on=waiting_on)
    assert await _statements(client, db, bob, BLOCKERS) == few
    assert few <= 2  # the project, then the page


async def test_a_blocker_in_the_path_is_one_statement(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    blocker = await raise_on(client, bob, await an_item(client, bob))
    assert await _statements(client, db, bob, f"/api/v1/blockers/{blocker['id']}") == 1


async def test_a_page_of_risks_costs_the_same_for_two_or_twelve(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    url = "/api/v1/projects/API/risks"
    key = await an_item(client, bob)

    async def risk() -> None:
        body = {"title": "r", "likelihood": 2, "impact": 2, "owner": "bob", "item_keys": [key]}
        assert (await client.post(url, json=body, headers=bob.headers)).status_code == 201

    for _ in range(2):
        await risk()
    few = await _statements(client, db, bob, url)
    for _ in range(10):
        await risk()
    assert await _statements(client, db, bob, url) == few
    assert few <= 4  # the project, the page, the items and the sprints of its risks
