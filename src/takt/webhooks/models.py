"""Webhook endpoints, their deliveries and each delivery's attempts, and the relay's cursor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.models import Base, JSONType, UTCDateTime, new_id
from takt.core.time import utcnow


class Webhook(Base):
    """An endpoint Takt calls with a project's events."""

    __tablename__ = "webhooks"
    __table_args__ = (Index("ix_webhooks_project", "project_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="standard", doc="standard | slack")
    # The URL is encrypted at rest (a Slack incoming-webhook URL is itself a credential);
    # `url_display` is what the API shows: the whole URL for `standard`, only the origin for
    # `slack`.
    url_encrypted: Mapped[str] = mapped_column(Text)
    url_display: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(String(255), nullable=True)
    event_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The signing secret (`whsec_…`), encrypted; after a rotation the previous one is also sent
    # (a second signature) until `previous_secret_expires_at`.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True
    )
    # Since when every attempt has failed (null once one succeeds): 5 days of it disable it.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class WebhookDelivery(Base):
    """One event (or test ping) to one endpoint: delivered at least once, retried until it is."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_webhook_event"),
        Index("ix_webhook_deliveries_webhook", "webhook_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(String(36))
    # The event's id, also the `webhook-id` header (stable across retries). A test ping has an
    # id of its own here and its body in `payload`.
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    state: Mapped[str] = mapped_column(
        String(16), default="pending", doc="pending | succeeded | failed | cancelled"
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WebhookAttempt(Base):
    """One HTTP call of a delivery, for the delivery log."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "attempted_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    response_excerpt: Mapped[str | None] = mapped_column(Text, nullable=True, doc="≤ 4 KiB")
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)


class WebhookRelay(Base):
    """Where the relay (event log → deliveries) stands: the log position it has handed out up
    to, in cursor order (tx, seq). One row; the relay locks it, so one relay runs at a time."""

    __tablename__ = "webhook_relay"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    position_tx: Mapped[int] = mapped_column(BigInteger, default=0)
    position_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
