"""Blockers: what stops a work item, waiting on whom or what, from raised to resolved."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.models import Base, IdMixin, TimestampMixin, UTCDateTime, VersionedMixin

STATES = ("open", "resolved")
WAITING_ON = ("person", "team", "external", "item")


class Blocker(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "blockers"
    __table_args__ = (
        # Lists: a project's blockers by state, oldest first.
        Index("ix_blockers_project_status_raised", "project_id", "status", "raised_at", "id"),
        # Whether an item still has an open blocker (its `blocked` flag).
        Index("ix_blockers_item_status", "item_id", "status"),
        # The escalation sweep: open blockers not escalated yet, across projects.
        Index(
            "ix_blockers_to_escalate",
            "raised_at",
            sqlite_where=text("status = 'open' AND escalated_at IS NULL"),
            postgresql_where=text("status = 'open' AND escalated_at IS NULL"),
        ),
    )

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    waiting_on_kind: Mapped[str] = mapped_column(String(16))
    # One of these three, by kind: the person, the team's or outside party's name, the item.
    waiting_on_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    waiting_on_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    waiting_on_item_id: Mapped[str | None] = mapped_column(
        ForeignKey("items.id", ondelete="SET NULL"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(16), default="open")
    raised_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolution: Mapped[str] = mapped_column(Text, default="")
    # A resolved blocker's age in working hours, fixed when it is resolved: it no longer
    # changes, and `older_than_hours` compares it in SQL.
    resolved_age_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    risk_id: Mapped[str | None] = mapped_column(
        ForeignKey("risks.id", ondelete="SET NULL"), nullable=True
    )
