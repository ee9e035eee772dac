"""Stored events and the catalogue to the API's response shapes, and the live stream's frames."""

from __future__ import annotations

from takt.core.events import Event, envelope
from takt.core.openapi import json_bytes
from takt.events.catalogue import EventType
from takt.events.schemas import EventRead, EventTypeRead

# A comment line: clients ignore it; proxies and load balancers see a live connection.
HEARTBEAT = b": keep-alive\n\n"


def event_read(event: Event, username: str | None, project_key: str | None) -> EventRead:
    return EventRead.model_validate(envelope(event, username, project_key))


def event_type_read(declared: EventType) -> EventTypeRead:
    return EventTypeRead(
        type=declared.type,
        description=declared.description,
        data_schema=declared.data_schema,
        changes_schema=declared.changes_schema,
    )


def event_frame(cursor: str, event: Event, username: str | None, project_key: str) -> bytes:
    """One server-sent event: `id` the cursor to resume after it, `event` its type, `data` the
    envelope of the log on one line (JSON escapes every newline), then a blank line."""
    data = json_bytes(envelope(event, username, project_key))
    return b"id: %b\nevent: %b\ndata: %b\n\n" % (cursor.encode(), event.type.encode(), data)


def closing_comment(reason: str) -> bytes:
    """The last line of a stream the server ends: a comment saying why (clients ignore it)."""
    return b": closed: %b\n\n" % reason.encode()
