"""What the stream operations answer before any stream starts (in process, through the ASGI
app): who may open one, the media types, forged cursors."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.support import team

STREAM = {"Accept": "text/event-stream"}
PATHS = ["/api/v1/projects/API/events", "/api/v1/events/stream"]


@pytest.mark.parametrize("path", PATHS)
async def test_anonymous_callers_get_401(client: AsyncClient, path: str) -> None:
    response = await client.get(path, headers=STREAM)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_stream_of_every_project_wants_the_event_stream_media_type(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    for accept in (None, "application/json", "*/*"):
        headers = {**people["bob"].headers, **({"Accept": accept} if accept else {})}
        response = await client.get("/api/v1/events/stream", headers=headers)
        assert response.status_code == 406, accept
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "not-acceptable"


async def test_without_the_event_stream_media_type_the_log_answers_a_json_page(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    headers = {**people["bob"].headers, "Accept": "application/json"}
    response = await client.get("/api/v1/projects/API/events", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["data"][0]["type"] == "project.created"


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("where", ["Last-Event-ID", "after"])
async def test_a_forged_cursor_is_refused_before_the_stream_starts(
    app: FastAPI, db: Database, client: AsyncClient, path: str, where: str
) -> None:
    people = await team(app, db)
    forged = "eyJzIjoiZXZlbnQtbG9nIiwiayI6WzAsMV19.AAAAAAAAAAAAAAAAAAAAAA"
    headers = {**people["bob"].headers, **STREAM}
    params = {}
    if where == "after":
        params["after"] = forged
    else:
        headers["Last-Event-ID"] = forged
    response = await client.get(path, headers=headers, params=params)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid-cursor"


async def test_a_project_the_caller_cannot_see_is_404_not_a_stream(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    response = await client.get(
        "/api/v1/projects/API/events", headers={**people["sam"].headers, **STREAM}
    )
    assert response.status_code == 404
