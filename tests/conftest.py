"""Test harness: one migrated database per test session (SQLite, or PostgreSQL when
TAKT_TEST_DATABASE_URL points there), emptied after every test, and an httpx client on the app."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from takt.config import Settings
from takt.core.db import Database, is_sqlite_url
from takt.core.migrations import upgrade
from takt.main import create_app
from takt.models_registry import metadata

# Prints what a hanging test awaits (pyproject.toml ends it at 300 s).
pytest_plugins = ["tests.watchdog"]

TEST_SECRET = "test-secret-key-that-is-long-enough-for-production-use"
CHECK_EVENTS = os.environ.get("TAKT_TEST_CHECK_EVENTS", "1") == "1"


def _server_url(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


async def create_postgres_database(url: str) -> str:
    """Create a uniquely named database on the server `url` points at; returns its URL."""
    import asyncpg

    name = f"takt_test_{uuid.uuid4().hex[:12]}"
    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database="postgres",
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        # Commits don't wait for the WAL's fsync: a test database never outlives a crash of its
        # server, and a disk slow to fsync made the PostgreSQL pass several times slower than
        # SQLite's (which syncs at checkpoints only). Visibility, locks and isolation are as ever.
        await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        await conn.close()
    return parsed.set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(url: str) -> None:
    import asyncpg

    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database="postgres",
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    finally:
        await conn.close()


class FreshDatabase:
    """Makes empty, unmigrated databases of the kind under test, and cleans them up."""

    def __init__(self, base_url: str | None, tmp: Path) -> None:
        self.base_url = base_url
        self.tmp = tmp
        self.created: list[str] = []

    @property
    def is_postgres(self) -> bool:
        return bool(self.base_url) and not is_sqlite_url(self.base_url or "")

    async def new_url(self) -> str:
        if self.is_postgres:
            assert self.base_url
            url = await create_postgres_database(self.base_url)
            self.created.append(url)
            return url
        return f"sqlite+aiosqlite:///{self.tmp / f'{uuid.uuid4().hex[:8]}.db'}"

    async def cleanup(self) -> None:
        for url in self.created:
            await drop_postgres_database(url)


@pytest.fixture(scope="session")
def test_database_url_base() -> str | None:
    return os.environ.get("TAKT_TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
async def fresh_databases(
    test_database_url_base: str | None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FreshDatabase]:
    factory = FreshDatabase(test_database_url_base, tmp_path_factory.mktemp("db"))
    yield factory
    await factory.cleanup()


@pytest.fixture(scope="session")
async def database_url(fresh_databases: FreshDatabase) -> str:
    """The session's database, built by running the migrations."""
    url = await fresh_databases.new_url()
    await asyncio.to_thread(upgrade, url)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        data_dir=tmp_path_factory.mktemp("data"),
        access_log=False,
        log_level="WARNING",
        # Cheap hashes keep the suite fast; production parameters are tested on their own.
        argon2_memory_kib=64,
        argon2_time_cost=1,
        # A resolved token is kept for a minute (each test starts with an empty cache):
        # with the 2 s default, a slow moment between a warm-up request and a counted one
        # made statement counts include the caller's lookup now and then.
        principal_cache_seconds=60,
        # Two xdist workers, live servers and fresh databases share PostgreSQL's 100 connections.
        db_pool_size=8,
        db_max_overflow=4,
        _env_file=None,
    )


@pytest.fixture(scope="session")
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database.from_settings(settings)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


# One statement that names the tables holding rows (a test writes to a few of the 60).
_TABLES = [t.name for t in reversed(metadata.sorted_tables)]
_HOLDING_ROWS = text(
    " UNION ALL ".join(
        f"SELECT '{name}' AS name WHERE EXISTS (SELECT 1 FROM {name})" for name in _TABLES
    )
)


async def empty_all_tables(database: Database) -> None:
    # DELETE, children first: on PostgreSQL an emptying DELETE is ~10x cheaper than TRUNCATE for
    # these small tables (TRUNCATE rewrites files and takes exclusive locks). Only the tables
    # holding rows: a DELETE of each of the 60 cost 12 ms (PostgreSQL) to 21 ms (SQLite) after
    # every test, even with nothing in them.
    # Again while some hold rows: on PostgreSQL a live server's worker may commit into a table
    # after it was found empty (each statement sees what has committed by then).
    async with database.transaction() as session:
        for _ in range(3):
            holding = set((await session.scalars(_HOLDING_ROWS)).all())
            if not holding:
                break
            for name in _TABLES:
                if name in holding:
                    await session.execute(text(f"DELETE FROM {name}"))


async def events_outside_the_catalogue(database: Database) -> list[str]:
    """Every stored event whose type is unregistered or whose payload doesn't fit its models."""
    from takt.core.events import Event, InvalidEvent, parse_event
    from takt.events import catalogue  # registers every domain's event types

    assert catalogue.DOMAIN_EVENT_MODULES
    found = []
    async with database.transaction(write=False) as session:
        for type_, data, changes in (
            await session.execute(select(Event.type, Event.data, Event.changes))
        ).all():
            try:
                parse_event(type_, data, changes)
            except InvalidEvent as exc:
                found.append(str(exc))
    return found


@pytest.fixture(autouse=True)
async def _empty_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test starts from the migrated schema with no rows (only if it used the database),
    and every event a test caused must fit the event catalogue."""
    yield
    if "db" in request.fixturenames:
        database = request.getfixturevalue("db")
        misfits = await events_outside_the_catalogue(database) if CHECK_EVENTS else []
        await empty_all_tables(database)
        assert not misfits, f"events outside the catalogue: {misfits[:3]}"


@pytest.fixture(autouse=True)
async def _reset_counters(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Rate-limit and login-throttle counters and the principal cache live in the (shared) app;
    start each test clean."""
    yield
    if "app" in request.fixturenames:
        security = request.getfixturevalue("app").state.security
        await security.counters.close()
        security.principals.clear()


@pytest.fixture
async def client(app: FastAPI, db: Database) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as c:
        yield c
