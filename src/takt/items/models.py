"""Work items, their labels, links and comments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.models import (
    Base,
    IdMixin,
    JSONType,
    RankType,
    TimestampMixin,
    UTCDateTime,
    VersionedMixin,
)
from takt.core.time import utcnow

TYPES = ("epic", "story", "task", "bug", "spike")
PRIORITIES = ("none", "low", "medium", "high", "urgent")  # stored as their index
# Allowed parent type for each child type: epic → story → task (bugs and spikes sit like tasks).
PARENT_TYPES: dict[str, tuple[str, ...]] = {
    "epic": (),
    "story": ("epic",),
    "task": ("story", "epic"),
    "bug": ("story", "epic"),
    "spike": ("story", "epic"),
}


class Item(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("project_id", "number"),
        Index("ix_items_project_rank", "project_id", "rank", "id"),
        Index("ix_items_project_status", "project_id", "status_id", "rank"),
        Index("ix_items_project_assignee", "project_id", "assignee_id"),
        Index("ix_items_project_created", "project_id", "created_at", "id"),
        Index("ix_items_project_updated", "project_id", "updated_at", "id"),
        Index("ix_items_project_priority", "project_id", "priority", "rank", "id"),
        Index("ix_items_sprint", "sprint_id", "status_id"),
        # The trash list (newest first) and the purge of what has been there 30 days.
        Index("ix_items_project_deleted", "project_id", "deleted_at"),
        # `q=type:…` over the live items without reading them: flow metrics count them by
        # status and join their ids to the events (bench.dora, 90 days of bugs).
        Index(
            "ix_items_project_type",
            "project_id",
            "type",
            "status_id",
            "id",
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(24), unique=True)
    type: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    status_id: Mapped[str] = mapped_column(ForeignKey("statuses.id"))
    priority: Mapped[int] = mapped_column(SmallInteger, default=0)
    assignee_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    reporter_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    estimate: Mapped[float | None] = mapped_column(Float, nullable=True)
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("items.id", ondelete="SET NULL"), nullable=True, index=True
    )
    sprint_id: Mapped[str | None] = mapped_column(
        ForeignKey("sprints.id", ondelete="SET NULL"), nullable=True
    )
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    rank: Mapped[str] = mapped_column(RankType)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set while the item is in the trash (`takt.items.trash`): every read leaves it out
    # (`repository.LIVE`) until it is restored or purged.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Who deleted it; a plain id like an event's actor (no constraint, see migration 0011).
    deleted_by_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # People as an imported document named them (`takt.transfer`): kept as names, never turned
    # into local accounts; reporter_id / assignee_id are then null.
    reporter_name: Mapped[str | None] = mapped_column(String(32), nullable=True)
    assignee_name: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The ids of the project's Definition of Ready entries ticked on this item
    # (`takt.items.readiness`), in the checklist's order. Ticks of an entry since removed from
    # the checklist stay here unseen until the next `PUT …/readiness` replaces the list.
    dor_checked: Mapped[list[str]] = mapped_column(JSONType, default=list, server_default="[]")


class ItemLabel(Base):
    __tablename__ = "item_labels"

    item_id: Mapped[str] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    label_id: Mapped[str] = mapped_column(
        ForeignKey("labels.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ItemLink(IdMixin, Base):
    """Stored once, in canonical direction (`blocks`, `relates_to`, `duplicates`); the inverse
    (`blocked_by`, `duplicated_by`) is how the target sees it."""

    __tablename__ = "item_links"
    __table_args__ = (UniqueConstraint("source_id", "target_id", "type"),)

    source_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    target_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class Comment(IdMixin, TimestampMixin, Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_item", "item_id", "created_at", "id"),)

    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    author_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    body: Mapped[str] = mapped_column(Text)
    mention_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The author as an imported document named them (author_id is then null).
    author_name: Mapped[str | None] = mapped_column(String(32), nullable=True)
