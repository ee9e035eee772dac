"""What stand-ups ask of blockers: raise the ones an entry names (through blockers' service),
the project's open blockers for the summary, a member's for their draft."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from takt.blockers import repository as blockers_repo
from takt.blockers import service as blockers
from takt.blockers.events import BlockerRaised
from takt.blockers.models import Blocker
from takt.blockers.repository import BlockerRow
from takt.blockers.schemas import BlockerCreate, BlockerRead
from takt.blockers.views import blocker_reads
from takt.core.errors import ValidationFailed
from takt.core.time import utcnow
from takt.projects.models import Project
from takt.projects.policies import ProjectAccess
from takt.standups import repository as repo


async def _open_rows(
    session: AsyncSession, project_id: str, *, raised_by: str | None = None, limit: int
) -> list[BlockerRow]:
    stmt = (
        blockers_repo.blockers_of(project_id, state="open", raised_by=raised_by)
        .order_by(Blocker.raised_at, Blocker.id)
        .limit(limit)
    )
    return [BlockerRow.of(row) for row in await session.execute(stmt)]


async def count_open(session: AsyncSession, project_id: str) -> int:
    counted = blockers_repo.blockers_of(project_id, state="open").subquery()
    return int(await session.scalar(select(func.count()).select_from(counted)) or 0)


async def open_blockers(
    session: AsyncSession, project: Project, *, limit: int
) -> tuple[list[BlockerRead], int]:
    """The project's open blockers, oldest first, aged now (at most `limit`), and how many are
    open in all (counted only when there are more than listed)."""
    rows = await _open_rows(session, project.id, limit=limit)
    count = len(rows) if len(rows) < limit else await count_open(session, project.id)
    return blocker_reads(rows, project, now=utcnow()), count


@dataclass(frozen=True)
class RaisedBlocker:
    id: str
    item_key: str
    reason: str
    raised_at: datetime
    event_id: str | None


async def open_raised_by(
    session: AsyncSession, project_id: str, user_id: str, *, limit: int
) -> list[RaisedBlocker]:
    """The open blockers the member raised, oldest first, each with its `blocker.raised` event
    (two statements)."""
    rows = await _open_rows(session, project_id, raised_by=user_id, limit=limit)
    events = await repo.events_of_subjects(
        session, BlockerRaised.event_type, [row.blocker.id for row in rows]
    )
    return [
        RaisedBlocker(
            id=row.blocker.id,
            item_key=row.item_key,
            reason=row.blocker.reason,
            raised_at=row.blocker.raised_at,
            event_id=events.get(row.blocker.id, (None, None))[0],
        )
        for row in rows
    ]


async def raise_new(
    session: AsyncSession,
    access: ProjectAccess,
    raised_ids: Sequence[str],
    wanted: Sequence[BlockerCreate],
) -> list[str]:
    """Raise each of `wanted` that is not one of the entry's blockers still open (the same
    item and reason): submitting an entry again raises nothing twice. A blocker of the entry
    that was resolved since is raised anew when the entry names it again (the work is stuck
    again). Returns the ids raised."""
    held: set[tuple[str, str]] = set()
    if raised_ids:
        stmt = blockers_repo.blockers_of(access.project.id, state="open").where(
            Blocker.id.in_(list(raised_ids))
        )
        held = {
            (row.item_key, row.blocker.reason)
            for row in (BlockerRow.of(r) for r in await session.execute(stmt))
        }
    raised = []
    for index, data in enumerate(wanted):
        if (data.item_key, data.reason) in held:
            continue
        try:
            row = await blockers.raise_blocker(session, access, data)
        except ValidationFailed as exc:
            # Blockers point into a blocker's body; here that body is one of the entry's.
            raise exc.under(f"/blockers/{index}") from None
        held.add((data.item_key, data.reason))
        raised.append(row.blocker.id)
    return raised
