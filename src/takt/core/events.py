"""The event log: every change writes an event row in the transaction that made the change.

Webhooks, the live stream, stand-up drafts and metrics read these rows; a change that rolls back
takes its events with it (transactional outbox).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import BigInteger, Index, Integer, String, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.models import Base, JSONType, UTCDateTime, new_id
from takt.core.time import utcnow


class HasId(Protocol):
    @property
    def id(self) -> str: ...


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_project_seq", "project_id", "seq"),
        Index("ix_events_subject", "subject_id", "seq"),
        # One type of event of a project over a period (a sprint's scope changes).
        Index("ix_events_project_type_time", "project_id", "type", "occurred_at"),
    )

    # The cursor order. SQLite only auto-increments an INTEGER PRIMARY KEY.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    type: Mapped[str] = mapped_column(String(64), index=True)
    project_id: Mapped[str | None] = mapped_column(String(36))
    subject_id: Mapped[str | None] = mapped_column(
        String(36), doc="The main object the event is about (an item, a sprint, …)."
    )
    actor_id: Mapped[str | None] = mapped_column(String(36))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)


def _id_of(thing: HasId | str | None) -> str | None:
    if thing is None or isinstance(thing, str):
        return thing
    return thing.id


async def emit(
    session: AsyncSession,
    type: str,
    project: HasId | str | None,
    actor: HasId | str | None,
    data: dict[str, Any],
    changes: dict[str, list[Any]] | None = None,
    *,
    subject: HasId | str | None = None,
    occurred_at: datetime | None = None,
) -> Event:
    """Record that `type` happened, inside the caller's transaction (never committed here).

    `changes` maps a field to `[old, new]`. The row is flushed so a failure shows up now, in the
    request that caused it, and so the caller can read its `seq`.
    """
    event = Event(
        type=type,
        project_id=_id_of(project),
        subject_id=_id_of(subject),
        actor_id=_id_of(actor),
        data=data,
        changes=changes,
        occurred_at=occurred_at or utcnow(),
    )
    session.add(event)
    await session.flush()
    return event


async def emit_each(
    session: AsyncSession,
    type: str,
    project: HasId | str | None,
    actor: HasId | str | None,
    entries: list[tuple[str, dict[str, Any], dict[str, list[Any]] | None]],
) -> None:
    """`emit` once per (subject id, data, changes) entry, in one INSERT: a change to many items
    at once (a workflow edit) still records each item's change in the caller's transaction."""
    if not entries:
        return
    now = utcnow()
    await session.execute(
        insert(Event),
        [
            {
                "type": type,
                "project_id": _id_of(project),
                "subject_id": subject_id,
                "actor_id": _id_of(actor),
                "data": data,
                "changes": changes,
                "occurred_at": now,
            }
            for subject_id, data, changes in entries
        ],
    )
