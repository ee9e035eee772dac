"""ETags, If-Match / If-None-Match, the atomic version check, and database failures as problems."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from httpx import AsyncClient
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import MetaData, String, select, text, update
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from takt.core.concurrency import (
    check_if_match,
    etag_for,
    is_not_modified,
    names_current,
    not_modified_response,
    representation_etag,
    resolve_if_match,
)
from takt.core.db import Database
from takt.core.deps import SessionDep
from takt.core.errors import NotFound, PreconditionFailed
from takt.core.events import Event, emit
from takt.core.models import IdMixin, VersionedMixin
from tests.support import Probe

AssertProblem = Callable[[httpx.Response, int, str], dict[str, Any]]


class WidgetBase(DeclarativeBase):
    """Test-only tables stay out of takt's metadata, which must equal the migrations."""

    metadata = MetaData()


class Widget(IdMixin, VersionedMixin, WidgetBase):
    __tablename__ = "test_widgets"

    name: Mapped[str] = mapped_column(String(64))


class WidgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)


def widget_response(widget: Widget, status_code: int = 200) -> JSONResponse:
    return JSONResponse(
        {"id": widget.id, "name": widget.name, "version": widget.version},
        status_code=status_code,
        headers={"ETag": etag_for(widget.version)},
    )


async def load_widget(session: AsyncSession, widget_id: str) -> Widget:
    widget = await session.get(Widget, widget_id)
    if widget is None:
        raise NotFound(f"No widget {widget_id}.")
    return widget


router = APIRouter(prefix="/test/widgets")


@router.post("", status_code=201)
async def create_widget(body: WidgetIn, session: SessionDep) -> JSONResponse:
    widget = Widget(name=body.name)
    session.add(widget)
    await session.flush()
    return widget_response(widget, 201)


@router.get("/{widget_id}")
async def get_widget(
    widget_id: str,
    session: SessionDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    widget = await load_widget(session, widget_id)
    if is_not_modified(if_none_match, widget.version):
        return not_modified_response(widget.version)
    return widget_response(widget)


@router.patch("/{widget_id}")
async def patch_widget(
    widget_id: str,
    body: WidgetIn,
    session: SessionDep,
    if_match: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    widget = await load_widget(session, widget_id)
    check_if_match(if_match, widget.version)
    widget.name = body.name
    await session.flush()
    return widget_response(widget)


@router.post("/{widget_id}/lose-race")
async def rename_after_a_concurrent_write(
    widget_id: str, session: SessionDep, flush: bool = True
) -> JSONResponse:
    """Another writer bumps the version behind this session's back, as a racing request would."""
    widget = await load_widget(session, widget_id)
    await session.execute(
        update(Widget)
        .where(Widget.id == widget_id)
        .values(version=Widget.version + 1)
        .execution_options(synchronize_session=False)
    )
    widget.name = "lost update"
    if flush:
        await session.flush()
    return JSONResponse({"id": widget.id})  # without flush, the stale UPDATE fails at commit


failures = APIRouter(prefix="/test/failures")


@failures.get("/unreachable/{kind}")
async def query_unreachable_database(kind: str) -> None:
    url = {
        # A file in a folder that does not exist: SQLite can't open it.
        "sqlite": "sqlite+aiosqlite:////nonexistent-takt-folder/missing.db",
        # Nothing listens on port 1: the connection is refused.
        "postgresql": "postgresql+asyncpg://takt@127.0.0.1:1/takt",
    }[kind]
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


@failures.post("/connection-dropped")
async def lose_connection_mid_request(request: Request, session: SessionDep) -> None:
    pid = await session.scalar(text("SELECT pg_backend_pid()"))
    db: Database = request.app.state.db
    async with db.write_engine.connect() as other:
        # With a timeout (ms) it returns once the backend is gone (PostgreSQL 14+).
        await other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    await emit(session, Probe(label="after-drop"), None, None)


@failures.post("/duplicate")
async def emit_the_same_event_id_twice(session: SessionDep) -> None:
    first = await emit(session, Probe(label="duplicate"), None, None)
    session.add(Event(id=first.id, type="test.duplicate", data={}))
    await session.flush()


@failures.get("/bad-sql")
async def fail_with_a_programming_error() -> None:
    # What a typo in a query raises on PostgreSQL: a bug, not something to retry.
    raise ProgrammingError("SELECT * FROM itemz", {}, Exception('relation "itemz" does not exist'))


@pytest.fixture(scope="module", autouse=True)
async def widgets_table(db: Database) -> AsyncIterator[None]:
    async with db.write_engine.begin() as connection:
        await connection.run_sync(WidgetBase.metadata.create_all)
    yield
    async with db.write_engine.begin() as connection:
        await connection.run_sync(WidgetBase.metadata.drop_all)


@pytest.fixture(scope="module")
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    app = make_app()
    app.include_router(router)
    app.include_router(failures)
    return app


@pytest.fixture
async def widget(client: AsyncClient) -> dict[str, Any]:
    response = await client.post("/test/widgets", json={"name": "first"})
    assert response.status_code == 201
    assert response.headers["etag"] == '"v1"'
    body: dict[str, Any] = response.json()
    return body


async def stored_widget(db: Database, widget_id: str) -> Widget:
    async with db.transaction(write=False) as session:
        widget = await session.scalar(select(Widget).where(Widget.id == widget_id))
        assert widget is not None
        return widget


def test_a_representation_etag_is_its_version_and_a_digest_of_its_body() -> None:
    tag = representation_etag(3, b'{"status":"Doing"}')
    assert tag.startswith('"v3-')
    assert tag.endswith('"')
    assert len(tag) == len('"v3-"') + 16
    assert tag == representation_etag(3, b'{"status":"Doing"}')
    assert tag != representation_etag(3, b'{"status":"Done"}')
    assert names_current(f'"x", W/{tag}', tag)
    assert names_current("*", tag)
    assert not names_current(None, tag)
    assert not names_current('"v3"', tag)


def test_if_match_naming_the_current_representation_stands_for_its_version() -> None:
    current = representation_etag(3, b"now")
    before = representation_etag(3, b"before")
    asked: list[str] = []

    def shown() -> str:
        asked.append("built")
        return current

    assert resolve_if_match(None, 3, shown) is None
    # `*` and version tags need no representation and pass as sent.
    assert resolve_if_match('"v2", *', 3, shown) == '"v2", *'
    assert asked == []
    assert resolve_if_match(current, 3, shown) == '"v3"'
    assert resolve_if_match(f'"v1", {current}', 3, shown) == '"v1", "v3"'
    # A tag of an earlier representation stays, and matches no version: 412.
    assert resolve_if_match(before, 3, shown) == before
    with pytest.raises(PreconditionFailed):
        check_if_match(resolve_if_match(before, 3, shown), 3)
    check_if_match(resolve_if_match(current, 3, shown), 3)


async def test_get_returns_strong_etag_of_the_version(
    client: AsyncClient, widget: dict[str, Any]
) -> None:
    response = await client.get(f"/test/widgets/{widget['id']}")
    assert response.status_code == 200
    assert response.headers["etag"] == etag_for(1) == '"v1"'


async def test_get_with_current_if_none_match_gets_304(
    client: AsyncClient, widget: dict[str, Any]
) -> None:
    response = await client.get(f"/test/widgets/{widget['id']}", headers={"If-None-Match": '"v1"'})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == '"v1"'


async def test_get_with_stale_if_none_match_gets_200(
    client: AsyncClient, widget: dict[str, Any]
) -> None:
    await client.patch(f"/test/widgets/{widget['id']}", json={"name": "second"})
    response = await client.get(f"/test/widgets/{widget['id']}", headers={"If-None-Match": '"v1"'})
    assert response.status_code == 200
    assert response.headers["etag"] == '"v2"'


async def test_patch_with_current_if_match_changes_etag(
    client: AsyncClient, widget: dict[str, Any]
) -> None:
    response = await client.patch(
        f"/test/widgets/{widget['id']}", json={"name": "second"}, headers={"If-Match": '"v1"'}
    )
    assert response.status_code == 200
    assert response.headers["etag"] == '"v2"'
    assert response.json()["name"] == "second"


async def test_patch_with_stale_if_match_gets_412_and_changes_nothing(
    client: AsyncClient, db: Database, widget: dict[str, Any], assert_problem: AssertProblem
) -> None:
    await client.patch(f"/test/widgets/{widget['id']}", json={"name": "second"})
    response = await client.patch(
        f"/test/widgets/{widget['id']}", json={"name": "third"}, headers={"If-Match": '"v1"'}
    )
    assert_problem(response, 412, "version-conflict")
    stored = await stored_widget(db, widget["id"])
    assert (stored.name, stored.version) == ("second", 2)


async def test_fifty_concurrent_patches_with_same_if_match_let_exactly_one_win(
    client: AsyncClient, db: Database, widget: dict[str, Any], assert_problem: AssertProblem
) -> None:
    responses = await asyncio.gather(
        *(
            client.patch(
                f"/test/widgets/{widget['id']}",
                json={"name": f"n{i}"},
                headers={"If-Match": '"v1"'},
            )
            for i in range(50)
        )
    )
    assert Counter(r.status_code for r in responses) == {200: 1, 412: 49}
    for response in responses:
        if response.status_code == 412:
            assert_problem(response, 412, "version-conflict")
    winner = next(r for r in responses if r.status_code == 200)
    stored = await stored_widget(db, widget["id"])
    assert (stored.name, stored.version) == (winner.json()["name"], 2)


@pytest.mark.parametrize("flush", [True, False], ids=["at-flush", "at-commit"])
async def test_update_losing_the_version_race_gets_412_and_rolls_back(
    client: AsyncClient,
    db: Database,
    widget: dict[str, Any],
    assert_problem: AssertProblem,
    flush: bool,
) -> None:
    response = await client.post(
        f"/test/widgets/{widget['id']}/lose-race", params={"flush": str(flush).lower()}
    )
    assert_problem(response, 412, "version-conflict")
    stored = await stored_widget(db, widget["id"])
    assert (stored.name, stored.version) == ("first", 1)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_unreachable_database_gets_503_problem(
    client: AsyncClient, assert_problem: AssertProblem, kind: str
) -> None:
    response = await client.get(f"/test/failures/unreachable/{kind}")
    body = assert_problem(response, 503, "service-unavailable")
    assert "nonexistent" not in response.text
    assert "127.0.0.1" not in response.text
    assert "retry" in body["detail"]


async def test_connection_dropped_mid_request_gets_503_and_the_next_request_works(
    client: AsyncClient, db: Database, assert_problem: AssertProblem
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("needs a server connection to terminate")
    response = await client.post("/test/failures/connection-dropped")
    assert_problem(response, 503, "service-unavailable")
    after = await client.post("/test/widgets", json={"name": "after"})
    assert after.status_code == 201


async def test_unhandled_unique_violation_gets_409_problem_without_sql(
    client: AsyncClient, assert_problem: AssertProblem, count_events: Callable[..., Any]
) -> None:
    response = await client.post("/test/failures/duplicate")
    assert_problem(response, 409, "conflict")
    for leak in ("INSERT", "UNIQUE", "unique", "uq_events_id", "events"):
        assert leak not in response.text
    assert await count_events() == 0


async def test_database_error_from_a_bug_gets_generic_500_without_sql(
    client: AsyncClient, assert_problem: AssertProblem
) -> None:
    response = await client.get("/test/failures/bad-sql")
    assert_problem(response, 500, "internal-error")
    assert "itemz" not in response.text
