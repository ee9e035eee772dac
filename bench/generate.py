"""Fill a migrated database with the benchmark dataset: `python -m bench.generate --size M ...`.

Rows come from `bench.dataset` (seeded, so every run and both databases get the same logical
data) and are written in bulk, never through the API: PostgreSQL with COPY
(asyncpg `copy_records_to_table`), SQLite with SQLAlchemy Core `executemany` in one transaction.
The database must be empty; it is migrated first.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import JSON, Table, create_engine, text
from sqlalchemy.engine import Connection, make_url

from bench import dataset
from bench.project import ProjectBuilder
from takt.config import Settings
from takt.core.db import is_sqlite_url
from takt.core.migrations import upgrade
from takt.core.security import Passwords
from takt.models_registry import metadata

# Parents before children, so foreign keys hold at every step.
TABLES = (
    "users",
    "projects",
    "project_members",
    "statuses",
    "labels",
    "sprints",
    "items",
    "item_labels",
    "comments",
    "events",
)
# Database-assigned columns: events.seq numbers the rows in the order they are written.
SKIPPED = {("events", "seq")}


class Writer(Protocol):
    async def write(self, table: str, rows: list[dict[str, Any]]) -> None: ...
    async def is_empty(self) -> bool: ...
    async def finish(self) -> None: ...


def columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if (table.name, c.name) not in SKIPPED]


class PostgresWriter:
    """COPY in binary; JSON columns go as text (asyncpg's json/jsonb codecs take strings)."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.conn: Any = None

    async def open(self) -> None:
        import asyncpg

        self.conn = await asyncpg.connect(
            host=self.url.host or "127.0.0.1",
            port=self.url.port or 5432,
            user=self.url.username,
            password=self.url.password,
            database=self.url.database,
        )

    async def is_empty(self) -> bool:
        return int(await self.conn.fetchval("SELECT count(*) FROM users")) == 0

    async def write(self, table: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        spec = metadata.tables[table]
        # Columns the generator doesn't fill (added since it was written) take their defaults.
        names = [n for n in columns(spec) if n in rows[0]]
        json_columns = {c.name for c in spec.columns if isinstance(c.type, JSON)}

        def records() -> Iterator[tuple[Any, ...]]:
            for row in rows:
                yield tuple(
                    orjson.dumps(row[n]).decode()
                    if n in json_columns and row[n] is not None
                    else row[n]
                    for n in names
                )

        await self.conn.copy_records_to_table(table, records=records(), columns=names)

    async def finish(self) -> None:
        # A steady-state database: statistics for the planner and a fresh visibility map.
        await self.conn.execute("VACUUM (ANALYZE)")
        await self.conn.close()


class SqliteWriter:
    """One write transaction with SQLAlchemy Core executemany (the column types convert
    datetimes and JSON exactly as the app does); the FTS5 triggers index the items."""

    def __init__(self, url: str) -> None:
        sync_url = make_url(url).set(drivername="sqlite")
        self.engine = create_engine(sync_url)
        self.conn: Connection = self.engine.connect()
        self.conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        self.conn.exec_driver_sql("PRAGMA synchronous=OFF")
        self.conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        self.conn.exec_driver_sql("PRAGMA cache_size=-200000")

    async def is_empty(self) -> bool:
        return int(self.conn.scalar(text("SELECT count(*) FROM users")) or 0) == 0

    async def write(self, table: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(metadata.tables[table].insert(), rows)

    async def finish(self) -> None:
        self.conn.commit()
        self.conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()
        self.engine.dispose()


def password_hash() -> str:
    """One argon2id hash with the server's default cost, shared by every generated user."""
    fields = Settings.model_fields
    passwords = Passwords(
        time_cost=fields["argon2_time_cost"].default,
        memory_kib=fields["argon2_memory_kib"].default,
        parallelism=fields["argon2_parallelism"].default,
    )
    return asyncio.run(passwords.hash(dataset.PASSWORD))


async def load(
    url: str, size: dataset.Size, anchor: date, seed: int, hashed: str, *, quiet: bool = False
) -> Counter[str]:
    writer: Writer
    if is_sqlite_url(url):
        writer = SqliteWriter(url)
    else:
        pg = PostgresWriter(url)
        await pg.open()
        writer = pg
    counts: Counter[str] = Counter()
    if not await writer.is_empty():
        await writer.finish()
        raise SystemExit(f"{url} already has users; generate into a fresh database.")
    user_rows = dataset.users(size, hashed, anchor, seed)
    await writer.write("users", user_rows)
    counts["users"] += len(user_rows)
    people = [dataset.User(r["id"], r["username"]) for r in user_rows]
    keys = dataset.project_keys(size)
    for index, key in enumerate(keys):
        rows = ProjectBuilder(size, index, key, people, anchor, seed).build()
        for table in TABLES[1:]:
            await writer.write(table, rows.get(table, []))
            counts[table] += len(rows.get(table, []))
        if not quiet and (index % 10 == 9 or index == len(keys) - 1):
            print(f"  {index + 1}/{len(keys)} projects", file=sys.stderr, flush=True)
    await writer.finish()
    return counts


def generate(
    url: str,
    size_name: str,
    *,
    anchor: date | None = None,
    seed: int = dataset.SEED,
    quiet: bool = False,
) -> dict[str, Any]:
    """Migrate `url`, fill it, and return a summary (rows per table, seconds per phase)."""
    size = dataset.SIZES[size_name]
    if size.postgres_only and is_sqlite_url(url):
        raise SystemExit(f"Size {size.name} is for PostgreSQL only.")
    anchor = anchor or datetime.now(UTC).date()
    started = time.perf_counter()
    upgrade(url)
    migrated = time.perf_counter()
    hashed = password_hash()
    counts = asyncio.run(load(url, size, anchor, seed, hashed, quiet=quiet))
    finished = time.perf_counter()
    return {
        "size": size.name,
        "anchor": anchor.isoformat(),
        "seed": seed,
        "rows": dict(sorted(counts.items())),
        "seconds": {
            "migrate": round(migrated - started, 1),
            "load": round(finished - migrated, 1),
            "total": round(finished - started, 1),
        },
    }


def print_summary(summary: dict[str, Any]) -> None:
    print(f"Dataset {summary['size']} (seed {summary['seed']}, anchor {summary['anchor']})")
    for table, count in summary["rows"].items():
        print(f"  {table:<16} {count:>10,}")
    print(f"  {'total':<16} {sum(summary['rows'].values()):>10,}")
    secs = summary["seconds"]
    print(
        f"Seconds: migrate {secs['migrate']}, generate+load {secs['load']}, total {secs['total']}"
    )
    print(f"Log in as {dataset.LOGIN!r} (or user0001…) with password {dataset.PASSWORD!r}.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    parser.add_argument("--size", choices=sorted(dataset.SIZES), required=True)
    parser.add_argument("--database-url", required=True, help="An empty database (SQLAlchemy URL).")
    parser.add_argument("--seed", type=int, default=dataset.SEED)
    parser.add_argument(
        "--anchor",
        type=date.fromisoformat,
        default=None,
        help="The day the data is 'now' for (default: today, UTC); sprints end around it.",
    )
    args = parser.parse_args(argv)
    summary = generate(args.database_url, args.size, anchor=args.anchor, seed=args.seed)
    print_summary(summary)


if __name__ == "__main__":
    main()
