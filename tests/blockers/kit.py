"""Helpers of the blockers' tests: a project on a calendar, items, blockers through the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from httpx import AsyncClient

from takt.core.time import clock_at
from tests.support import Account, new_item

BLOCKERS = "/api/v1/projects/API/blockers"


async def use_calendar(client: AsyncClient, admin: Account, **settings: Any) -> None:
    """Put project API on a calendar (by default Berlin, Monday to Friday, 09:00-17:00)."""
    body = {"time_zone": "Europe/Berlin", **settings}
    changed = await client.patch(
        "/api/v1/projects/API", json={"settings": body}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text


async def raise_on(
    client: AsyncClient,
    who: Account,
    item_key: str,
    *,
    at: datetime | None = None,
    reason: str = "Waiting for the sandbox",
    waiting_on: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body = {
        "item_key": item_key,
        "reason": reason,
        "waiting_on": waiting_on or {"kind": "external", "name": "Stripe"},
    }
    if at is None:
        response = await client.post(BLOCKERS, json=body, headers=who.headers)
    else:
        with clock_at(at):
            response = await client.post(BLOCKERS, json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    blocker: dict[str, Any] = response.json()
    return blocker


async def item_flag(client: AsyncClient, who: Account, key: str) -> bool:
    response = await client.get(f"/api/v1/items/{key}", headers=who.headers)
    assert response.status_code == 200, response.text
    return bool(response.json()["blocked"])


async def an_item(client: AsyncClient, who: Account, **fields: Any) -> str:
    return str((await new_item(client, who, **fields))["key"])
