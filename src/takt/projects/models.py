"""Projects and memberships."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
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

ROLES = ("viewer", "member", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


class Project(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "projects"

    # Unique forever, also after a soft delete, so a key never points at two projects over time.
    key: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The last item number handed out: `UPDATE … SET item_seq = item_seq + 1 RETURNING` gives
    # every concurrent create its own number, and numbers are never reused.
    item_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # An upper bound of the project's item ranks (NULL: not known yet), raised under the row's
    # lock by every write that puts an item at the bottom, so a create gets its number and its
    # rank from one UPDATE (takt.items.repository.insert_at_bottom).
    bottom_rank: Mapped[str | None] = mapped_column(RankType, nullable=True)


class ProjectMember(IdMixin, Base):
    __tablename__ = "project_members"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
