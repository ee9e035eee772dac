"""Statuses and labels."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.support import new_item, team

BASE = "/api/v1/projects/API"


async def test_new_project_gets_the_default_workflow(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    response = await client.get(f"{BASE}/statuses", headers=people["vic"].headers)
    assert [(s["name"], s["category"]) for s in response.json()["data"]] == [
        ("Backlog", "backlog"),
        ("To Do", "todo"),
        ("In Progress", "in_progress"),
        ("In Review", "in_review"),
        ("Done", "done"),
        ("Cancelled", "cancelled"),
    ]


async def test_admin_adds_reorders_and_limits_statuses(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    created = await client.post(
        f"{BASE}/statuses",
        json={"name": "QA", "category": "in_review", "position": 3},
        headers=ada.headers,
    )
    assert created.status_code == 201
    qa = created.json()
    assert qa["position"] == 3
    names = [
        s["name"]
        for s in (await client.get(f"{BASE}/statuses", headers=ada.headers)).json()["data"]
    ]
    assert names.index("QA") == 3
    limited = await client.patch(
        f"{BASE}/statuses/{qa['id']}", json={"wip_limit": 2, "position": 0}, headers=ada.headers
    )
    assert limited.json()["wip_limit"] == 2
    assert limited.json()["position"] == 0
    dup = await client.post(
        f"{BASE}/statuses", json={"name": "qa", "category": "todo"}, headers=ada.headers
    )
    assert dup.status_code == 409


async def test_status_in_use_detail_counts_its_items_and_names_move_to(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    statuses = (await client.get(f"{BASE}/statuses", headers=ada.headers)).json()["data"]
    todo = next(s for s in statuses if s["name"] == "To Do")
    await new_item(client, ada, status="To Do")
    one = await client.delete(f"{BASE}/statuses/{todo['id']}", headers=ada.headers)
    await new_item(client, ada, status="To Do")
    two = await client.delete(f"{BASE}/statuses/{todo['id']}", headers=ada.headers)
    assert one.json()["detail"] == "1 item is in 'To Do'; say where it goes with `move_to`."
    assert two.json()["detail"] == "2 items are in 'To Do'; say where they go with `move_to`."


async def test_status_in_use_needs_somewhere_for_its_items(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    statuses = (await client.get(f"{BASE}/statuses", headers=ada.headers)).json()["data"]
    todo = next(s for s in statuses if s["name"] == "To Do")
    item = await new_item(client, ada, status="To Do")
    refused = await client.delete(f"{BASE}/statuses/{todo['id']}", headers=ada.headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "status-in-use"
    bad_target = await client.delete(
        f"{BASE}/statuses/{todo['id']}", params={"move_to": "Nowhere"}, headers=ada.headers
    )
    assert bad_target.status_code == 422
    moved = await client.delete(
        f"{BASE}/statuses/{todo['id']}", params={"move_to": "Backlog"}, headers=ada.headers
    )
    assert moved.status_code == 204
    after = await client.get(f"/api/v1/items/{item['key']}", headers=ada.headers)
    assert after.json()["status"]["name"] == "Backlog"
    positions = [
        s["position"]
        for s in (await client.get(f"{BASE}/statuses", headers=ada.headers)).json()["data"]
    ]
    assert positions == list(range(5))


async def test_labels_have_colours_and_unique_names(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    created = await client.post(
        f"{BASE}/labels", json={"name": "api", "color": "#ff0000"}, headers=bob.headers
    )
    assert created.status_code == 201
    assert created.json()["color"] == "#ff0000"
    assert (
        await client.post(f"{BASE}/labels", json={"name": "API"}, headers=bob.headers)
    ).status_code == 409
    assert (
        await client.post(f"{BASE}/labels", json={"name": "x", "color": "red"}, headers=bob.headers)
    ).status_code == 422
    listed = await client.get(f"{BASE}/labels", headers=bob.headers)
    assert [label["name"] for label in listed.json()["data"]] == ["api"]
