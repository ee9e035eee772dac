"""Fixed-window counters for rate limits and login throttling: in memory, or shared in Redis."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Window:
    count: int
    resets_in: int  # whole seconds until the window starts over


class CounterStore(Protocol):
    async def hit(self, key: str, window_seconds: int) -> Window: ...

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


class RedisCounterStore:
    """INCR + EXPIRE NX in one round trip; the key's TTL is the window's remaining time."""

    def __init__(self, url: str, prefix: str = "takt:") -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._prefix = prefix

    async def hit(self, key: str, window_seconds: int) -> Window:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_seconds, nx=True)
            pipe.ttl(name)
            count, _, ttl = await pipe.execute()
        return Window(int(count), max(1, int(ttl)))

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


def counter_store(redis_url: str | None) -> CounterStore:
    return RedisCounterStore(redis_url) if redis_url else MemoryCounterStore()
