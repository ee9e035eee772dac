"""The event log: every change writes an event row in the transaction that made the change.

Webhooks, the live stream, stand-up drafts and metrics read these rows; a change that rolls back
takes its events with it (transactional outbox).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Index,
    Integer,
    String,
    false,
    insert,
    literal_column,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import text

from takt.core.models import Base, JSONType, UTCDateTime, new_id
from takt.core.time import utcnow

# Set on a session that wrote events: its commit wakes this process's readers of the log
# (takt.core.wakeup); on PostgreSQL a trigger on `events` also NOTIFYs the other processes.
EVENTS_EMITTED = "takt.events_emitted"


class HasId(Protocol):
    @property
    def id(self) -> str: ...


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_project_seq", "project_id", "seq"),
        Index("ix_events_project_position", "project_id", "tx", "seq"),
        # The whole log in cursor order (the webhook relay, the live stream's broadcaster).
        Index("ix_events_position", "tx", "seq"),
        Index("ix_events_subject", "subject_id", "seq"),
        # One type of event of a project over a period (a sprint's scope changes).
        Index("ix_events_project_type_time", "project_id", "type", "occurred_at"),
    )

    # The cursor order. SQLite only auto-increments an INTEGER PRIMARY KEY.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    # With `seq`, the event's place in the cursor order: the id of the writing transaction on
    # PostgreSQL (a column default, pg_current_xact_id(), set by the migration), 0 on SQLite.
    # See `committed_horizon` for why `seq` alone can't be the cursor on PostgreSQL.
    tx: Mapped[int] = mapped_column(BigInteger(), server_default=text("0"))
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
    # History brought in by an import (`takt.transfer`), not an act on this server; its actor is
    # `actor_name`, the name the document gave (actor_id is then null: never a local account).
    imported: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    actor_name: Mapped[str | None] = mapped_column(String(32), nullable=True)


class EventChanges(BaseModel):
    """What an event changed: each field present maps to `[old, new]`.

    Subclasses list the fields an event type may change, each typed
    `tuple[Old, New] | None = None`; only the fields set are written.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class EventData(BaseModel):
    """The `data` of one event type: subclasses name the type and register themselves.

    A payload changes only by adding fields with defaults (old rows still parse, and consumers
    that ignore unknown fields keep working); renaming or removing a field is a new type.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: ClassVar[str]
    changes_model: ClassVar[type[EventChanges] | None] = None

    @classmethod
    def payload_key(cls, field: str) -> str:
        """The payload key of `field`, for queries that read it in SQL: renaming the field
        fails here, at import, instead of silently matching nothing."""
        info = cls.model_fields[field]
        return info.alias or field

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "event_type" in cls.__dict__:
            if cls.event_type in EVENT_TYPES:
                raise TypeError(f"Event type {cls.event_type!r} is declared twice.")
            EVENT_TYPES[cls.event_type] = cls


EVENT_TYPES: dict[str, type[EventData]] = {}


def describes_an_event(model_name: str) -> bool:
    """Whether a Pydantic error's title names a catalogue model (an event's data or changes):
    such an error is the server's bug, never the caller's input."""
    names = {declared.__name__ for declared in EVENT_TYPES.values()}
    names |= {d.changes_model.__name__ for d in EVENT_TYPES.values() if d.changes_model}
    return model_name in names


class InvalidEvent(ValueError):
    """An event whose type is not in the catalogue, or whose data or changes don't fit it."""


def parse_event(
    type: str, data: dict[str, Any], changes: dict[str, Any] | None = None
) -> tuple[EventData, EventChanges | None]:
    """Read a stored (or imported) event through its type's models."""
    declared = EVENT_TYPES.get(type)
    if declared is None:
        raise InvalidEvent(f"{type!r} is not an event type of the catalogue.")
    try:
        parsed = declared.model_validate(data)
        if changes is None:
            return parsed, None
        if declared.changes_model is None:
            raise InvalidEvent(f"{type!r} events carry no changes.")
        return parsed, declared.changes_model.model_validate(changes)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc'])) or 'data'}: {error['msg']}"
            for error in exc.errors(include_url=False)[:5]
        )
        raise InvalidEvent(f"{type!r} doesn't fit the catalogue: {problems}") from exc


def _stored(data: EventData, changes: EventChanges | None) -> tuple[dict[str, Any], Any]:
    if not isinstance(data, EventData):
        raise TypeError("emit takes an EventData model of the catalogue (docs/events.md).")
    if changes is not None and not isinstance(changes, data.changes_model or ()):
        raise InvalidEvent(f"{data.event_type!r} events don't carry {type(changes).__name__}.")
    return (
        data.model_dump(mode="json", by_alias=True),
        None if changes is None else changes.model_dump(mode="json", exclude_unset=True),
    )


def committed_horizon(dialect: str) -> ColumnElement[bool] | None:
    """The condition that keeps a cursor reader from passing over an event that commits later.

    PostgreSQL numbers `seq` when a row is inserted, not when its transaction commits, so a reader
    could see seq 8 while seq 7 is still uncommitted, move its cursor past 7, and never see it.
    Events are therefore ordered by (writing transaction id, seq) and read only from transactions
    older than the oldest one still running (the snapshot's xmin): those have all ended, and
    every transaction that ends later has a larger id than anything already read. On SQLite one
    writer at a time numbers and commits, so `seq` is the commit order and there is no horizon.

    Transaction ids are shared by every database of the server, so a write running in another
    database (another application, or a parallel test run) would hold the horizon back for no
    reason: those are left out when their backend is seen in another database. A transaction that
    ends between the snapshot and that look is kept in, which only delays, never skips. Only
    writing transactions have ids: long read-only ones (reports, pg_dump) hold nothing back.
    """
    if dialect != "postgresql":
        return None
    return Event.tx < literal_column(_POSTGRES_HORIZON)


# The oldest transaction running at this statement's snapshot, other databases' left out; with
# none running, the snapshot's xmax (every id below it has ended). `backend_xid` is a 32-bit xid.
_POSTGRES_HORIZON = """coalesce(
    (SELECT min(running::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS running
     WHERE NOT EXISTS (
        SELECT 1 FROM pg_stat_activity AS backend
        WHERE backend.datname <> current_database()
          AND backend.backend_xid::text = (running::text::bigint % 4294967296)::text)),
    pg_snapshot_xmax(pg_current_snapshot())::text::bigint)"""


def envelope(event: Event, actor_username: str | None, project_key: str | None) -> dict[str, Any]:
    """The event as clients see it (API.md, Events): the log, the live stream and webhook
    deliveries all send this shape, built here once."""
    return {
        "id": event.id,
        "type": event.type,
        "occurred_at": event.occurred_at,
        "project_key": project_key,
        "actor": ({"id": event.actor_id, "username": actor_username} if event.actor_id else None),
        "data": event.data,
        "changes": event.changes,
        "imported": event.imported,
        "imported_actor": event.actor_name,
    }


def _id_of(thing: HasId | str | None) -> str | None:
    if thing is None or isinstance(thing, str):
        return thing
    return thing.id


async def emit(
    session: AsyncSession,
    data: EventData,
    project: HasId | str | None,
    actor: HasId | str | None,
    changes: EventChanges | None = None,
    *,
    subject: HasId | str | None = None,
    occurred_at: datetime | None = None,
) -> Event:
    """Record that `data.event_type` happened, inside the caller's transaction (never committed
    here). `data` is a catalogue model; `changes`, when the type has them, its `changes_model`.

    The row is flushed so a failure shows up now, in the request that caused it, and so the
    caller can read its `seq`.
    """
    event = Event(
        **event_row(data, project, actor, changes, subject=subject, occurred_at=occurred_at)
    )
    session.add(event)
    await session.flush()
    mark_emitted(session)
    return event


async def emit_each(
    session: AsyncSession,
    project: HasId | str | None,
    actor: HasId | str | None,
    entries: Sequence[tuple[str, EventData, EventChanges | None]],
) -> None:
    """`emit` once per (subject id, data, changes) entry, in one INSERT: a change to many items
    at once (a workflow edit) still records each item's change in the caller's transaction."""
    if not entries:
        return
    now = utcnow()
    rows = [
        event_row(data, project, actor, changes, subject=subject_id, occurred_at=now)
        for subject_id, data, changes in entries
    ]
    await session.execute(insert(Event), rows)
    mark_emitted(session)


def event_row(
    data: EventData,
    project: HasId | str | None,
    actor: HasId | str | None,
    changes: EventChanges | None = None,
    *,
    subject: HasId | str | None = None,
    occurred_at: datetime | None = None,
) -> dict[str, Any]:
    """An event's column values, for a statement that inserts it along with what it records
    (the caller then calls `mark_emitted`)."""
    stored_data, stored_changes = _stored(data, changes)
    return {
        "type": data.event_type,
        "project_id": _id_of(project),
        "subject_id": _id_of(subject),
        "actor_id": _id_of(actor),
        "data": stored_data,
        "changes": stored_changes,
        "occurred_at": occurred_at or utcnow(),
    }


def mark_emitted(session: AsyncSession) -> None:
    """Flags that this transaction wrote events: its commit wakes the live readers."""
    session.info[EVENTS_EMITTED] = True
