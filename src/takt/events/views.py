"""Stored events and the catalogue to the API's response shapes."""

from __future__ import annotations

from takt.core.events import Event
from takt.events.catalogue import EventType
from takt.events.schemas import Actor, EventRead, EventTypeRead


def event_read(event: Event, username: str | None, project_key: str | None) -> EventRead:
    return EventRead(
        id=event.id,
        type=event.type,
        occurred_at=event.occurred_at,
        project_key=project_key,
        actor=Actor(id=event.actor_id, username=username) if event.actor_id else None,
        data=event.data,
        changes=event.changes,
        imported=event.imported,
        imported_actor=event.actor_name,
    )


def event_type_read(declared: EventType) -> EventTypeRead:
    return EventTypeRead(
        type=declared.type,
        description=declared.description,
        data_schema=declared.data_schema,
        changes_schema=declared.changes_schema,
    )
