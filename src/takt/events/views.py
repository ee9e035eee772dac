"""Stored events and the catalogue to the API's response shapes."""

from __future__ import annotations

from takt.core.events import Event, envelope
from takt.events.catalogue import EventType
from takt.events.schemas import EventRead, EventTypeRead


def event_read(event: Event, username: str | None, project_key: str | None) -> EventRead:
    return EventRead.model_validate(envelope(event, username, project_key))


def event_type_read(declared: EventType) -> EventTypeRead:
    return EventTypeRead(
        type=declared.type,
        description=declared.description,
        data_schema=declared.data_schema,
        changes_schema=declared.changes_schema,
    )
