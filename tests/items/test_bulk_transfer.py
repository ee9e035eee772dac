"""Bulk updates."""

from __future__ import annotations

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
