"""Resolved bearer tokens, kept for a few seconds.

Resolving a token costs a database read (the user row, and the token row for a personal access
token) on every request; a client sending many requests with one token would pay it each time.
The cache keeps the resolved principal for `ttl` seconds (TAKT_PRINCIPAL_CACHE_SECONDS), never past
the token's own expiry. What that trades: a change to a user or a token made through *another*
worker process reaches this one within `ttl`. Changes made in this process (revoking a token,
editing your account) drop the entries at once.

Entries are keyed by a SHA-256 of the bearer string, so the cache never holds a secret.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.principal import Principal


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    expires: float  # time.monotonic()


class PrincipalCache:
    def __init__(self, ttl_seconds: float, *, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        # Counts `forget_user` calls. A lookup notes it before reading the database; if a
        # forget happened meanwhile, what it read may predate that change and is not kept.
        self.epoch = 0

    @staticmethod
    def key(bearer: str) -> bytes:
        return hashlib.sha256(bearer.encode()).digest()

    def get(self, bearer_key: bytes) -> Principal | None:
        if self.ttl <= 0:
            return None
        entry = self._entries.get(bearer_key)
        if entry is None:
            return None
        if entry.expires <= time.monotonic():
            del self._entries[bearer_key]
            return None
        return entry.principal

    def put(
        self,
        bearer_key: bytes,
        principal: Principal,
        *,
        token_expires: datetime | None,
        now: datetime,
        epoch: int,
    ) -> None:
        """Keep `principal`, read from the database after `epoch` was noted."""
        if self.ttl <= 0 or epoch != self.epoch:
            return
        lifetime = self.ttl
        if token_expires is not None:
            lifetime = min(lifetime, (token_expires - now).total_seconds())
        if lifetime <= 0:
            return
        self._entries[bearer_key] = _Entry(principal, time.monotonic() + lifetime)
        self._entries.move_to_end(bearer_key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def replace(self, bearer_key: bytes, principal: Principal) -> None:
        """Swap an entry's principal, keeping its expiry (e.g. a token's new last-used time)."""
        entry = self._entries.get(bearer_key)
        if entry is not None:
            self._entries[bearer_key] = _Entry(principal, entry.expires)

    def forget_user(self, user_id: str) -> None:
        """Drop every entry of a user (their account or one of their tokens changed). Call it
        once the change is committed (`forget_user_after_commit`), so no request re-reads the
        old state after it."""
        self.epoch += 1
        for key in [k for k, e in self._entries.items() if e.principal.id == user_id]:
            del self._entries[key]

    def clear(self) -> None:
        self._entries.clear()


def forget_user_after_commit(session: AsyncSession, cache: PrincipalCache, user_id: str) -> None:
    """Drop the user's entries now and again when `session` commits: a request that resolved
    the token in between read the state before the change."""
    cache.forget_user(user_id)
    event.listen(
        session.sync_session, "after_commit", lambda _s: cache.forget_user(user_id), once=True
    )
