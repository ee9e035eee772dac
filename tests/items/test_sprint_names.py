"""Item answers name their sprint (`sprint: {id, name}`) at no statement more, and the board
shows the active sprint with `sprint_id=current`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.support import Account, QueryCounter, new_item, team

ITEMS = "/api/v1/projects/API/items"
BOARD = "/api/v1/projects/API/board"


async def _sprint(client: AsyncClient, who: Account, name: str) -> dict[str, str]:
    response = await client.post(
        "/api/v1/projects/API/sprints", json={"name": name}, headers=who.headers
    )
    assert response.status_code == 201, response.text
    return {"id": response.json()["id"], "name": name}


def _cards(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [card for column in board["columns"] for card in column["items"]]


async def test_every_item_answer_names_its_sprint(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    march, april = await _sprint(client, ada, "March"), await _sprint(client, ada, "April")
    created = await new_item(client, ada, title="Planned", sprint_id=march["id"])
    assert created["sprint"] == march
    assert created["sprint_id"] == march["id"]
    loose = await new_item(client, ada, title="Loose")
    assert loose["sprint"] is None
    assert loose["sprint_id"] is None

    url = f"/api/v1/items/{created['key']}"
    assert (await client.get(url, headers=ada.headers)).json()["sprint"] == march
    listed = (await client.get(ITEMS, params={"sort": "key"}, headers=ada.headers)).json()
    assert [item["sprint"] for item in listed["data"]] == [march, None]
    board = (await client.get(BOARD, headers=ada.headers)).json()
    assert {card["key"]: card["sprint"] for card in _cards(board)} == {
        created["key"]: march,
        loose["key"]: None,
    }

    moved = await client.patch(url, json={"sprint_id": april["id"]}, headers=ada.headers)
    assert moved.status_code == 200, moved.text
    assert moved.json()["sprint"] == april
    cleared = await client.patch(url, json={"sprint_id": None}, headers=ada.headers)
    assert cleared.json()["sprint"] is None
    assert cleared.json()["sprint_id"] is None

    # The name is read with the item, so a renamed sprint shows its new name.
    await client.patch(url, json={"sprint_id": april["id"]}, headers=ada.headers)
    renamed = await client.patch(
        f"/api/v1/sprints/{april['id']}", json={"name": "April (late)"}, headers=ada.headers
    )
    assert renamed.status_code == 200, renamed.text
    shown = (await client.get(url, headers=ada.headers)).json()
    assert shown["sprint"] == {"id": april["id"], "name": "April (late)"}


async def test_sprint_names_cost_no_statement_more(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    sprints = [await _sprint(client, ada, f"Sprint {n}") for n in range(3)]
    for n in range(12):
        await new_item(client, ada, sprint_id=sprints[n % 3]["id"] if n % 4 else None)
    begin = 1 if db.dialect == "sqlite" else 0  # SQLite's explicit BEGIN is a statement too
    reads = {
        ITEMS: 3,  # caller, project access, the page
        "/api/v1/items/API-2": 2,  # caller, the item with its project
        BOARD: 5,  # caller, project access, columns with counts, the cards
    }
    for url, ceiling in reads.items():
        with QueryCounter(db) as counter:
            response = await client.get(url, headers=ada.headers)
        assert response.status_code == 200, response.text
        assert counter.count <= ceiling + begin, (url, counter.statements)


async def test_the_board_of_the_current_sprint(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    planned = await _sprint(client, ada, "Next")
    running = await _sprint(client, ada, "Now")
    await new_item(client, ada, title="Later", sprint_id=planned["id"])
    now = await new_item(client, ada, title="Today", sprint_id=running["id"])
    await new_item(client, ada, title="Someday")

    none = await client.get(BOARD, params={"sprint_id": "current"}, headers=ada.headers)
    assert none.status_code == 404, none.text
    assert none.headers["content-type"] == "application/problem+json"
    assert none.json()["code"] == "no-active-sprint"

    started = await client.post(f"/api/v1/sprints/{running['id']}/start", headers=ada.headers)
    assert started.status_code == 200, started.text
    with QueryCounter(db) as current_count:
        current = await client.get(BOARD, params={"sprint_id": "current"}, headers=ada.headers)
    assert current.status_code == 200, current.text
    assert current.json()["sprint_id"] == running["id"]
    assert current.json()["sprint"] == running
    assert [card["key"] for card in _cards(current.json())] == [now["key"]]
    # The same board as asked for by the sprint's id, in as many statements.
    with QueryCounter(db) as by_id_count:
        by_id = await client.get(BOARD, params={"sprint_id": running["id"]}, headers=ada.headers)
    assert by_id.json() == current.json()
    assert current_count.count == by_id_count.count

    whole = (await client.get(BOARD, headers=ada.headers)).json()
    assert whole["sprint_id"] is None
    assert whole["sprint"] is None
    assert len(_cards(whole)) == 3


async def test_the_problem_of_no_active_sprint_is_documented(client: AsyncClient) -> None:
    response = await client.get("/problems/no-active-sprint")
    assert response.status_code == 200, response.text
    assert "no active sprint" in response.text
