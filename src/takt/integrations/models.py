"""The inbox of inbound webhook deliveries: each delivery's raw body, kept as it came, and what
processing it made of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.models import Base, IdMixin, UTCDateTime
from takt.core.time import utcnow

# received: waiting for the worker; retrying: an attempt failed and another comes; processed:
# its effects are recorded; ignored: an event or action Takt doesn't use (or another
# repository's); failed: it can't be processed (a payload of the wrong shape, or out of tries).
INBOX_STATES = ("received", "retrying", "processed", "ignored", "failed")


class InboundDelivery(IdMixin, Base):
    __tablename__ = "inbound_deliveries"
    __table_args__ = (
        # The deduplication: one row per provider delivery id and repository.
        UniqueConstraint("repository_id", "delivery_key"),
        # The inbox of a repository, newest first.
        Index("ix_inbound_deliveries_repository_received", "repository_id", "received_at", "id"),
    )

    repository_id: Mapped[str] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(16))
    # X-GitHub-Delivery or X-Gitlab-Event-UUID (`sha256:` and the body's hash when none came).
    delivery_key: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(100))
    action: Mapped[str | None] = mapped_column(String(100), nullable=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    size_bytes: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="received")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Why it failed, was retried or was ignored.
    reason: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
