"""The refinement queue (`GET /projects/{key}/refinement`): the backlog's items that are not ready,
top-ranked first, each with what it lacks; paged like every list (docs/refinement.md)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.items.test_readiness import DOR, set_dor, tick
from tests.support import Account, QueryCounter, new_item, team

QUEUE = "/api/v1/projects/API/refinement"


async def described(client: AsyncClient, who: Account) -> dict[str, Any]:
    """An item with an estimate and a description: ready once every entry is ticked."""
    return await new_item(client, who, estimate=3, description="Why and what")


async def queue(client: AsyncClient, who: Account, **params: Any) -> dict[str, Any]:
    response = await client.get(QUEUE, params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def keys(page: dict[str, Any]) -> list[str]:
    return [item["key"] for item in page["data"]]


async def sprint(client: AsyncClient, who: Account, name: str, item_keys: list[str]) -> str:
    made = await client.post(
        "/api/v1/projects/API/sprints", json={"name": name}, headers=who.headers
    )
    assert made.status_code == 201, made.text
    sprint_id: str = made.json()["id"]
    added = await client.post(
        f"/api/v1/sprints/{sprint_id}/items", json={"item_keys": item_keys}, headers=who.headers
    )
    assert added.status_code == 200, added.text
    return sprint_id


async def test_the_queue_lists_the_backlogs_unready_items_in_rank_order(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await set_dor(client, ada, DOR)
    await described(client, ada)  # API-1: ready once ticked
    await tick(client, ada, "API-1", ["acceptance-criteria", "designs"])
    await described(client, ada)  # API-2: entries unticked
    await new_item(client, ada, description="No estimate")  # API-3
    await new_item(client, ada, estimate=5)  # API-4: no description
    await new_item(client, ada, status="Done")  # API-5: finished
    await new_item(client, ada, status="Cancelled")  # API-6: dropped
    await new_item(client, ada, type="epic")  # API-7: epics are refined through their stories
    await new_item(client, ada, status="In Progress")  # API-8: started, still not ready
    await new_item(client, ada)  # API-9: in the active sprint
    await new_item(client, ada)  # API-10: in a planned sprint
    active = await sprint(client, ada, "Now", ["API-9"])
    assert (await client.post(f"/api/v1/sprints/{active}/start", headers=ada.headers)).is_success
    await sprint(client, ada, "Next", ["API-10"])
    page = await queue(client, ada)
    assert keys(page) == ["API-2", "API-3", "API-4", "API-8", "API-10"]
    assert [item["missing"] for item in page["data"][:3]] == [
        ["dor:acceptance-criteria", "dor:designs"],
        ["estimate", "dor:acceptance-criteria", "dor:designs"],
        ["description", "dor:acceptance-criteria", "dor:designs"],
    ]
    assert all(item["ready"] is False for item in page["data"])
    assert page["definition_of_ready"] == DOR
    assert page["next_cursor"] is None
    # Refining the top item takes it out; moving an item up puts it first.
    await tick(client, ada, "API-2", ["acceptance-criteria", "designs"])
    moved = await client.post(
        "/api/v1/items/API-10/move", json={"before": "API-1"}, headers=ada.headers
    )
    assert moved.status_code == 200, moved.text
    assert keys(await queue(client, ada)) == ["API-10", "API-3", "API-4", "API-8"]


async def test_without_a_definition_of_ready_the_queue_asks_for_estimate_and_description(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await described(client, ada)
    await new_item(client, ada, estimate=1)
    await new_item(client, ada, estimate=0, description="Zero is an estimate")
    page = await queue(client, ada)
    assert keys(page) == ["API-2"]
    assert page["data"][0]["missing"] == ["description"]
    assert page["definition_of_ready"] == []
    # Removing the only entry the queue waited on empties it.
    await set_dor(client, ada, DOR[:1])
    assert keys(await queue(client, ada)) == ["API-1", "API-2", "API-3"]
    await tick(client, ada, "API-1", ["acceptance-criteria"])
    assert keys(await queue(client, ada)) == ["API-2", "API-3"]
    await set_dor(client, ada, [])
    assert keys(await queue(client, ada)) == ["API-2"]


async def test_the_queue_pages_by_cursor(client: AsyncClient, app: FastAPI, db: Database) -> None:
    ada = (await team(app, db))["ada"]
    await set_dor(client, ada, DOR)
    for _ in range(7):
        await described(client, ada)
    await tick(client, ada, "API-4", ["acceptance-criteria", "designs"])
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await queue(client, ada, **params)
        seen += keys(page)
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["API-1", "API-2", "API-3", "API-5", "API-6", "API-7"]
    assert pages == 3
    tampered = await client.get(QUEUE, params={"cursor": "x" + "A" * 20}, headers=ada.headers)
    assert tampered.status_code == 400
    assert (await client.get(QUEUE, params={"limit": 0}, headers=ada.headers)).status_code == 422
    assert (await client.get(QUEUE, params={"limit": 101}, headers=ada.headers)).status_code == 422


async def test_members_and_viewers_read_the_queue_strangers_get_404(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await new_item(client, people["ada"])
    for name in ("ada", "bob", "vic"):
        assert keys(await queue(client, people[name])) == ["API-1"]
    stranger = await client.get(QUEUE, headers=people["sam"].headers)
    assert stranger.status_code == 404
    assert (await client.get(QUEUE)).status_code == 401
    other = await client.get("/api/v1/projects/NOPE/refinement", headers=people["ada"].headers)
    assert other.status_code == 404


# The caller's own row, read when the per-worker cache of callers (2 s) has run out: whether it
# is read depends on the clock, not on the items.
CALLER = "SELECT users."


async def _statements(client: AsyncClient, db: Database, who: Account, url: str) -> int:
    with QueryCounter(db) as counter:
        response = await client.get(url, params={"limit": 100}, headers=who.headers)
    assert response.status_code == 200, response.text
    return len([sql for sql in counter.statements if not sql.startswith(CALLER)])


async def test_readiness_costs_no_statement_per_item(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await set_dor(client, ada, DOR)
    for _ in range(3):
        await new_item(client, ada, estimate=2)
    small = {
        url: await _statements(client, db, ada, url)
        for url in (QUEUE, "/api/v1/projects/API/items", "/api/v1/projects/API/board")
    }
    for i in range(40):
        item = await new_item(client, ada, estimate=2, description="d" if i % 2 else "")
        if i % 3 == 0:
            await tick(client, ada, item["key"], ["designs"])
    big = {url: await _statements(client, db, ada, url) for url in small}
    assert big == small
    # The queue is the project, then the page; one item is still one statement.
    assert big[QUEUE] == 2
    assert await _statements(client, db, ada, "/api/v1/items/API-7") == 1
