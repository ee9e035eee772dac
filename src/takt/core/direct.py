"""Direct reads: the hottest GETs answered from their statements on the driver's own connection,
without the ORM session or FastAPI's dependency solving (PostgreSQL only; issue 19).

Why: a project detail spent about 1.3 ms of Python per request, and one database read with no
framework costs about 0.12 ms (bench/RESULTS.md, "the floor"). Of the difference, checking out
an ORM session and its pooled connection cost about 0.6 ms and FastAPI's dependency solving and
routing about 0.5 ms. A direct read skips both:

- `DirectRoute` sits in the app's router before the API's routes and claims the GETs of one
  path template. Its handler answers from what it can know without the database (the caller from
  the principal cache) plus the route's statements (one for a detail; the project's and the
  page's for the item list), or *declines* (returns None) before it has counted or
  changed anything; the request then goes through the app's router again with this route
  skipped, to the documented route, unchanged. So a direct read answers only the common case and
  every other case (a caller not cached yet, a token to touch, a limited token) is the framework's.
- `DirectReader` runs a SQLAlchemy statement, compiled once for asyncpg, on a small asyncpg pool
  of its own, and applies the columns' result processors, so the row reads as SQLAlchemy would
  have read it. The statement is the domain's own (its visibility rule included): nothing is
  expressed twice.

Everything the middleware gives (request id, metrics by route template, security headers, rate
limit headers, problems for raised errors) applies to a direct answer as to any other.
"""

from __future__ import annotations

import asyncio
import logging
from collections import namedtuple
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import Select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Dialect
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Router, compile_path
from starlette.types import Receive, Scope, Send

from takt.core.errors import AppError
from takt.core.problems import sqlstate_error, unreachable

log = logging.getLogger("takt.errors")

# As long as the ORM's pool waits for a connection (core/db.py, pool_timeout).
ACQUIRE_TIMEOUT_SECONDS = 30

# A direct read is one short statement; a few connections per process keep up with all of
# them (more would only take from PostgreSQL's connection budget).
DIRECT_POOL_SIZE = 4

# Scope key: a direct route declined this request; route it past them.
_DECLINED = "takt.direct.declined"

Processor = Callable[[Any], Any] | None
T = TypeVar("T")


class DirectStatement:
    """A SELECT compiled once for the driver: its SQL, its parameters in position order with
    their bind processors, and its columns' keys and result processors."""

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        plain = statement.compile(dialect=dialect)
        if any(bind.expanding for bind in plain.binds.values()):
            raise ValueError("direct statements take no expanding (IN list) parameters")
        required = {name for name, bind in plain.binds.items() if bind.required}
        # Post-compile parameters (a literal such as string_agg's separator) are rendered in
        # place, which needs a value for every parameter; the placeholders given to the
        # required ones stay placeholders ($n) in the SQL.
        compiled = statement.params(dict.fromkeys(required)).compile(
            dialect=dialect, compile_kwargs={"render_postcompile": True}
        )
        if compiled.positiontup is None:
            raise ValueError("direct statements need a positional dialect (asyncpg)")
        binds = compiled.binds
        names = list(compiled.positiontup)
        self.sql = str(compiled)
        self.parameters: list[tuple[str, Processor]] = [
            (name, binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
        ]
        # A parameter given a value when the statement was built keeps it unless overridden.
        self.defaults = {name: binds[name].value for name in names if name not in required}
        self.columns: list[str] = []
        for column in statement.selected_columns:
            if column.key is None:
                raise ValueError(f"direct statements name every column: {column!r}")
            self.columns.append(column.key)
        # Rows read by position or by column name, like SQLAlchemy's (a repeated name is
        # reachable by position only).
        self.row_type: Any = namedtuple("DirectRow", self.columns, rename=True)  # type: ignore[misc]
        self._types = [column.type.dialect_impl(dialect) for column in statement.selected_columns]
        self._dialect = dialect
        # Known once the statement is described (some depend on the column's database type,
        # e.g. a NUMERIC read as Decimal or as float): `describe`.
        self.processors: list[Processor] | None = None
        self._processed: list[tuple[int, Callable[[Any], Any]]] = []

    def describe(self, type_oids: Sequence[int]) -> None:
        """The columns' result processors for the database types the statement returns, as
        SQLAlchemy picks them from a cursor's description."""
        self.processors = [
            type_.result_processor(self._dialect, oid)
            for type_, oid in zip(self._types, type_oids, strict=True)
        ]
        # Performance: most columns have no processor; a row visits only those that do.
        self._processed = [(i, p) for i, p in enumerate(self.processors) if p is not None]

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = []
        for name, processor in self.parameters:
            value = params[name] if name in params else self.defaults[name]  # KeyError: unset
            values.append(processor(value) if processor else value)
        return values

    def row(self, record: Sequence[Any]) -> tuple[Any, ...]:
        if self.processors is None:
            raise RuntimeError("describe the statement before reading its rows")
        # Performance: a list changed in place, then made the row type without `_make`'s checks:
        # a 30-row page read through a generator over every column cost 20 µs a row, this ~4
        # (bench/RESULTS.md, session 13).
        values = list(record)
        if len(values) != len(self.processors):
            raise ValueError(f"{len(values)} values for {len(self.processors)} columns")
        for i, processor in self._processed:
            values[i] = processor(values[i])
        row: tuple[Any, ...] = tuple.__new__(self.row_type, values)
        return row


def _driver_error(exc: Exception) -> AppError | None:
    """The answers `takt.core.problems.database_error` gives for SQLAlchemy's errors, for the
    driver's own: out of reach (connection refused or lost, pool timeout) is a 503, and so on
    by the error's SQLSTATE."""
    if isinstance(
        exc, OSError | TimeoutError | asyncpg.PostgresConnectionError | asyncpg.InterfaceError
    ):
        return unreachable()
    if isinstance(exc, asyncpg.PostgresError):
        return sqlstate_error(str(exc.sqlstate or ""))
    return None


async def _nothing_to_reset(_connection: asyncpg.Connection) -> None:
    """Direct reads run single SELECTs in autocommit and change no session state, so a released
    connection needs no `RESET ALL; UNLISTEN *; …` (asyncpg's default reset): that was one more
    round trip per read. asyncpg still rolls back an open transaction first."""


class DirectReader:
    """One process's asyncpg pool for direct reads, opened on first use (inside the event loop
    that serves) and closed with the `Database`."""

    def __init__(
        self,
        connect: Mapping[str, Any],
        dialect: Dialect,
        *,
        server_settings: Mapping[str, str],
        json_deserializer: Callable[[str], Any],
    ) -> None:
        self.connect = dict(connect)  # asyncpg.connect's keyword arguments
        self.dialect = dialect
        self.server_settings = dict(server_settings)
        self.json_deserializer = json_deserializer
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._closed = False
        self._statements: dict[Select[Any], DirectStatement] = {}
        # Told each statement before it runs (`takt.core.statement_log` counts them).
        self.listeners: list[Callable[[str], None]] = []

    async def _setup(self, connection: asyncpg.Connection) -> None:
        # JSON decoded as SQLAlchemy's asyncpg dialect decodes it (its codec, our deserializer),
        # so the JSON columns' result processors (none on asyncpg) see the same values.
        for name in ("json", "jsonb"):
            await connection.set_type_codec(
                name,
                encoder=str,
                decoder=self.json_deserializer,
                schema="pg_catalog",
                format="text",
            )

    async def _opened(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._closed:
                    # A read that reaches here while the app shuts down must not open a pool
                    # nobody would close: it answers 503 (`_driver_error`).
                    raise ConnectionError("direct reads are closed")
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        **self.connect,
                        min_size=0,
                        max_size=DIRECT_POOL_SIZE,
                        server_settings=self.server_settings,
                        init=self._setup,
                        reset=_nothing_to_reset,
                    )
        return self._pool

    def figures(self) -> tuple[int, int, int]:
        """Connections in use, idle, and the pool's size (for the pool gauges of /metrics)."""
        pool = self._pool
        if pool is None:
            return 0, 0, DIRECT_POOL_SIZE
        idle = pool.get_idle_size()
        return pool.get_size() - idle, idle, pool.get_max_size()

    def statement(self, statement: Select[Any]) -> DirectStatement:
        """`statement` compiled for the driver; build statements once (e.g. `functools.cache`)
        so they are compiled once."""
        compiled = self._statements.get(statement)
        if compiled is None:
            compiled = self._statements[statement] = DirectStatement(statement, self.dialect)
        return compiled

    async def first(
        self, statement: Select[Any], params: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """The statement's first row, read as SQLAlchemy reads it, or None."""
        compiled = self.statement(statement)
        record = await self._run(compiled, params, one=True)
        return None if record is None else compiled.row(record)

    async def all(self, statement: Select[Any], params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The statement's rows, read as SQLAlchemy reads them."""
        compiled = self.statement(statement)
        records = await self._run(compiled, params, one=False)
        return [compiled.row(record) for record in records]

    async def _run(self, compiled: DirectStatement, params: Mapping[str, Any], *, one: bool) -> Any:
        """The statement's first record (`one`) or all of them, on a pooled connection; the
        driver's errors answered as the ORM path answers them."""
        arguments = compiled.arguments(params)
        for listener in self.listeners:
            listener(compiled.sql)
        try:
            pool = await self._opened()
            # asyncio.timeout rather than acquire(timeout=): that runs the wait as a task of its
            # own, a tenth of a direct read's Python.
            async with asyncio.timeout(ACQUIRE_TIMEOUT_SECONDS):
                connection = await pool.acquire()
            try:
                if compiled.processors is None:
                    prepared = await connection.prepare(compiled.sql)
                    compiled.describe([a.type.oid for a in prepared.get_attributes()])
                if one:
                    return await connection.fetchrow(compiled.sql, *arguments)
                return await connection.fetch(compiled.sql, *arguments)
            finally:
                await pool.release(connection)
        except Exception as exc:
            error = _driver_error(exc)
            if error is None:
                raise  # a bug: the last-resort handler logs it and answers a generic 500
            log.error("database error", exc_info=exc, extra={"direct": True})
            raise error from exc

    async def close(self) -> None:
        """Close the pool; from here on a read answers 503 instead of opening another. Under
        the opening lock, so a pool being opened now is closed too."""
        async with self._opening:
            self._closed = True
            if self._pool is not None:
                pool, self._pool = self._pool, None
                await pool.close()


def detached_entity(entity: type[T], values: Mapping[str, Any]) -> T:
    """An ORM object holding `values`, made as the ORM's own loading makes one (the values go
    straight into its state) and in no session: nothing loads or writes through it. Building it
    with `entity(**values)` runs the ORM's change events per attribute, 10x the cost."""
    instance: T = sa_inspect(entity).class_manager.new_instance()
    instance.__dict__.update(values)
    return instance


# The handler answers, or declines with None before it has done anything a second pass through
# the framework would do again (count the request, write).
DirectHandler = Callable[[Request, DirectReader], Awaitable[Response | None]]


class DirectRoute(BaseRoute):
    """Claims the GETs of one path template for a direct handler (see the module's text)."""

    # The operation is documented by its framework route, which stays in the app.
    include_in_schema = False

    def __init__(
        self, path: str, handler: DirectHandler, app_router: Router, reader: DirectReader
    ) -> None:
        self.path = path  # the template: metrics and logs label the request by it
        self.handler = handler
        self.app_router = app_router
        self.reader = reader
        # The pattern Starlette compiles for the documented route: both match the same paths.
        self.path_regex, _, self.param_convertors = compile_path(path)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] != "GET" or _DECLINED in scope:
            return Match.NONE, {}
        found = self.path_regex.match(get_route_path(scope))
        if found is None:
            return Match.NONE, {}
        params = {
            name: self.param_convertors[name].convert(value)
            for name, value in found.groupdict().items()
        }
        return Match.FULL, {"path_params": params, "route": self}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handler(Request(scope, receive), self.reader)
        if response is not None:
            await response(scope, receive, send)
            return
        scope[_DECLINED] = True
        await self.app_router.app(scope, receive, send)
