"""The planner's statistics after a bulk write (PostgreSQL).

PostgreSQL plans a query from what `ANALYZE` last recorded about each table. Autovacuum refreshes
that on its own once enough rows change, but only on its next round (a minute apart by default),
and a bulk write such as a project import can leave the figures saying a table is empty while it
holds tens of thousands of fresh rows. A plan built on that (a nested loop that scans the "empty"
table once per outer row) can take minutes: CI saw the export right after an import of 10,000
items run past the statement timeout. So a bulk write refreshes the statistics of the tables it
grew, in its own transaction, before it commits: it takes a reading with `rows_inserted` when
it begins and calls `refresh_after_bulk_write` at its end.
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


async def refresh_after_bulk_write(session: AsyncSession, before: Mapping[str, int]) -> list[str]:
    """ANALYZE every table this transaction grew (since the reading `before`) by more than
    autovacuum would wait for, and return their names in order (none on SQLite, whose planner
    does not depend on such figures for Takt's queries).

    ANALYZE counts the transaction's own uncommitted rows as live. Its figures are written in
    place, outside the transaction: a write that then rolls back leaves them high until
    autovacuum's next round, which is harmless (a plan for more rows than there are). It holds
    each table's SHARE UPDATE EXCLUSIVE lock until the transaction ends: reads and writes go on;
    a concurrent bulk write's ANALYZE of the same table waits for this one's end, and the tables
    are taken in name order so two of them can't deadlock."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    stale = sorted(
        name
        for name, (inserted, counted) in (await _inserted(session)).items()
        if inserted - before.get(name, 0) > ANALYZE_THRESHOLD + ANALYZE_SCALE_FACTOR * counted
    )
    quote = session.get_bind().dialect.identifier_preparer.quote_identifier
    for table in stale:
        # The name comes from pg_class, not from a caller; quoted as an identifier anyway.
        await session.execute(text(f"ANALYZE {quote(table)}"))
    return stale
