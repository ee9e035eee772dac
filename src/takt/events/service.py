"""Reading the event log: a project's log by cursor, and one subject's history."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.events import Event
from takt.core.pagination import PageRequest, SortKey
from takt.events import repository as repo
from takt.projects.policies import ProjectAccess

# The cursor order (see takt.core.events.committed_horizon): commit order on both databases.
POSITION = [SortKey(Event.tx), SortKey(Event.seq)]
LOG_SORT = "event-log"


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
