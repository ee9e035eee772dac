"""Incidents in an environment, linked explicitly to the deployment that caused and fixed them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.models import Base, IdMixin, TimestampMixin, UTCDateTime, VersionedMixin

SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
INCIDENT_STATES = ("open", "resolved")


class Incident(IdMixin, TimestampMixin, VersionedMixin, Base):
    """Something broke in an environment."""

    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("project_id", "number"),
        Index("ix_incidents_project_opened", "project_id", "opened_at", "id"),
        Index("ix_incidents_env_state", "environment_id", "state", "severity"),
    )

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # Numbered per project (INC-1, INC-2, …) for people to name them.
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(8), doc="sev1 (worst) … sev4")
    state: Mapped[str] = mapped_column(String(16), default="open")
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    caused_by_deployment_id: Mapped[str | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="SET NULL"), nullable=True, index=True
    )
    fixed_by_deployment_id: Mapped[str | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="SET NULL"), nullable=True, index=True
    )
    opened_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
