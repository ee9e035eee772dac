"""The event log: emit() writes in the caller's transaction and its fields round-trip."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError

from takt.core.db import Database
from takt.core.events import Event, EventChanges, EventData, emit
from tests.support import Probe

CountEvents = Callable[..., Awaitable[int]]


@dataclass
class Actor:
    id: str


async def test_emit_writes_in_the_callers_transaction_and_commits_with_it(
    db: Database, count_events: CountEvents
) -> None:
    async with db.transaction() as session:
        await emit(session, Probe(), None, None)
        inside = await session.scalar(select(func.count()).select_from(Event))
        outside = await count_events()
    assert inside == 1
    assert outside == 0  # emit() flushed but did not commit
    assert await count_events() == 1


async def test_error_after_emit_rolls_the_event_back(
    db: Database, count_events: CountEvents
) -> None:
    async def change_that_fails_after_its_event() -> None:
        async with db.transaction() as session:
            await emit(session, Probe(), None, None)
            raise LookupError("the change failed after its event")

    with pytest.raises(LookupError):
        await change_that_fails_after_its_event()
    assert await count_events() == 0


class TitleChanges(EventChanges):
    title: tuple[str, str] | None = None


class RoundTrip(EventData):
    event_type: ClassVar[str] = "test.round_trip"
    changes_model: ClassVar[type[EventChanges] | None] = TitleChanges
    title: str
    labels: list[str]
    estimate: float
    nested: dict[str, Any]


async def test_event_fields_round_trip(db: Database) -> None:
    occurred_at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))
    data = {"title": "Fix login", "labels": ["bug", "ü"], "estimate": 3.5, "nested": {"ok": None}}
    async with db.transaction() as session:
        emitted = await emit(
            session,
            RoundTrip.model_validate(data),
            "project-1",
            Actor(id="user-1"),
            TitleChanges(title=("Fix logn", "Fix login")),
            subject="item-1",
            occurred_at=occurred_at,
        )
    async with db.transaction(write=False) as session:
        stored = await session.scalar(select(Event).where(Event.id == emitted.id))
    assert stored is not None
    assert (stored.type, stored.project_id, stored.actor_id, stored.subject_id) == (
        "test.round_trip",
        "project-1",
        "user-1",
        "item-1",
    )
    assert stored.data == data
    assert stored.changes == {"title": ["Fix logn", "Fix login"]}
    assert stored.occurred_at == occurred_at
    assert stored.occurred_at.tzinfo == UTC
    assert stored.seq == emitted.seq


async def test_event_without_changes_stores_null(db: Database) -> None:
    async with db.transaction() as session:
        emitted = await emit(session, Probe(), None, None)
    async with db.transaction(write=False) as session:
        stored = await session.get(Event, emitted.seq)
    assert stored is not None
    assert stored.changes is None
    assert stored.data == {"label": "", "writer": None, "number": None}


async def test_event_time_defaults_to_now_in_utc(db: Database) -> None:
    before = datetime.now(UTC)
    async with db.transaction() as session:
        emitted = await emit(session, Probe(), None, None)
    async with db.transaction(write=False) as session:
        stored = await session.get(Event, emitted.seq)
    assert stored is not None
    assert stored.occurred_at.tzinfo == UTC
    assert before <= stored.occurred_at <= datetime.now(UTC)


async def test_naive_event_time_is_refused(db: Database, count_events: CountEvents) -> None:
    with pytest.raises(StatementError, match="naive datetimes"):
        async with db.transaction() as session:
            await emit(session, Probe(), None, None, occurred_at=datetime(2026, 1, 1))
    assert await count_events() == 0


async def test_events_are_numbered_in_commit_order(db: Database) -> None:
    seqs = []
    for _ in range(3):
        async with db.transaction() as session:
            seqs.append((await emit(session, Probe(), None, None)).seq)
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 3
