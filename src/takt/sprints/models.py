"""Sprints and per-member capacity."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.models import (
    Base,
    IdMixin,
    JSONType,
    TimestampMixin,
    UTCDateTime,
    VersionedMixin,
)

STATES = ("planned", "active", "completed", "cancelled")


class Sprint(AsyncAttrs, IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "sprints"
    __table_args__ = (
        Index("ix_sprints_project_start", "project_id", "start_date", "id"),
        # At most one active sprint per project, enforced by the database itself so that two
        # concurrent starts can't both win.
        Index(
            "uq_sprints_one_active",
            "project_id",
            unique=True,
            sqlite_where=text("state = 'active'"),
            postgresql_where=text("state = 'active'"),
        ),
    )

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    goal: Mapped[str] = mapped_column(Text, default="")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="planned")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Frozen at start: [{"item_id", "key", "estimate"}]. Never changes afterwards.
    # Deferred: a big sprint's commitment is hundreds of KB of JSON (400 KB for 5,000 items), and
    # most sprint requests (burndown, scope, capacity) never look at it. Read it with
    # `await sprint.awaitable_attrs.commitment`.
    commitment: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSONType, nullable=True, deferred=True
    )
    # Frozen at completion (see docs/metrics.md): committed, completed, added, removed, …
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)


class SprintCapacity(IdMixin, Base):
    __tablename__ = "sprint_capacity"
    __table_args__ = (UniqueConstraint("sprint_id", "user_id"),)

    sprint_id: Mapped[str] = mapped_column(ForeignKey("sprints.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    allocation: Mapped[float] = mapped_column(Float, default=1.0)
    absent_days: Mapped[list[str]] = mapped_column(JSON, default=list)


class BurndownPoint(Base):
    """A sprint's totals as of one past moment (a working day's end, or the start), computed
    once from the event log and kept: the log only grows at its end, so a moment that has
    passed never changes. The burndown of a big sprint then reads these few rows instead of
    replaying tens of thousands of events. A point is keyed by its exact moment, so a change
    of time zone or working days simply asks for other moments."""

    __tablename__ = "sprint_burndown_points"

    sprint_id: Mapped[str] = mapped_column(
        ForeignKey("sprints.id", ondelete="CASCADE"), primary_key=True
    )
    moment: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    scope_points: Mapped[float] = mapped_column(Float)
    scope_items: Mapped[int] = mapped_column(Integer)
    remaining_points: Mapped[float] = mapped_column(Float)
    remaining_items: Mapped[int] = mapped_column(Integer)
    unestimated: Mapped[int] = mapped_column(Integer)
