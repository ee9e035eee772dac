"""Shapes of the inbound webhooks' answers and of the inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from typing_extensions import TypeAliasType

from takt.delivery.schemas import Provider

InboxState = TypeAliasType(
    "InboxState", Literal["received", "retrying", "processed", "ignored", "failed"]
)


class HookAccepted(BaseModel):
    id: str = Field(description="The delivery's id in Takt's inbox.")
    duplicate: bool = Field(
        description="true: this delivery id was received before; nothing new was queued."
    )


class InboundDeliveryRead(BaseModel):
    id: str = Field(description="The delivery's id in Takt's inbox.")
    repository_id: str
    provider: Provider
    delivery_id: str = Field(
        description="The provider's delivery id (`X-GitHub-Delivery`, `X-Gitlab-Event-UUID`), "
        "or `sha256:` and the body's hash when it sent none."
    )
    event: str = Field(examples=["pull_request"])
    action: str | None = Field(description="The payload's action, once processed.")
    state: InboxState = Field(
        description="`received`: queued; `retrying`: an attempt failed, another comes; "
        "`processed`: its effects are recorded; `ignored`: an event or action Takt doesn't use; "
        "`failed`: it can't be processed (see `reason`), redeliver it once fixed."
    )
    attempts: int = Field(description="Processing attempts so far.")
    reason: str | None = Field(description="Why it failed, is retried or was ignored.")
    size_bytes: int
    received_at: datetime
    processed_at: datetime | None
