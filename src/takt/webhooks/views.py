"""Webhook and delivery rows to the API's response shapes: never a secret, and of a Slack
webhook's URL only what `url_display` keeps."""

from __future__ import annotations

from collections.abc import Sequence

from takt.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery
from takt.webhooks.schemas import (
    AttemptRead,
    DeliveryRead,
    WebhookRead,
    WebhookWithSecret,
)


def webhook_read(webhook: Webhook, project_key: str) -> WebhookRead:
    return WebhookRead(
        id=webhook.id,
        project_key=project_key,
        kind=webhook.kind,
        url=webhook.url_display,
        description=webhook.description,
        event_types=list(webhook.event_types),
        enabled=webhook.enabled,
        disabled_reason=webhook.disabled_reason,
        disabled_at=webhook.disabled_at,
        failing_since=webhook.failing_since,
        previous_secret_valid_until=webhook.previous_secret_expires_at,
        created_at=webhook.created_at,
        updated_at=webhook.updated_at,
        version=webhook.version,
    )


def webhook_with_secret(webhook: Webhook, project_key: str, secret: str) -> WebhookWithSecret:
    """The answer of a create or a rotation: the only ones that carry the secret."""
    return WebhookWithSecret(**webhook_read(webhook, project_key).model_dump(), secret=secret)


def attempt_read(attempt: WebhookAttempt) -> AttemptRead:
    return AttemptRead(
        attempted_at=attempt.attempted_at,
        status_code=attempt.status_code,
        duration_ms=attempt.duration_ms,
        response_excerpt=attempt.response_excerpt,
        error=attempt.error,
    )


def delivery_read(delivery: WebhookDelivery, attempts: Sequence[WebhookAttempt]) -> DeliveryRead:
    return DeliveryRead(
        id=delivery.id,
        webhook_id=delivery.webhook_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        state=delivery.state,
        attempt_count=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_status=delivery.last_status,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
        attempts=[attempt_read(a) for a in attempts],
    )
