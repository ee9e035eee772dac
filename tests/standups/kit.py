"""Helpers of the stand-ups' tests: calls through the API, at a pinned moment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from httpx import AsyncClient, Response

from takt.core.time import clock_at
from tests.support import Account

CONFIG = "/api/v1/projects/API/standup-config"


def day_url(day: str, suffix: str = "", key: str = "API") -> str:
    return f"/api/v1/projects/{key}/standups/{day}{suffix}"


def utc(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def call(
    client: AsyncClient, who: Account, method: str, url: str, *, at: datetime, **kwargs: Any
) -> Response:
    with clock_at(at):
        return await client.request(method, url, headers=who.headers, **kwargs)


async def submit(
    client: AsyncClient, who: Account, day: str, *, at: datetime, **body: Any
) -> Response:
    return await call(client, who, "PUT", day_url(day, "/me"), at=at, json=body)


def ok(response: Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def use_settings(client: AsyncClient, admin: Account, **settings: Any) -> None:
    changed = await client.patch(
        "/api/v1/projects/API", json={"settings": settings}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text
