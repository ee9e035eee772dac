"""The event envelope of the event log and the live stream (docs/events.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Actor(BaseModel):
    id: str | None
    username: str | None


class EventRead(BaseModel):
    id: str
    type: str = Field(examples=["item.updated"])
    occurred_at: datetime
    project_key: str | None
    actor: Actor | None
    data: dict[str, Any]
    changes: dict[str, list[Any]] | None = Field(description="field → [old, new].")
    imported: bool = Field(
        False,
        description="Brought in by a project import: history from elsewhere, not an act on this "
        "server. Its `actor` is null and `imported_actor` names who the document said did it.",
    )
    imported_actor: str | None = Field(
        None, description="For imported events: the actor's username as the document gave it."
    )


class EventPage(BaseModel):
    data: list[EventRead]
    next_cursor: str | None = Field(
        description="Resume from here: pass as `after` (event log) or `cursor` (history)."
    )


class EventTypeRead(BaseModel):
    type: str = Field(examples=["item.updated"], description="The event's `type`.")
    description: str = Field(description="When it is written and what it means.")
    data_schema: dict[str, Any] = Field(description="JSON Schema of the event's `data`.")
    changes_schema: dict[str, Any] | None = Field(
        description="JSON Schema of its `changes` (field → [old, new]); null if it has none."
    )


class EventTypeList(BaseModel):
    data: list[EventTypeRead]


# What a stream looks like on the wire (the OpenAPI example of both streaming operations).
STREAM_EXAMPLE = (
    "id: eyJzIjoiZXZlbnQtbG9nIiwiayI6WzAsNDJdfQ.kX3rWcN0bq2tEw1S9c5YfA\n"
    "event: item.updated\n"
    'data: {"id":"0b6c…","type":"item.updated","occurred_at":"2026-11-27T09:00:00Z",'
    '"project_key":"DEMO","actor":{"id":"4f1e…","username":"maya"},"data":{"key":"DEMO-7"},'
    '"changes":{"priority":["low","high"]},"imported":false,"imported_actor":null}\n'
    "\n"
    ": keep-alive\n"
    "\n"
)
