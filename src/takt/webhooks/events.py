"""The events of webhooks: the catalogue's `webhook.*`.

None of them carries a signing secret, a Slack webhook's full URL or the credentials of a URL's
userinfo: `url` is what the API shows (the whole URL of a standard webhook with its userinfo's
credentials masked, only the scheme and host of a Slack one).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from takt.core.events import EventChanges, EventData

_URL = "The URL as the API shows it: the whole URL, or only scheme and host for `slack`."


class WebhookCreated(EventData):
    """A project admin added a webhook endpoint."""

    event_type: ClassVar[str] = "webhook.created"
    id: str
    kind: Literal["standard", "slack"]
    url: str = Field(description=_URL)
    event_types: list[str] = Field(description="The filter: types, `family.*` or `*`.")


class WebhookChanges(EventChanges):
    """The fields a `webhook.updated` event may change, each as `[old, new]`."""

    url: tuple[str, str] | None = Field(None, description=_URL)
    event_types: tuple[list[str], list[str]] | None = None
    description: tuple[str | None, str | None] | None = None
    enabled: tuple[bool, bool] | None = None


class WebhookUpdated(EventData):
    """A webhook's URL, event filter or description changed, or it was switched off or on."""

    event_type: ClassVar[str] = "webhook.updated"
    changes_model: ClassVar[type[EventChanges] | None] = WebhookChanges
    id: str
    kind: Literal["standard", "slack"]
    url: str = Field(description=_URL)


class WebhookDeleted(EventData):
    """A webhook was deleted, with its delivery log."""

    event_type: ClassVar[str] = "webhook.deleted"
    id: str
    kind: Literal["standard", "slack"]
    url: str = Field(description=_URL)


class WebhookSecretRotated(EventData):
    """A webhook got a new signing secret; deliveries carry a signature with the previous one
    too until `previous_valid_until` (null: the previous one stopped at once)."""

    event_type: ClassVar[str] = "webhook.secret_rotated"
    id: str
    previous_valid_until: str | None = Field(description="ISO 8601 timestamp, UTC.")


class WebhookDisabled(EventData):
    """Takt stopped calling a webhook: it answered 410 Gone, or every delivery failed for 5 days.
    The actor is null when Takt did it. Enable it again with `PATCH /webhooks/{id}`."""

    event_type: ClassVar[str] = "webhook.disabled"
    id: str
    kind: Literal["standard", "slack"]
    url: str = Field(description=_URL)
    reason: str = Field(description="Why, e.g. `the endpoint answered 410 Gone`.")
