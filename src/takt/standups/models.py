"""Stand-up config (one per project), members' entries, and the summaries recorded at cut-off."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.events import Event
from takt.core.models import Base, IdMixin, JSONType, TimestampMixin, UTCDateTime, VersionedMixin
from takt.core.time import utcnow


class StandupConfig(TimestampMixin, VersionedMixin, Base):
    """A project's stand-up settings. A project without a row runs on the defaults
    (`takt.standups.rules.DEFAULT_CONFIG`), so nothing has to be created with the project."""

    __tablename__ = "standup_configs"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    # [{"id", "text", "kind"}], at most 10.
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    # Weekday names; null follows the project's working days (also when they change later).
    weekdays: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    cutoff: Mapped[str] = mapped_column(String(5), doc='Local "HH:MM" in the project time zone.')
    # User ids; null means every member and admin of the project (viewers never take part).
    participants: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    share_answers_in_events: Mapped[bool] = mapped_column(Boolean, default=False)


class StandupEntry(IdMixin, VersionedMixin, Base):
    """One member's check-in for one stand-up day. The unique constraint is what keeps two
    concurrent submissions of the same entry from making two rows (the write is an upsert)."""

    __tablename__ = "standup_entries"
    __table_args__ = (
        # Also the member's entries in date order: "since their last entry" for drafts.
        UniqueConstraint("project_id", "user_id", "standup_date"),
        # A day's entries for the summary.
        Index("ix_standup_entries_project_date", "project_id", "standup_date"),
    )

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    standup_date: Mapped[date] = mapped_column(Date)
    # {question id: text or yes/no}.
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Ids of the blockers raised through this entry, in the order they were raised.
    blocker_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Set once an edit (or the first submission) came after the day's cut-off; stays set.
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StandupSummary(IdMixin, Base):
    """A stand-up day's summary as it stood at the cut-off, recorded once by the worker (the
    unique constraint decides between two sweeps that race). `sprint_probability` is the day's
    figure that the next day's summary compares with."""

    __tablename__ = "standup_summaries"
    __table_args__ = (UniqueConstraint("project_id", "standup_date"),)

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    standup_date: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expected: Mapped[int] = mapped_column(Integer)
    submitted: Mapped[int] = mapped_column(Integer)
    participation: Mapped[float | None] = mapped_column(Float, nullable=True)
    blocked_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    open_blockers: Mapped[int] = mapped_column(Integer)
    sprint_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    sprint_probability: Mapped[float | None] = mapped_column(Float, nullable=True)


# A draft reads one member's events of one project over a period: without this index that is a
# scan of the project's whole log. Declared here, beside the only reader that needs it, on the
# kit's `events` table (core/events.py stays free of domain concerns); the stand-ups migration
# creates it.
EVENTS_BY_ACTOR = Index(
    "ix_events_project_actor_time",
    Event.project_id,
    Event.actor_id,
    Event.occurred_at,
)
