"""The project's event log, pulled by cursor, an item's history, and the catalogue of event
types."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from takt.auth.deps import CurrentPrincipal
from takt.core.deps import CodecDep, LimitQuery, PageDep, SessionDep
from takt.core.openapi import problems
from takt.core.pagination import PageRequest
from takt.events import service
from takt.events.catalogue import event_types
from takt.events.schemas import EventPage, EventTypeList
from takt.events.views import event_read, event_type_read
from takt.items import repository as items_repo
from takt.items.schemas import ItemKeyPath
from takt.projects.deps import ProjectAccessDep
from takt.projects.service import load_in_project

router = APIRouter()


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
    rows, next_cursor = await service.list_events(
        session, access, types=type_list, page=PageRequest(codec=codec, limit=limit, cursor=after)
    )
    return EventPage(
        data=[event_read(e, username, access.project.key) for e, username in rows],
        next_cursor=next_cursor,
    )


@router.get("/event-types", tags=["events"], responses=problems(401))
async def list_event_types(principal: CurrentPrincipal) -> EventTypeList:
    """Every event type, with the JSON Schema of its `data` and `changes` (see docs/events.md)."""
    return EventTypeList(data=[event_type_read(e) for e in event_types()])


# Documented with the items: to a client an item's history is part of the item.
@router.get("/items/{item_key}/history", tags=["items"], responses=problems(400, 401, 404))
async def item_history(
    item_key: ItemKeyPath,
    principal: CurrentPrincipal,
    session: SessionDep,
    page: PageDep,
) -> EventPage:
    """Everything that happened to the item, oldest first: who changed what, from what to what."""
    # Not found: not there, in the trash, or in a project the caller can't see.
    found = await load_in_project(
        session, principal, items_repo.ITEM_BY_KEY, item_key, missing=f"No item {item_key}."
    )
    item, project = found.child, found.access.project
    rows, next_cursor = await service.history(session, item.id, page=page)
    return EventPage(
        data=[event_read(e, username, project.key) for e, username in rows],
        next_cursor=next_cursor,
    )
