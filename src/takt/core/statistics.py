"""The planner's statistics after a bulk write (PostgreSQL).

PostgreSQL plans a query from what `ANALYZE` last recorded about each table: its size, and per
column the most common values and their spread. Autovacuum refreshes that on its own once
enough rows change, but only on its next round (a minute apart by default). After a bulk write
such as a project import, the column statistics don't know the new rows: the new project's id
is in none of them, so `WHERE project_id = <the new one>` is planned for a row or so while it
matches tens of thousands. A plan built on that (a nested loop that reads a table once per outer
row) can take minutes: CI saw the export right after an import of 10,000 items run past the
statement timeout. So a bulk write refreshes the statistics of the tables it wrote many rows
into, in its own transaction, before it commits: it takes a reading with `rows_inserted` when it
begins and calls `refresh_after_bulk_write` at its end.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# PostgreSQL's own defaults for when autovacuum analyzes a table (autovacuum_analyze_threshold
# and autovacuum_analyze_scale_factor): a table is stale once the rows written since its last
# ANALYZE exceed 50 + 10% of the rows it was last counted with.
ANALYZE_THRESHOLD = 50
ANALYZE_SCALE_FACTOR = 0.1
# However large the table, this many rows at once (a new project's, whose id the column
# statistics don't know) are analyzed: ANALYZE reads a bounded sample (30,000 rows at the
# default statistics target), so its cost doesn't grow with the table.
BULK_ROWS = 1_000

# What this connection has inserted into each table that its statistics have not yet passed on
# (pg_stat_xact_user_tables). That includes the current transaction, and on PostgreSQL 15+ also
# earlier transactions of the same connection not yet flushed; nothing is flushed during a
# transaction, so the difference between two readings within one transaction is that
# transaction's own inserts. A table never analyzed has reltuples -1, which counts as empty.
_INSERTED = text(
    """
    SELECT s.relname, s.n_tup_ins, greatest(c.reltuples, 0)
    FROM pg_stat_xact_user_tables AS s
    JOIN pg_class AS c ON c.oid = s.relid
    WHERE s.schemaname = current_schema() AND s.n_tup_ins > 0
    """
)


async def _inserted(session: AsyncSession) -> dict[str, tuple[int, float]]:
    rows = await session.execute(_INSERTED)
    return {name: (int(inserted), float(counted)) for name, inserted, counted in rows}


async def rows_inserted(session: AsyncSession) -> dict[str, int]:
    """A reading to take when a bulk write begins, for `refresh_after_bulk_write` (empty on
    SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return {}
    return {name: inserted for name, (inserted, _) in (await _inserted(session)).items()}


def stale(inserted: int, counted: float) -> bool:
    """Whether `inserted` new rows in a table last counted with `counted` rows make its
    statistics stale: past autovacuum's own threshold, or `BULK_ROWS` at once."""
    return inserted >= BULK_ROWS or inserted > ANALYZE_THRESHOLD + ANALYZE_SCALE_FACTOR * counted


async def refresh_after_bulk_write(session: AsyncSession, before: Mapping[str, int]) -> list[str]:
    """ANALYZE every table this transaction inserted enough rows into (since the reading
    `before`; `stale`), and return their names in order (none on SQLite, whose planner does not
    depend on such figures for Takt's queries). A table rewritten (rows deleted, then written
    again) counts by its inserts too.

    ANALYZE counts the transaction's own uncommitted rows. Its column statistics
    (`pg_statistic`) are transactional: other sessions see them from the commit on, and a
    rollback takes them back. The table's size figures (`pg_class.reltuples`) are written in
    place, outside the transaction: a write that rolls back leaves them high until autovacuum's
    next round, which is harmless (a plan for more rows than there are). Autovacuum may analyze
    the same tables again after the commit, since it learns of the inserts only then.

    `SKIP_LOCKED`: a table whose lock another ANALYZE or a VACUUM holds (a concurrent import's,
    an anti-wraparound autovacuum) is left to them rather than waited for, so the refresh never
    makes the write wait or run out of time. It runs as the tables' owner (Takt's own role,
    which created them); another role's ANALYZE would skip them with a warning."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    tables = sorted(
        name
        for name, (inserted, counted) in (await _inserted(session)).items()
        if stale(inserted - before.get(name, 0), counted)
    )
    quote = session.get_bind().dialect.identifier_preparer.quote_identifier
    for table in tables:
        # The name comes from pg_class, not from a caller; quoted as an identifier anyway.
        await session.execute(text(f"ANALYZE (SKIP_LOCKED) {quote(table)}"))
    return tables
