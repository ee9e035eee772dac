"""Inbox rows to the API's shapes (never the body)."""

from __future__ import annotations

from takt.integrations.models import InboundDelivery
from takt.integrations.schemas import HookAccepted, InboundDeliveryRead
from takt.integrations.service import Received


def accepted(received: Received) -> HookAccepted:
    return HookAccepted(id=received.id, duplicate=received.duplicate)


def inbound_delivery_read(delivery: InboundDelivery) -> InboundDeliveryRead:
    return InboundDeliveryRead(
        id=delivery.id,
        repository_id=delivery.repository_id,
        provider=delivery.provider,
        delivery_id=delivery.delivery_key,
        event=delivery.event,
        action=delivery.action,
        state=delivery.state,
        attempts=delivery.attempts,
        reason=delivery.reason,
        size_bytes=delivery.size_bytes,
        received_at=delivery.received_at,
        processed_at=delivery.processed_at,
    )
