"""A bulk write refreshes the planner's figures of the tables it grew (core/statistics.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import insert, text

from takt.core.db import Database
from takt.core.ratelimit import RateCounter
from takt.core.statistics import BULK_ROWS, refresh_after_bulk_write, rows_inserted
from tests.support import make_user
from tests.transfer.test_transfer import IMPORT, big_document

WINDOW_END = datetime(2026, 1, 1, tzinfo=UTC)


async def _counted_rows(db: Database, table: str) -> float:
    """What the planner believes `table` holds (pg_class.reltuples; -1 when never analyzed)."""
    async with db.transaction() as session:
        found = await session.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = :table"), {"table": table}
        )
        return float(found.scalar_one())


async def _add_counters(db: Database, prefix: str, count: int) -> list[str]:
    async with db.transaction() as session:
        before = await rows_inserted(session)
        await session.execute(
            insert(RateCounter),
            [
                {"key": f"{prefix}{n}", "hits": 1, "window_ends_at": WINDOW_END}
                for n in range(count)
            ],
        )
        return await refresh_after_bulk_write(session, before)


async def test_only_tables_grown_past_autovacuums_threshold_are_analyzed(db: Database) -> None:
    if db.dialect != "postgresql":
        assert await _add_counters(db, "a", 200) == []  # SQLite: nothing to refresh
        return
    async with db.transaction() as session:
        # The connection's earlier transactions may have inserts not yet passed on (another
        # test's, within the last second): only this transaction's count, from a reading.
        before = await rows_inserted(session)
        await session.execute(text("ANALYZE rate_counters"))  # empty, and counted as empty
        assert await refresh_after_bulk_write(session, before) == []  # nothing written yet
    assert await _counted_rows(db, "rate_counters") == 0

    # 200 rows into a table counted as empty: past 50 + 10% of 0.
    assert await _add_counters(db, "a", 200) == ["rate_counters"]
    assert await _counted_rows(db, "rate_counters") == 200
    # 60 more: under 50 + 10% of 200 = 70, so autovacuum's own round is soon enough.
    assert await _add_counters(db, "b", 60) == []
    assert await _counted_rows(db, "rate_counters") == 200
    # 80 more: over it.
    assert await _add_counters(db, "c", 80) == ["rate_counters"]
    assert await _counted_rows(db, "rate_counters") == 340


async def test_a_thousand_rows_at_once_are_analyzed_however_large_the_table(
    db: Database,
) -> None:
    """A new project's rows are unknown to the column statistics even when they are a small
    part of a large table: 1,000 at once count (BULK_ROWS), under 10% of 12,000 or not."""
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL's planner figures (SQLite keeps none for these queries)")
    assert await _add_counters(db, "a", 12_000) == ["rate_counters"]
    assert await _add_counters(db, "b", 999) == []
    assert await _add_counters(db, "c", BULK_ROWS) == ["rate_counters"]
    assert await _counted_rows(db, "rate_counters") == 12_000 + 999 + BULK_ROWS


async def test_a_write_that_rolls_back_leaves_the_figures_high(db: Database) -> None:
    """ANALYZE writes its figures in place, outside the transaction (the docstring says so)."""
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL's planner figures (SQLite keeps none for these queries)")
    async with db.transaction() as session:
        await session.execute(text("ANALYZE rate_counters"))
    analyzed: list[str] = []

    async def insert_then_abandon() -> None:
        async with db.transaction() as session:
            before = await rows_inserted(session)
            await session.execute(
                insert(RateCounter),
                [{"key": f"r{n}", "hits": 1, "window_ends_at": WINDOW_END} for n in range(300)],
            )
            analyzed.extend(await refresh_after_bulk_write(session, before))
            raise RuntimeError("abandon the transaction")

    with pytest.raises(RuntimeError):
        await insert_then_abandon()
    assert analyzed == ["rate_counters"]
    assert await _counted_rows(db, "rate_counters") == 300
    async with db.transaction() as session:
        assert (await session.execute(text("SELECT count(*) FROM rate_counters"))).scalar() == 0


async def test_an_import_leaves_the_planner_counting_what_it_wrote(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """What CI met: statistics that don't know an import's rows, and an export planned on them
    ran past the statement timeout. After the import, the table's size and its column
    statistics (the new project's id among the most common values) are the import's."""
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL's planner figures (SQLite keeps none for these queries)")
    ada = await make_user(app, db, "ada")
    async with db.transaction() as session:
        await session.execute(text("ANALYZE items, comments, item_links"))
    assert await _counted_rows(db, "items") == 0
    body = json.dumps({"key": "BIG", "document": big_document(3_000)}).encode()
    imported = await client.post(
        IMPORT, content=body, headers={**ada.headers, "Content-Type": "application/json"}
    )
    assert imported.status_code == 201, imported.text[:500]
    assert await _counted_rows(db, "items") == 3_000
    assert await _counted_rows(db, "comments") > 0
    assert await _counted_rows(db, "item_links") > 0
    async with db.transaction() as session:
        project_id = await session.scalar(text("SELECT id FROM projects WHERE key = 'BIG'"))
        common = await session.scalar(
            text(
                "SELECT most_common_vals::text FROM pg_stats "
                "WHERE tablename = 'items' AND attname = 'project_id'"
            )
        )
    assert project_id is not None
    assert project_id in (common or "")
