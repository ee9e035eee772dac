"""Sprints and per-member capacity."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, String, Text, UniqueConstraint, text
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


class Sprint(IdMixin, TimestampMixin, VersionedMixin, Base):
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
    commitment: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType, nullable=True)
    # Frozen at completion (see METRICS.md): committed, completed, added, removed, …
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)


class SprintCapacity(IdMixin, Base):
    __tablename__ = "sprint_capacity"
    __table_args__ = (UniqueConstraint("sprint_id", "user_id"),)

    sprint_id: Mapped[str] = mapped_column(ForeignKey("sprints.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    allocation: Mapped[float] = mapped_column(Float, default=1.0)
    absent_days: Mapped[list[str]] = mapped_column(JSON, default=list)
