"""Serialising a decision across concurrent transactions, on both databases."""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


def _lock_id(name: str) -> int:
    """A stable signed 64-bit number for `name` (PostgreSQL's advisory lock key)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


async def hold_transaction_lock(session: AsyncSession, name: str) -> None:
    """Wait until no other transaction holds the lock `name`, then hold it until this one ends.
    Statements after it see what the previous holder committed.

    PostgreSQL: a transaction-level advisory lock (`pg_advisory_xact_lock`); under READ COMMITTED
    each later statement takes a fresh snapshot, so it sees the previous holder's rows. SQLite:
    nothing to do, because write transactions start with `BEGIN IMMEDIATE` (core/db.py), which
    already makes them run one at a time over the whole database; call this only in a write
    transaction."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _lock_id(name)})
