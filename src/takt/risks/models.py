"""The risk register: risks and the items and sprints each one threatens."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.models import Base, IdMixin, TimestampMixin, VersionedMixin

STATUSES = ("open", "mitigating", "closed", "occurred")
# The statuses of a risk that may still happen: what the matrix counts.
LIVE_STATUSES = ("open", "mitigating")


class Risk(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "risks"
    __table_args__ = (
        # The register's default order: the worst first.
        Index("ix_risks_project_score", "project_id", "score", "id"),
    )

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    likelihood: Mapped[int] = mapped_column(SmallInteger)
    impact: Mapped[int] = mapped_column(SmallInteger)
    # likelihood x impact, kept so the register sorts and filters by it in SQL.
    score: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16), default="open")
    owner_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    mitigation: Mapped[str] = mapped_column(Text, default="")
    review_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The blocker this risk was promoted from (`takt.blockers`, a domain above this one): a
    # plain id, like an event's actor, so risks' table doesn't depend on a higher domain's.
    # Unique: a blocker is promoted once.
    blocker_id: Mapped[str | None] = mapped_column(String(36), nullable=True, unique=True)
    created_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class RiskItem(Base):
    """An item the risk threatens."""

    __tablename__ = "risk_items"

    risk_id: Mapped[str] = mapped_column(
        ForeignKey("risks.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class RiskSprint(Base):
    """A sprint the risk threatens."""

    __tablename__ = "risk_sprints"

    risk_id: Mapped[str] = mapped_column(
        ForeignKey("risks.id", ondelete="CASCADE"), primary_key=True
    )
    sprint_id: Mapped[str] = mapped_column(
        ForeignKey("sprints.id", ondelete="CASCADE"), primary_key=True, index=True
    )
