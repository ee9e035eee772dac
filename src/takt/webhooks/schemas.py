"""Shapes of webhooks, their signing secrets, deliveries and delivery attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypeAliasType

from takt.core.schemas import NOT_NULL, Input

WebhookKind = TypeAliasType("WebhookKind", Literal["standard", "slack"])
DeliveryState = TypeAliasType(
    "DeliveryState", Literal["pending", "succeeded", "failed", "cancelled"]
)

MAX_URL_LENGTH = 2048
MAX_EVENT_FILTERS = 100
# A week: long enough to roll a new secret out to every receiver, short enough that a leaked
# old one stops working soon.
MAX_OVERLAP_SECONDS = 7 * 24 * 3600
DEFAULT_OVERLAP_SECONDS = 24 * 3600

WebhookUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://",
        description="Where Takt POSTs the events: an http(s) URL whose host resolves to public "
        "addresses only (loopback and private ones need `TAKT_WEBHOOK_ALLOW_PRIVATE=true`; "
        "link-local and cloud metadata addresses are always refused). For `slack`, the "
        "incoming-webhook URL Slack gave you. At most 2048 characters.",
        examples=["https://ci.example.com/hooks/takt"],
    ),
]
EventFilter = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="An event type of the catalogue (`item.created`), a family (`item.*`) or "
        "`*` for every event.",
        examples=["item.*"],
    ),
]
EventFilters = Annotated[
    list[EventFilter],
    Field(
        min_length=1,
        max_length=MAX_EVENT_FILTERS,
        description="The events this webhook receives (1 to 100 filters; see "
        "`GET /api/v1/event-types`).",
        examples=[["item.*", "sprint.started"]],
    ),
]
Description = Annotated[
    str | None,
    Field(max_length=255, description="What the endpoint is for.", examples=["CI notifier"]),
]


class WebhookCreate(Input):
    url: WebhookUrl
    event_types: EventFilters
    kind: WebhookKind = Field(
        "standard",
        description="`standard`: signed JSON deliveries (Standard Webhooks). `slack`: chosen "
        "events as Slack messages to an incoming-webhook URL.",
    )
    description: Description = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://ci.example.com/hooks/takt",
                    "event_types": ["item.*", "sprint.started", "sprint.completed"],
                    "kind": "standard",
                    "description": "CI notifier",
                }
            ]
        },
    )


class WebhookUpdate(Input):
    url: Annotated[str | None, NOT_NULL] = Field(
        None,
        min_length=1,
        max_length=MAX_URL_LENGTH,
        pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://",
        description="A new URL (checked as on creation).",
    )
    event_types: Annotated[list[EventFilter] | None, NOT_NULL] = Field(
        None, min_length=1, max_length=MAX_EVENT_FILTERS, description="A new filter."
    )
    description: Description = Field(None, description="A new description; null clears it.")
    enabled: Annotated[bool | None, NOT_NULL] = Field(
        None,
        description="false stops deliveries; true resumes them and clears why it was disabled "
        "(deliveries missed meanwhile are not sent).",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"enabled": True}, {"event_types": ["*"]}]},
    )


class SecretRotation(Input):
    overlap_seconds: int = Field(
        DEFAULT_OVERLAP_SECONDS,
        ge=0,
        le=MAX_OVERLAP_SECONDS,
        description="How long the previous secret still signs deliveries (a second signature "
        "beside the new one), so receivers can switch over: 0 to 604800 seconds, default a day.",
        examples=[86400],
    )

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"overlap_seconds": 3600}]}
    )


class WebhookRead(BaseModel):
    id: str = Field(examples=["5d1c2b7e-8f0a-4c1e-9d3b-2a6f4e8c1b90"])
    project_key: str = Field(examples=["API"])
    kind: WebhookKind
    url: str = Field(
        description="The whole URL for `standard`, but its userinfo (sent as basic auth) "
        "masked whole: `https://***@host/…`; only scheme and host for "
        "`slack` (a Slack incoming-webhook URL is itself a credential, so it is never shown "
        "again)."
    )
    description: str | None
    event_types: list[str] = Field(
        description="What it receives: types, families (`item.*`) or `*`.",
        examples=[["item.*", "sprint.started"]],
    )
    enabled: bool = Field(
        description="false: nothing is sent (by hand, or after a 410 or 5 days of failures)."
    )
    disabled_reason: str | None = Field(description="Why it was disabled, while it is.")
    disabled_at: datetime | None
    failing_since: datetime | None = Field(
        description="Since when every attempt has failed (null once one succeeds); after 5 "
        "days of it the webhook is disabled."
    )
    previous_secret_valid_until: datetime | None = Field(
        description="After a rotation: until when deliveries are also signed with the "
        "previous secret."
    )
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Goes up with each change; the `ETag` is built from it.")


class WebhookWithSecret(WebhookRead):
    secret: str = Field(
        description="The signing secret (Standard Webhooks: `whsec_` and base64). Shown only "
        "in this response: store it now. Verify deliveries with it.",
        json_schema_extra={"examples": ["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD2uGZ2K6jpg0="]},
    )


class AttemptRead(BaseModel):
    attempted_at: datetime
    status_code: int | None = Field(description="The endpoint's HTTP status; null when none.")
    duration_ms: int = Field(description="From sending the request to the end of the excerpt.")
    response_excerpt: str | None = Field(description="The start of the response body (4 KiB).")
    error: str | None = Field(description="Why the attempt failed without a status (timeout…).")


MAX_ATTEMPTS_SHOWN = 25


class DeliveryRead(BaseModel):
    id: str
    webhook_id: str
    event_id: str = Field(
        description="The event's id, sent as the `webhook-id` header (the same on every retry, "
        "so receivers can drop duplicates); a test ping's own id."
    )
    event_type: str = Field(description="The event's type, or `webhook.test` for a test ping.")
    state: DeliveryState
    attempt_count: int = Field(description="Attempts made so far.")
    next_attempt_at: datetime | None = Field(description="When it is tried next, while pending.")
    last_status: int | None = Field(description="The last attempt's HTTP status.")
    last_error: str | None = Field(description="Why the last attempt failed.")
    created_at: datetime
    delivered_at: datetime | None = Field(description="When an attempt last succeeded.")
    attempts: list[AttemptRead] = Field(
        description=f"The latest {MAX_ATTEMPTS_SHOWN} attempts, oldest first."
    )


class DeliveryFilters(BaseModel):
    """What a list of deliveries is narrowed to (the list's query parameters)."""

    model_config = ConfigDict(frozen=True)

    state: DeliveryState | None = None
