"""What the stream operations answer before any stream starts (in process, through the ASGI
app): who may open one, the media types, forged cursors; how many streams one user may hold
(the setting and its documentation; tests/events/test_stream.py opens them on a server)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from pydantic import ValidationError

from takt.config import Settings
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


def test_streams_per_user_default_to_ten_and_read_their_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TAKT_SSE_MAX_STREAMS_PER_USER", raising=False)
    assert Settings(_env_file=None).sse_max_streams_per_user == 10
    monkeypatch.setenv("TAKT_SSE_MAX_STREAMS_PER_USER", "3")
    assert Settings(_env_file=None).sse_max_streams_per_user == 3


@pytest.mark.parametrize(("value", "valid"), [(0, False), (1, True), (1000, True), (1001, False)])
def test_streams_per_user_are_bounded(value: int, valid: bool) -> None:
    if valid:
        assert Settings(_env_file=None, sse_max_streams_per_user=value).sse_max_streams_per_user
    else:
        with pytest.raises(ValidationError, match="sse_max_streams_per_user"):
            Settings(_env_file=None, sse_max_streams_per_user=value)


@pytest.mark.parametrize("path", ["/api/v1/projects/{project_key}/events", "/api/v1/events/stream"])
def test_the_stream_operations_document_the_429_of_too_many_streams(
    app: FastAPI, path: str
) -> None:
    refused = app.openapi()["paths"][path]["get"]["responses"]["429"]
    assert "`too-many-streams`" in refused["description"]
    assert "Retry-After" in refused["headers"]
    assert "application/problem+json" in refused["content"]
