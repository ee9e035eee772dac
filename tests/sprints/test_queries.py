"""Sprint reads send a constant number of statements (the commitment column is deferred)."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.support import QueryCounter, team


async def _list_statements(client: AsyncClient, headers: dict[str, str], db: Database) -> int:
    await client.get("/api/v1/projects/API/sprints", headers=headers)  # warm the principal
    with QueryCounter(db) as counter:
        listed = await client.get("/api/v1/projects/API/sprints", headers=headers)
    assert listed.status_code == 200
    return counter.count


async def test_listing_sprints_does_not_read_each_commitment_apart(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]

    async def sprint(n: int) -> str:
        made = await client.post(
            "/api/v1/projects/API/sprints",
            json={"name": f"S{n}", "start_date": f"2026-0{n}-01", "end_date": f"2026-0{n}-14"},
            headers=ada.headers,
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    first = await sprint(1)
    started = await client.post(f"/api/v1/sprints/{first}/start", headers=ada.headers)
    assert started.status_code == 200, started.text
    one = await _list_statements(client, ada.headers, db)
    for n in (2, 3, 4):
        await sprint(n)
    listed = await client.get("/api/v1/projects/API/sprints", headers=ada.headers)
    assert len(listed.json()["data"]) == 4
    assert listed.json()["data"][0]["commitment"] is not None
    assert await _list_statements(client, ada.headers, db) == one
