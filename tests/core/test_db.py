"""The database layer: SQLite pragmas, concurrent writers, and one commit per request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select

from takt.config import Settings
from takt.core.db import Database
from takt.core.deps import SessionDep
from takt.core.errors import Conflict
from takt.core.events import Event, emit
from tests.support import Probe

AssertProblem = Callable[[Response, int, str], dict[str, Any]]
CountEvents = Callable[..., Awaitable[int]]

router = APIRouter(prefix="/test/db")


@router.post("/commit", status_code=201)
async def emit_and_return(session: SessionDep) -> dict[str, int]:
    event = await emit(session, Probe(label="committed"), None, None)
    return {"seq": event.seq}


@router.post("/conflict")
async def emit_then_conflict(session: SessionDep) -> None:
    await emit(session, Probe(label="conflicted"), None, None)
    raise Conflict("The sprint is already active.")


@router.post("/crash")
async def emit_then_crash(session: SessionDep) -> None:
    await emit(session, Probe(label="crashed"), None, None)
    raise RuntimeError("secret internals: password=hunter2")


@router.get("/read-only")
async def emit_in_a_read(session: SessionDep) -> dict[str, bool]:
    await emit(session, Probe(label="read"), None, None)
    return {"ok": True}


@router.post("/fails-at-commit/{event_id}", status_code=201)
async def add_duplicate_without_flush(event_id: str, session: SessionDep) -> dict[str, bool]:
    # Not flushed: the unique violation surfaces only when the request commits.
    session.add(Event(id=event_id, type="test.duplicate", data={}))
    return {"ok": True}


@pytest.fixture(scope="module")
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    app = make_app()
    app.include_router(router)
    return app


@pytest.mark.parametrize("engine", ["write_engine", "read_engine"])
async def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(
    db: Database, settings: Settings, engine: str
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("SQLite pragmas")
    async with getattr(db, engine).connect() as connection:
        journal_mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
        foreign_keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
        busy_timeout = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
    assert journal_mode == "wal"
    assert foreign_keys == 1
    assert busy_timeout == settings.sqlite_busy_timeout_ms


async def test_postgres_connections_plan_prepared_statements_generically(
    db: Database, settings: Settings
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL setting")
    async with db.read_engine.connect() as connection:
        mode = (await connection.exec_driver_sql("SHOW plan_cache_mode")).scalar()
    assert mode == settings.db_plan_cache_mode == "force_generic_plan"


async def test_sixteen_concurrent_writers_lose_nothing(
    db: Database, settings: Settings, count_events: CountEvents
) -> None:
    # Two Database objects stand for two server processes sharing one database.
    other = Database.from_settings(settings)

    async def writer(n: int) -> None:
        database = db if n % 2 else other
        for i in range(20):
            async with database.transaction() as session:
                await emit(session, Probe(label="written", writer=n, number=i), None, None)

    try:
        await asyncio.gather(*(writer(n) for n in range(16)))
    finally:
        await other.dispose()
    async with db.transaction(write=False) as session:
        rows = (await session.scalars(select(Event.data).where(Event.type == "test.probe"))).all()
    assert sorted((row["writer"], row["number"]) for row in rows) == [
        (n, i) for n in range(16) for i in range(20)
    ]
    assert await count_events() == 16 * 20


async def test_request_commits_its_event_once_handler_returns(
    client: AsyncClient, count_events: CountEvents
) -> None:
    response = await client.post("/test/db/commit")
    assert response.status_code == 201
    assert await count_events("test.probe") == 1


async def test_domain_error_after_emit_gets_409_and_leaves_no_event(
    client: AsyncClient, assert_problem: AssertProblem, count_events: CountEvents
) -> None:
    response = await client.post("/test/db/conflict")
    body = assert_problem(response, 409, "conflict")
    assert body["detail"] == "The sprint is already active."
    assert await count_events() == 0


async def test_unexpected_error_after_emit_gets_generic_500_and_leaves_no_event(
    client: AsyncClient, assert_problem: AssertProblem, count_events: CountEvents
) -> None:
    response = await client.post("/test/db/crash", headers={"X-Request-ID": "crash-1"})
    body = assert_problem(response, 500, "internal-error")
    assert body["request_id"] == "crash-1"
    assert "request id" in body["detail"]
    for leak in ("RuntimeError", "Traceback", "secret internals", "hunter2", ".py"):
        assert leak not in response.text
    assert await count_events() == 0


async def test_get_request_never_writes(client: AsyncClient, count_events: CountEvents) -> None:
    # Reads may run in autocommit (PostgreSQL), so a GET that tries to write is refused loudly.
    response = await client.get("/test/db/read-only")
    assert response.status_code == 500
    assert await count_events() == 0


async def test_commit_failure_after_handler_returns_is_not_a_2xx(
    client: AsyncClient, db: Database, assert_problem: AssertProblem, count_events: CountEvents
) -> None:
    async with db.transaction() as session:
        existing = await emit(session, Probe(label="original"), None, None)
    response = await client.post(f"/test/db/fails-at-commit/{existing.id}")
    body = assert_problem(response, 409, "conflict")
    assert "uq_events_id" not in response.text
    assert "INSERT" not in body["detail"]
    assert await count_events() == 1


def test_json_columns_read_what_the_standard_library_wrote() -> None:
    # orjson reads columns fast but refuses NaN, which json.dumps (the writer) produces.
    from takt.core.db import _read_json

    assert _read_json('{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
    value = _read_json('{"a": NaN}')["a"]
    assert value != value  # NaN
