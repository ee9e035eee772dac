"""Reading the event log: a project's log by cursor, one subject's history, and what the live
stream reads (every project's new events at once, the projects a stream may show)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.principal import Principal
from takt.core.events import Event
from takt.core.pagination import CursorCodec, PageRequest, SortKey
from takt.events import repository as repo
from takt.events.repository import Position
from takt.projects.events import (
    MemberAdded,
    MemberRemoved,
    ProjectCreated,
    ProjectDeleted,
    ProjectRestored,
)
from takt.projects.policies import ProjectAccess

# The cursor order (see takt.core.events.committed_horizon): commit order on both databases.
POSITION = [SortKey(Event.tx), SortKey(Event.seq)]
LOG_SORT = "event-log"
START: Position = (0, 0)


async def list_events(
    session: AsyncSession,
    access: ProjectAccess,
    *,
    types: Sequence[str] | None,
    page: PageRequest,
) -> tuple[list[tuple[Event, str | None]], str | None]:
    """One page of the project's events in cursor order, each with its actor's username, and
    the cursor to resume from. The log goes on, so the last page hands back a cursor too (the
    one given, when there was nothing new)."""
    rows, next_cursor = await page.fetch(
        session,
        repo.project_events(access.project.id, types, session.get_bind().dialect.name),
        keys=POSITION,
        key_of=lambda row: (row[0].tx, row[0].seq),
        sort_name=LOG_SORT,
        scalars=False,
    )
    if next_cursor is None:
        next_cursor = (
            page.codec.encode(LOG_SORT, (rows[-1][0].tx, rows[-1][0].seq)) if rows else page.cursor
        )
    return [(e, username) for e, username in rows], next_cursor


async def history(
    session: AsyncSession, subject_id: str, *, page: PageRequest
) -> tuple[list[tuple[Event, str | None]], str | None]:
    """One page of the events about one subject (an item), oldest first."""
    rows, next_cursor = await page.fetch(
        session,
        repo.subject_events(subject_id),
        keys=[SortKey(Event.seq)],
        key_of=lambda row: (row[0].seq,),
        sort_name="history",
        scalars=False,
    )
    return [(e, username) for e, username in rows], next_cursor


# The live stream --------------------------------------------------------------------------------


def cursor_of(codec: CursorCodec, position: Position) -> str:
    """The cursor of a position: what the log hands out as `next_cursor` and the stream as `id`."""
    return codec.encode(LOG_SORT, position)


def position_of(codec: CursorCodec, cursor: str) -> Position:
    """The position a cursor of the log (or an `id` of the stream) names; 400 if forged."""
    tx, seq = codec.decode(cursor, LOG_SORT, len(POSITION))
    return int(tx), int(seq)


async def events_after(
    session: AsyncSession,
    position: Position,
    *,
    project_ids: Sequence[str] | None = None,
    types: Sequence[str] | None = None,
    limit: int,
) -> list[tuple[Event, str | None, str]]:
    """Up to `limit` events after `position` in cursor order (of these projects and types, or
    all), each with its actor's username and its project's key."""
    stmt = repo.events_after(
        position,
        session.get_bind().dialect.name,
        project_ids=project_ids,
        types=types,
        limit=limit,
    )
    return [(event, username, key) for event, username, key in await session.execute(stmt)]


async def last_position(session: AsyncSession) -> Position:
    """Where the log ends now, for a stream that starts without a cursor."""
    row = (await session.execute(repo.last_position(session.get_bind().dialect.name))).first()
    return (row[0], row[1]) if row else START


async def visible_projects(
    session: AsyncSession, principal: Principal, project_id: str | None
) -> frozenset[str]:
    """The ids of the projects a stream may show the principal: all it can see (`project_id`
    None), or that one project if it can see it (else none)."""
    rows = await session.execute(repo.visible_projects(principal, project_id))
    return frozenset(row[0] for row in rows)


# Events that change who sees their project, with the payload key naming the member.
SIGHT_EVENTS = frozenset(
    declared.event_type
    for declared in (ProjectCreated, ProjectDeleted, ProjectRestored, MemberAdded, MemberRemoved)
)
_MEMBER_KEY = MemberAdded.payload_key("user_id")


def sight_change(event: Event, project_key: str, principal: Principal) -> bool | None:
    """What a committed event says about whether `principal` sees the event's project from now
    on: True (it joined or created the project; an instance admin sees a new or restored one),
    False (it left, or the project was deleted), None (nothing). The live stream follows these
    at once so a stream over every visible project misses nothing of a project just joined;
    its periodic re-check through the visibility rule (`visible_projects`) stays the judge."""
    if principal.project_keys is not None and project_key not in principal.project_keys:
        return None
    kind = event.type
    if kind == ProjectDeleted.event_type:
        return False
    if kind in (ProjectCreated.event_type, ProjectRestored.event_type) and principal.is_admin:
        return True
    if kind == ProjectCreated.event_type:
        return True if event.actor_id == principal.id else None
    if event.data.get(_MEMBER_KEY) != principal.id:
        return None
    if kind == MemberAdded.event_type:
        return True
    if kind == MemberRemoved.event_type and not principal.is_admin:
        return False
    return None
