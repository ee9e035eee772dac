"""Bulk updates, and export → import → export round trips."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.support import new_item, team

BULK = "/api/v1/projects/API/items/bulk"


async def test_bulk_applies_valid_updates_and_reports_the_rest(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    for _ in range(3):
        await new_item(client, ada)
    response = await client.post(
        BULK,
        json={
            "updates": [
                {"key": "API-1", "priority": "high"},
                {"key": "API-2", "status": "Nowhere"},
                {"key": "API-9", "priority": "low"},
                {"key": "API-3", "status": "Done", "assignee": "bob"},
            ]
        },
        headers=ada.headers,
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["key"], r["status"]) for r in results] == [
        ("API-1", 200),
        ("API-2", 422),
        ("API-9", 404),
        ("API-3", 200),
    ]
    assert results[0]["item"]["priority"] == "high"
    assert results[1]["error"]["code"] == "validation-failed"
    assert results[3]["item"]["status"]["name"] == "Done"
    second = (await client.get("/api/v1/items/API-2", headers=ada.headers)).json()
    assert second["status"]["name"] == "Backlog"


async def test_atomic_bulk_changes_nothing_when_one_fails(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await new_item(client, ada)
    response = await client.post(
        BULK,
        json={
            "atomic": True,
            "updates": [
                {"key": "API-1", "priority": "high"},
                {"key": "API-1", "assignee": "ghost"},
            ],
        },
        headers=ada.headers,
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "bulk-failed"
    assert body["errors"][0]["pointer"] == "/updates/1"
    assert (await client.get("/api/v1/items/API-1", headers=ada.headers)).json()[
        "priority"
    ] == "none"
    too_many = await client.post(
        BULK, json={"updates": [{"key": "API-1", "priority": "low"}] * 101}, headers=ada.headers
    )
    assert too_many.status_code == 422


def _normalise(document: dict[str, Any], key: str) -> Any:
    """The document with the project key and item keys made neutral."""

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return "KEY" if value == key else re.sub(rf"^{key}-(\d+)$", r"KEY-\1", value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return walk(document)


async def test_export_import_export_round_trips(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    await client.post(
        "/api/v1/projects/API/labels", json={"name": "api", "color": "#112233"}, headers=ada.headers
    )
    await client.post(
        "/api/v1/projects/API/statuses",
        json={"name": "QA", "category": "in_review", "wip_limit": 2},
        headers=ada.headers,
    )
    epic = await new_item(client, ada, type="epic", title="Epic", description="Big **thing**")
    story = await new_item(
        client,
        ada,
        type="story",
        parent_key=epic["key"],
        assignee="bob",
        labels=["api"],
        estimate=5,
        due_date="2027-01-31",
        priority="high",
    )
    task = await new_item(client, ada, type="task", parent_key=story["key"], status="QA")
    await client.post(
        f"/api/v1/items/{task['key']}/move", json={"before": epic["key"]}, headers=ada.headers
    )
    await client.patch(
        f"/api/v1/items/{story['key']}", json={"status": "Done"}, headers=ada.headers
    )
    await client.post(
        f"/api/v1/items/{story['key']}/links",
        json={"type": "blocks", "target": task["key"]},
        headers=ada.headers,
    )
    await client.post(
        f"/api/v1/items/{story['key']}/comments", json={"body": "Ship it @bob"}, headers=ada.headers
    )

    exported = await client.get("/api/v1/projects/API/export", headers=ada.headers)
    assert exported.status_code == 200
    document = exported.json()
    assert len(document["items"]) == 3
    assert len(document["history"]) >= 8

    imported = await client.post(
        "/api/v1/projects/import", json={"key": "NEW", "document": document}, headers=ada.headers
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["key"] == "NEW"
    again = (await client.get("/api/v1/projects/NEW/export", headers=ada.headers)).json()
    left, right = _normalise(again, "NEW"), _normalise(document, "API")
    for a, b in zip(left["history"], right["history"], strict=False):
        assert a == b
    assert left == right

    # The imported project works like any other: new items continue the numbering.
    fresh = await new_item(client, ada, "NEW")
    assert fresh["key"] == "NEW-4"
    members = (await client.get("/api/v1/projects/NEW/members", headers=ada.headers)).json()
    assert {m["user"]["username"]: m["role"] for m in members["data"]} == {
        "ada": "admin",
        "bob": "member",
        "vic": "viewer",
    }


async def test_import_refuses_a_taken_key_and_a_broken_document(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await new_item(client, ada)
    document = (await client.get("/api/v1/projects/API/export", headers=ada.headers)).json()
    taken = await client.post(
        "/api/v1/projects/import", json={"key": "API", "document": document}, headers=ada.headers
    )
    assert taken.status_code == 409
    document["items"][0]["status"] = "Missing"
    broken = await client.post(
        "/api/v1/projects/import", json={"key": "NEW", "document": document}, headers=ada.headers
    )
    assert broken.status_code == 422
    assert broken.json()["errors"][0]["pointer"] == "/document/items/0/status"
    assert (await client.get("/api/v1/projects/NEW", headers=ada.headers)).status_code == 404


async def test_import_refuses_malformed_rank_keys(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await new_item(client, ada)
    document = (await client.get("/api/v1/projects/API/export", headers=ada.headers)).json()
    for bad in ("", "V0", "a b", "!"):
        document["items"][0]["rank"] = bad
        response = await client.post(
            "/api/v1/projects/import",
            json={"key": "NEW", "document": document},
            headers=ada.headers,
        )
        assert response.status_code == 422, (bad, response.text)
    # A project imported with valid ranks keeps working: new items go after them.
    document["items"][0]["rank"] = "zzz1"
    imported = await client.post(
        "/api/v1/projects/import", json={"key": "NEW", "document": document}, headers=ada.headers
    )
    assert imported.status_code == 201
    assert (await new_item(client, ada, "NEW"))["rank"] > "zzz1"
