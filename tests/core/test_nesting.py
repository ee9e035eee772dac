"""A request body nested hundreds of levels deep, well under the size limit, is refused like any
other wrong body (422), not a 500: every body's NUL check walks it without recursion."""

from __future__ import annotations

import json

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.support import team


def _nested(depth: int) -> str:
    """JSON text of a NUL string inside `depth` arrays (json.dumps itself recurses)."""
    return "[" * depth + json.dumps("\x00") + "]" * depth


async def test_a_deeply_nested_body_is_a_422(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    for depth in (400, 900, 5000, 50000):
        body = '{"key": "DEEP", "name": "Deep", "extra": ' + _nested(depth) + "}"
        answer = await client.post(
            "/api/v1/projects",
            content=body,
            headers={**ada.headers, "Content-Type": "application/json"},
        )
        assert answer.status_code == 422, (depth, answer.status_code, answer.text[:200])
        assert answer.headers["content-type"].startswith("application/problem+json")
    listed = await client.get("/api/v1/projects", headers=ada.headers)
    assert "DEEP" not in [project["key"] for project in listed.json()["data"]]
