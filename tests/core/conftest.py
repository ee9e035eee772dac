"""Helpers for the platform tests, as fixtures since tests/core is not a package: an app of
their own per module, a client on any app, problem and event checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select

from takt.config import Settings
from takt.core.db import Database
from takt.core.errors import PROBLEM_MEDIA_TYPE
from takt.core.events import Event
from takt.main import create_app

MakeApp = Callable[..., FastAPI]
ClientFor = Callable[[FastAPI], AbstractAsyncContextManager[AsyncClient]]
AssertProblem = Callable[[Response, int, str], dict[str, Any]]
CountEvents = Callable[..., Awaitable[int]]


@pytest.fixture(scope="session")
def make_app(settings: Settings, db: Database) -> MakeApp:
    """A new app on the session database `db`, so test-only routes never reach another module.
    Keyword arguments override settings, e.g. `make_app(access_log=True)`."""

    def make(database: Database | None = None, **overrides: Any) -> FastAPI:
        return create_app(settings.model_copy(update=overrides), database=database or db)

    return make


@pytest.fixture(scope="session")
async def quiet_db(settings: Settings) -> AsyncIterator[Database]:
    """The session database on engines of its own, for modules whose tests write nothing.

    The harness empties every table after each test that uses `db`; on PostgreSQL that
    TRUNCATE is most of the time of a test that never touches the database."""
    database = Database.from_settings(settings)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def make_quiet_app(settings: Settings, quiet_db: Database) -> MakeApp:
    """Like `make_app`, on `quiet_db`: only for tests that leave no rows behind."""

    def make(**overrides: Any) -> FastAPI:
        return create_app(settings.model_copy(update=overrides), database=quiet_db)

    return make


@pytest.fixture
async def client(app: FastAPI, client_for: ClientFor) -> AsyncIterator[AsyncClient]:
    """A client on the module's `app`; it needs `db` (and its cleanup) only if the app does."""
    async with client_for(app) as client:
        yield client


@pytest.fixture(scope="session")
def client_for() -> ClientFor:
    @asynccontextmanager
    async def open_client(app: FastAPI) -> AsyncIterator[AsyncClient]:
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield client

    return open_client


def _assert_problem(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"/problems/{code}"
    assert body["instance"] == response.request.url.path
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@pytest.fixture(scope="session")
def assert_problem() -> AssertProblem:
    """Checks an RFC 9457 problem response as API.md describes it and returns its body."""
    return _assert_problem


@pytest.fixture(scope="session")
def count_events(db: Database) -> CountEvents:
    """Committed event rows (optionally of one type), seen from a connection of their own."""

    async def count(type_: str | None = None) -> int:
        stmt = select(func.count()).select_from(Event)
        if type_ is not None:
            stmt = stmt.where(Event.type == type_)
        async with db.transaction(write=False) as session:
            return int(await session.scalar(stmt) or 0)

    return count
