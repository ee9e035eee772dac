"""The project's event log, pulled by cursor or streamed live (server-sent events), the stream
over every visible project, an item's history, and the catalogue of event types."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import Response

from takt.auth.deps import CurrentPrincipal, bearer_scheme
from takt.core.deps import CodecDep, LimitQuery, PageDep, SessionDep
from takt.core.errors import NotAcceptable
from takt.core.openapi import problems
from takt.core.pagination import PageRequest
from takt.core.problems import Problem
from takt.events import service
from takt.events.catalogue import event_types
from takt.events.schemas import STREAM_EXAMPLE, EventPage, EventTypeList
from takt.events.stream import EventStreamResponse, open_stream
from takt.events.views import event_read, event_type_read
from takt.items import repository as items_repo
from takt.items.schemas import ItemKeyPath
from takt.projects.deps import ProjectAccessDep
from takt.projects.service import load_in_project

router = APIRouter()

EVENT_STREAM = EventStreamResponse.media_type
AfterQuery = Annotated[
    str | None,
    Query(
        max_length=1024,
        description="Cursor: events after this one (a `next_cursor` of the log, or an `id` of "
        "the stream).",
    ),
]
TypesQuery = Annotated[
    str | None,
    Query(
        max_length=1000,
        description="Comma-separated event types, e.g. `item.created,item.updated`; only those.",
        examples=["item.created,item.updated"],
    ),
]
LastEventIdHeader = Annotated[
    str | None,
    Header(
        max_length=1024,
        description="Stream only: resume after this event (the `id` of the last one received;"
        " an `EventSource` sends it by itself when it reconnects). Wins over `after`.",
    ),
]
Bearer = Annotated[str | None, Depends(bearer_scheme)]
# A stream over the caller's allowance of open streams is refused before it starts.
TOO_MANY_STREAMS = (
    "`too-many-streams`: your user already has as many live streams open as one user may"
    " (`TAKT_SSE_MAX_STREAMS_PER_USER`, per API process, all of your tokens together); close one"
)


def _stream_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            EVENT_STREAM: {
                "schema": {"type": "string", "description": "Server-sent events."},
                "example": STREAM_EXAMPLE,
            }
        },
    }


def _type_list(types: str | None) -> list[str] | None:
    return [t.strip() for t in types.split(",") if t.strip()][:50] if types else None


def _wants_stream(request: Request) -> bool:
    accepted = request.headers.get("accept", "").split(",")
    return any(media.split(";")[0].strip().lower() == EVENT_STREAM for media in accepted)


@router.get(
    "/projects/{project_key}/events",
    tags=["events"],
    response_model=EventPage,
    responses={
        200: _stream_response(
            "A page of the log (`application/json`) or, with `Accept: text/event-stream`, the "
            "live stream: each event as `id` (its cursor), `event` (its type) and `data` (its "
            "envelope), and `: keep-alive` comments in quiet times (docs/events.md)."
        ),
        **problems(400, 401, 404, 422),
        429: {
            "model": Problem,
            "description": f"Rate limited or, for a stream, {TOO_MANY_STREAMS}. See `Retry-After`.",
        },
    },
)
async def list_events(
    request: Request,
    access: ProjectAccessDep,
    session: SessionDep,
    codec: CodecDep,
    token: Bearer,
    after: AfterQuery = None,
    types: TypesQuery = None,
    limit: LimitQuery = 50,
    last_event_id: LastEventIdHeader = None,
) -> Any:
    """Events of the project, oldest first. Poll with `after=<next_cursor>` for new ones, or
    send `Accept: text/event-stream` to have them streamed as they happen."""
    type_list = _type_list(types)
    if _wants_stream(request):
        return await open_stream(
            request.app.state,
            session,
            access.principal,
            token or "",
            project_id=access.project.id,
            types=type_list,
            cursor=last_event_id or after,
        )
    rows, next_cursor = await service.list_events(
        session, access, types=type_list, page=PageRequest(codec=codec, limit=limit, cursor=after)
    )
    return EventPage(
        data=[event_read(e, username, access.project.key) for e, username in rows],
        next_cursor=next_cursor,
    )


@router.get(
    "/events/stream",
    tags=["events"],
    status_code=200,
    response_class=EventStreamResponse,
    responses={
        200: _stream_response(
            "The live stream of every project you can see, in commit order: each event as `id`"
            " (its cursor), `event` (its type) and `data` (its envelope, with `project_key`),"
            " and `: keep-alive` comments in quiet times (docs/events.md)."
        ),
        **problems(400, 401, 422),
        429: {
            "model": Problem,
            "description": f"{TOO_MANY_STREAMS}. Or rate limited. See `Retry-After`.",
        },
        406: {
            "model": Problem,
            "description": "Sent without `Accept: text/event-stream`: this is a stream only.",
        },
    },
)
async def stream_events(
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    token: Bearer,
    after: AfterQuery = None,
    types: TypesQuery = None,
    last_event_id: LastEventIdHeader = None,
) -> Response:
    """One live stream of the events of every project you can see (server-sent events only:
    send `Accept: text/event-stream`)."""
    if not _wants_stream(request):
        raise NotAcceptable(
            "This is a live stream of server-sent events: send `Accept: text/event-stream`. To"
            " pull a project's events as JSON pages, use `GET /projects/{project_key}/events`."
        )
    return await open_stream(
        request.app.state,
        session,
        principal,
        token or "",
        project_id=None,
        types=_type_list(types),
        cursor=last_event_id or after,
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
