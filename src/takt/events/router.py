"""The project's event log, pulled by cursor, an item's history, and the catalogue of event
types."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from takt.auth.deps import CurrentPrincipal
from takt.core.deps import CodecDep, CursorQuery, LimitQuery, SessionDep
from takt.core.errors import NotFound
from takt.core.events import Event
from takt.core.openapi import problems
from takt.core.pagination import SortKey, paginate
from takt.events import repository as repo
from takt.events.catalogue import event_types
from takt.events.schemas import EventPage, EventTypeList, EventTypeRead, event_read
from takt.items import repository as items_repo
from takt.items.schemas import ItemKeyPath
from takt.projects.deps import ProjectAccessDep

router = APIRouter()
# The cursor order (see takt.core.events.committed_horizon): commit order on both databases.
POSITION = [SortKey(Event.tx), SortKey(Event.seq)]


@router.get(
    "/projects/{project_key}/events", tags=["events"], responses=problems(400, 401, 404, 422)
)
async def list_events(
    access: ProjectAccessDep,
    session: SessionDep,
    codec: CodecDep,
    after: Annotated[
        str | None,
        Query(max_length=1024, description="Cursor: events after this one (from `next_cursor`)."),
    ] = None,
    types: Annotated[
        str | None,
        Query(max_length=1000, description="Comma-separated event types, e.g. `item.created`."),
    ] = None,
    limit: LimitQuery = 50,
) -> EventPage:
    """Events of the project, oldest first. Poll with `after=<next_cursor>` for new ones."""
    type_list = [t.strip() for t in types.split(",") if t.strip()][:50] if types else None
    rows, next_cursor = await paginate(
        session,
        repo.project_events(access.project.id, type_list, session.get_bind().dialect.name),
        keys=POSITION,
        key_of=lambda row: (row[0].tx, row[0].seq),
        codec=codec,
        sort_name="event-log",
        limit=limit,
        cursor=after,
        scalars=False,
    )
    if next_cursor is None:
        # The log goes on: hand back a cursor to resume from even on the last page.
        next_cursor = (
            codec.encode("event-log", (rows[-1][0].tx, rows[-1][0].seq)) if rows else after
        )
    return EventPage(
        data=[event_read(e, username, access.project.key) for e, username in rows],
        next_cursor=next_cursor,
    )


@router.get("/event-types", tags=["events"], responses=problems(401))
async def list_event_types(principal: CurrentPrincipal) -> EventTypeList:
    """Every event type, with the JSON Schema of its `data` and `changes` (see docs/events.md)."""
    return EventTypeList(
        data=[
            EventTypeRead(
                type=e.type,
                description=e.description,
                data_schema=e.data_schema,
                changes_schema=e.changes_schema,
            )
            for e in event_types()
        ]
    )


# Documented with the items: to a client an item's history is part of the item.
@router.get("/items/{item_key}/history", tags=["items"], responses=problems(400, 401, 404))
async def item_history(
    item_key: ItemKeyPath,
    principal: CurrentPrincipal,
    session: SessionDep,
    codec: CodecDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> EventPage:
    """Everything that happened to the item, oldest first: who changed what, from what to what."""
    found = await items_repo.get_visible_item(session, principal, item_key)
    if found is None:  # not there, in the trash, or in a project the caller can't see
        raise NotFound(f"No item {item_key}.")
    item, project, _, _ = found
    rows, next_cursor = await paginate(
        session,
        repo.subject_events(item.id),
        keys=[SortKey(Event.seq)],
        key_of=lambda row: (row[0].seq,),
        codec=codec,
        sort_name="history",
        limit=limit,
        cursor=cursor,
        scalars=False,
    )
    return EventPage(
        data=[event_read(e, username, project.key) for e, username in rows],
        next_cursor=next_cursor,
    )
