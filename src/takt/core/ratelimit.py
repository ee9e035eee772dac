"""Fixed-window counters for rate limits and login throttling: in memory, in Redis, or in the
database.

Every store's `hit` counts and answers the new count in one atomic step, so a caller decides on
the count its own hit produced: of N concurrent hits on one key exactly one sees each count, and
a limit of L lets exactly L through ("count first, then decide").
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Integer, String, case, delete, literal, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.db import Database
from takt.core.models import Base, UTCDateTime
from takt.core.time import utcnow


@dataclass(frozen=True)
class Window:
    count: int
    resets_in: int  # whole seconds until the window starts over


class CounterStore(Protocol):
    async def hit(self, key: str, window_seconds: int) -> Window:
        """Count one and answer the count including it, atomically."""
        ...

    async def undo(self, key: str) -> None:
        """Take back one hit of the current window (a login that turned out to succeed)."""
        ...

    async def peek(self, key: str) -> Window: ...

    async def reset(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryCounterStore:
    """Per process. Good for one process; use Redis when several serve the same users."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._counters: dict[str, tuple[int, float]] = {}
        self._lock = asyncio.Lock()
        self._max_keys = max_keys

    def _live(self, key: str, now: float) -> tuple[int, float] | None:
        entry = self._counters.get(key)
        if entry is None or entry[1] <= now:
            return None
        return entry

    async def hit(self, key: str, window_seconds: int) -> Window:
        now = time.monotonic()
        async with self._lock:
            entry = self._live(key, now)
            count, expires = (entry[0] + 1, entry[1]) if entry else (1, now + window_seconds)
            if entry is None and len(self._counters) >= self._max_keys:
                self._counters = {k: v for k, v in self._counters.items() if v[1] > now}
            self._counters[key] = (count, expires)
        return Window(count, max(1, math.ceil(expires - now)))

    async def undo(self, key: str) -> None:
        async with self._lock:
            entry = self._live(key, time.monotonic())
            if entry is not None and entry[0] > 0:
                self._counters[key] = (entry[0] - 1, entry[1])

    async def peek(self, key: str) -> Window:
        now = time.monotonic()
        entry = self._live(key, now)
        if entry is None:
            return Window(0, 0)
        return Window(entry[0], max(1, math.ceil(entry[1] - now)))

    async def reset(self, key: str) -> None:
        self._counters.pop(key, None)

    async def close(self) -> None:
        self._counters.clear()


# DECR only a live key: a bare DECR on an expired key would create one at -1 with no expiry.
_UNDO_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


class RedisCounterStore:
    """INCR + EXPIRE NX in one MULTI/EXEC; the key's TTL is the window's remaining time."""

    def __init__(self, url: str, prefix: str = "takt:") -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._prefix = prefix
        self._undo = self._redis.register_script(_UNDO_SCRIPT)

    async def hit(self, key: str, window_seconds: int) -> Window:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_seconds, nx=True)
            pipe.ttl(name)
            count, _, ttl = await pipe.execute()
        return Window(int(count), max(1, int(ttl)))

    async def undo(self, key: str) -> None:
        await self._undo(keys=[self._prefix + key])

    async def peek(self, key: str) -> Window:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(name)
            pipe.ttl(name)
            value, ttl = await pipe.execute()
        return Window(int(value or 0), max(0, int(ttl)))

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def close(self) -> None:
        await self._redis.aclose()


class RateCounter(Base):
    """One fixed-window counter of `DatabaseCounterStore`."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    window_ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


def _upsert(session: AsyncSession) -> Any:
    """`INSERT … ON CONFLICT` of the session's dialect (both spell it the same way)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    return postgresql_insert if postgres else sqlite_insert


class DatabaseCounterStore:
    """Counters every process on one database shares, for when there is no Redis. Each call is a
    short transaction of its own; `hit` is one `INSERT … ON CONFLICT DO UPDATE … RETURNING`, which
    both databases run atomically (PostgreSQL locks the row, SQLite has one writer). Meant for
    rare events such as failed logins, not for per-request limits: every hit is a write.

    Call it outside any other write transaction: on SQLite the one writer connection would be
    waiting for itself."""

    # Expired rows are deleted on every this-many-th hit of a process.
    PURGE_EVERY = 256

    def __init__(self, database: Database) -> None:
        self._database = database
        self._hits = 0

    async def hit(self, key: str, window_seconds: int) -> Window:
        now = utcnow()
        ends = now + timedelta(seconds=window_seconds)
        table = RateCounter.__table__
        expired = table.c.window_ends_at <= literal(now, UTCDateTime())
        async with self._database.transaction() as session:
            statement = (
                _upsert(session)(RateCounter)
                .values(key=key, hits=1, window_ends_at=ends)
                .on_conflict_do_update(
                    index_elements=[table.c.key],
                    set_={
                        "hits": case((expired, 1), else_=table.c.hits + 1),
                        "window_ends_at": case(
                            (expired, literal(ends, UTCDateTime())),
                            else_=table.c.window_ends_at,
                        ),
                    },
                )
                .returning(table.c.hits, table.c.window_ends_at)
            )
            count, window_ends_at = (await session.execute(statement)).one()
            self._hits += 1
            if self._hits % self.PURGE_EVERY == 0:
                await session.execute(delete(RateCounter).where(RateCounter.window_ends_at <= now))
        return Window(int(count), _seconds_until(window_ends_at, now))

    async def undo(self, key: str) -> None:
        async with self._database.transaction() as session:
            await session.execute(
                update(RateCounter)
                .where(
                    RateCounter.key == key,
                    RateCounter.hits > 0,
                    RateCounter.window_ends_at > utcnow(),
                )
                .values(hits=RateCounter.hits - 1)
            )

    async def peek(self, key: str) -> Window:
        now = utcnow()
        async with self._database.transaction(write=False) as session:
            row = (
                await session.execute(
                    select(RateCounter.hits, RateCounter.window_ends_at).where(
                        RateCounter.key == key, RateCounter.window_ends_at > now
                    )
                )
            ).one_or_none()
        if row is None:
            return Window(0, 0)
        return Window(int(row.hits), _seconds_until(row.window_ends_at, now))

    async def reset(self, key: str) -> None:
        async with self._database.transaction() as session:
            await session.execute(delete(RateCounter).where(RateCounter.key == key))

    async def close(self) -> None:
        """The database belongs to the app; its rows outlive the process on purpose."""


async def purge_expired_counters(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Delete the counters whose window has ended (the worker's hourly sweep; a store also
    purges now and then as it counts, but only while logins fail). Returns how many went."""
    result = await session.execute(
        delete(RateCounter).where(RateCounter.window_ends_at <= (now or utcnow()))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def counter_store(redis_url: str | None) -> CounterStore:
    return RedisCounterStore(redis_url) if redis_url else MemoryCounterStore()
