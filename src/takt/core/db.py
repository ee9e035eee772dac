"""Engines and sessions for SQLite and PostgreSQL, and the one-commit-per-request session.

SQLite allows one writer at a time. Write transactions start with `BEGIN IMMEDIATE` so a second
writer waits (in the pool, then in SQLite's busy handler) instead of failing later with "database is
locked" when it tries to upgrade a read lock. Reads use a separate engine with plain deferred
transactions so they never queue behind writers (WAL lets them run side by side).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from takt.config import Settings
from takt.core.direct import DirectReader


def is_sqlite_url(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def ensure_sqlite_directory(url: str) -> None:
    """SQLite creates the file but not its folder."""
    if is_sqlite_url(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)


# JSON columns (event payloads, reports) are read with orjson: the standard library's decoder was a
# quarter of a big burndown's time. Writing keeps SQLAlchemy's default (json.dumps), which also
# accepts the non-string keys orjson refuses, so what orjson can't read (NaN, which json.dumps
# writes) falls back to the standard library.


def _read_json(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _sqlite_engine(url: str, settings: Settings, *, begin: str, pool_size: int) -> AsyncEngine:
    ensure_sqlite_directory(url)
    engine = create_async_engine(
        url,
        json_deserializer=_read_json,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=settings.sqlite_busy_timeout_ms / 1000,
        connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves instead of the driver's implicit deferred BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


def _server_settings(settings: Settings) -> dict[str, str]:
    return {
        "statement_timeout": str(settings.db_statement_timeout_ms),
        # Every query runs as a prepared statement (asyncpg caches them per connection).
        # Under "auto", PostgreSQL plans the first five executions for their values and
        # then keeps planning each one when the generic plan's estimate looks worse,
        # which it does for a page with `LIMIT $n`: on the M dataset a list page cost
        # 3.5 ms in PostgreSQL, 2.3 ms of it planning, against 1.2 ms with the generic
        # plan. Our queries are index lookups on keys whose selectivity barely depends
        # on the value, the case generic plans are made for.
        "plan_cache_mode": settings.db_plan_cache_mode,
        "application_name": "takt",
    }


def _postgres_engine(url: str, settings: Settings) -> AsyncEngine:
    return create_async_engine(
        url,
        json_deserializer=_read_json,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        # No pre-ping: it costs a round trip on every checkout, i.e. on every request. A
        # connection that died (database restart) fails its request with a 503, and SQLAlchemy
        # then invalidates every older connection of the pool, so one request pays, not each.
        pool_recycle=1800,
        pool_timeout=30,
        connect_args={"server_settings": _server_settings(settings)},
    )


# Options of SQLAlchemy's asyncpg adapter, not of asyncpg's `connect`.
_ADAPTER_OPTIONS = ("prepared_statement_cache_size", "prepared_statement_name_func")


def _direct_reader(url: str, engine: AsyncEngine, settings: Settings) -> DirectReader | None:
    """The direct reads' pool, connecting as the engine does (host, port, user, password,
    database and the URL's asyncpg options, as SQLAlchemy's dialect reads them). None when the
    URL turns prepared statements off (`prepared_statement_cache_size=0`, e.g. behind
    PgBouncer in transaction mode): direct reads run on prepared statements."""
    _, options = engine.dialect.create_connect_args(make_url(url))
    if options.get("prepared_statement_cache_size") == 0:
        return None
    connect = {k: v for k, v in options.items() if k not in _ADAPTER_OPTIONS}
    return DirectReader(
        connect,
        engine.dialect,
        server_settings=_server_settings(settings),
        json_deserializer=_read_json,
    )


class ReadOnlySession(Session):
    """Sessions of safe requests (GET, HEAD). They may run in autocommit (PostgreSQL), so a write
    would stick at once: flushing one is refused as the programming error it is."""


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a read-only (GET) request tried to write")


@dataclass
class Database:
    """The engines a process uses, and session factories for reads and writes."""

    url: str
    write_engine: AsyncEngine
    read_engine: AsyncEngine
    # Called with a write session's `info` after each commit (takt.core.wakeup signals the
    # events and jobs the session flagged there).
    commit_listeners: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)
    # PostgreSQL: the pool of the hottest reads (takt.core.direct); None on SQLite.
    direct: DirectReader | None = None

    def __post_init__(self) -> None:
        # A session class of this database's own, so its commit listener sees only its commits.
        write_session_class = type("WriteSession", (Session,), {})
        event.listen(write_session_class, "after_commit", self._committed)
        self.write_sessions = async_sessionmaker(
            self.write_engine, expire_on_commit=False, sync_session_class=write_session_class
        )
        self.read_sessions = async_sessionmaker(
            self.read_engine, expire_on_commit=False, sync_session_class=ReadOnlySession
        )

    def _committed(self, session: Session) -> None:
        if session.info:
            for listener in self.commit_listeners:
                listener(session.info)

    @property
    def dialect(self) -> str:
        return self.write_engine.dialect.name

    @classmethod
    def from_settings(cls, settings: Settings, url: str | None = None) -> Database:
        url = url or settings.database_url
        if is_sqlite_url(url):
            writer = _sqlite_engine(url, settings, begin="BEGIN IMMEDIATE", pool_size=1)
            reader = _sqlite_engine(url, settings, begin="BEGIN", pool_size=5)
            return cls(url=url, write_engine=writer, read_engine=reader)
        engine = _postgres_engine(url, settings)
        # Reads share the pool but run in autocommit: no BEGIN/ROLLBACK round trips around the
        # one or two SELECTs a read request makes.
        reader = engine.execution_options(isolation_level="AUTOCOMMIT")
        return cls(
            url=url,
            write_engine=engine,
            read_engine=reader,
            direct=_direct_reader(url, engine, settings),
        )

    def engines(self) -> list[AsyncEngine]:
        """Engines with a pool of their own (the PostgreSQL reader shares the writer's)."""
        if self.read_engine.sync_engine.pool is self.write_engine.sync_engine.pool:
            return [self.write_engine]
        return [self.write_engine, self.read_engine]

    def pools(self) -> list[tuple[str, AsyncEngine | DirectReader]]:
        """The connection pools by name, for /metrics: the engines' (`write`, and `read` when it
        has its own) and the direct reads' (`direct`, PostgreSQL)."""
        pools: list[tuple[str, AsyncEngine | DirectReader]] = list(
            zip(("write", "read"), self.engines(), strict=False)
        )
        if self.direct is not None:
            pools.append(("direct", self.direct))
        return pools

    async def dispose(self) -> None:
        if self.direct is not None:
            await self.direct.close()
        for engine in self.engines():
            await engine.dispose()

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed at the end of the block, or rolled back on error."""
        factory = self.write_sessions if write else self.read_sessions
        async with factory() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
