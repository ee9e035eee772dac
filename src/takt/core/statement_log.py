"""Counting the SQL statements a piece of work sends: the benchmark's statement ceilings and the
tests that guard against extra reads both use it."""

from __future__ import annotations

from typing import Any, Self

from sqlalchemy import event

from takt.core.db import Database


class StatementLog:
    """Records SQL statements sent on a Database's engines (tests count with it too).

    A transaction's BEGIN is not counted: asyncpg opens PostgreSQL transactions without a
    statement this hook sees, while on SQLite Takt sends its own `BEGIN IMMEDIATE`/`BEGIN`; not
    counting it measures both databases alike (queries, not transaction control)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.statements: list[str] = []
        # Those of them a direct read ran on its own pool (takt.core.direct).
        self.direct: list[str] = []

    def _on_execute(self, _conn: Any, _cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip()[:5].upper() == "BEGIN":
            return
        self.statements.append(" ".join(statement.split())[:90])

    def _on_direct(self, statement: str) -> None:
        self._on_execute(None, None, statement)
        self.direct.append(self.statements[-1])

    def __enter__(self) -> Self:
        for engine in self.db.engines():
            event.listen(engine.sync_engine, "before_cursor_execute", self._on_execute)
        if self.db.direct is not None:
            self.db.direct.listeners.append(self._on_direct)
        return self

    def __exit__(self, *exc: object) -> None:
        for engine in self.db.engines():
            event.remove(engine.sync_engine, "before_cursor_execute", self._on_execute)
        if self.db.direct is not None:
            self.db.direct.listeners.remove(self._on_direct)
