"""What stand-ups ask of blockers: raise the ones an entry names (through blockers' service),
the project's open blockers for the summary, a member's for their draft."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from takt.blockers import repository as blockers_repo
from takt.blockers import service as blockers
from takt.blockers.events import BlockerRaised
from takt.blockers.models import Blocker
from takt.blockers.repository import BlockerRow
from takt.blockers.schemas import BlockerCreate
from takt.core.errors import ValidationFailed
from takt.core.events import Event
from takt.projects.models import Project
from takt.projects.policies import ProjectAccess

# The two reads of open blockers a summary and a draft make, each statement built once (with
# bound parameters) and reused: building the select with its aliases cost more than running it.


@functools.cache
def _open_rows_statement(limit: int, *, raised_by: bool) -> Any:
    stmt = blockers_repo.blockers_of(bindparam("project_id"), state="open")  # type: ignore[arg-type]
    if raised_by:
        raised_event = (
            select(Event.id)
            .where(Event.subject_id == Blocker.id, Event.type == BlockerRaised.event_type)
            .order_by(Event.seq)
            .limit(1)
            .correlate(Blocker)
            .scalar_subquery()
        )
        stmt = stmt.where(Blocker.raised_by_id == bindparam("user_id")).add_columns(raised_event)
    return stmt.order_by(Blocker.raised_at, Blocker.id).limit(limit)


@functools.cache
def _open_plain_statement(limit: int) -> Any:
    stmt = blockers_repo.plain_blockers_of(bindparam("project_id"), state="open")
    return stmt.order_by(Blocker.raised_at, Blocker.id).limit(limit)


@functools.cache
def _count_open_statement() -> Any:
    counted = blockers_repo.blockers_of(bindparam("project_id"), state="open").subquery()  # type: ignore[arg-type]
    return select(func.count()).select_from(counted)


async def count_open(session: AsyncSession, project_id: str) -> int:
    return int(await session.scalar(_count_open_statement(), {"project_id": project_id}) or 0)


async def open_blockers(
    session: AsyncSession, project: Project, *, limit: int
) -> tuple[list[Row[Any]], int]:
    """The project's open blockers as rows of `blockers.repository.PLAIN`, oldest first (at
    most `limit`; the views age them), and how many are open in all (counted only when there
    are more than listed)."""
    rows = list(await session.execute(_open_plain_statement(limit), {"project_id": project.id}))
    count = len(rows) if len(rows) < limit else await count_open(session, project.id)
    return rows, count


@dataclass(frozen=True)
class RaisedBlocker:
    id: str
    item_key: str
    reason: str
    raised_at: datetime
    event_id: str | None
    waiting_on: dict[str, str] | None


def waiting_on_body(row: BlockerRow) -> dict[str, str] | None:
    """What the blocker waits on in the shape of a blocker's body (`WaitingOn`), or None when
    that is not known any more (the person's account or the item is gone)."""
    blocker = row.blocker
    kind = blocker.waiting_on_kind
    if kind == "person":
        user = row.waiting_user
        return {"kind": kind, "user": user.username} if user is not None else None
    if kind == "item":
        key = row.waiting_item_key
        return {"kind": kind, "item_key": key} if key is not None else None
    name = blocker.waiting_on_name
    return {"kind": kind, "name": name} if name else None


async def open_raised_by(
    session: AsyncSession, project_id: str, user_id: str, *, limit: int
) -> list[RaisedBlocker]:
    """The open blockers the member raised, oldest first, each with its `blocker.raised` event
    (one statement)."""
    found = []
    for columns in await session.execute(
        _open_rows_statement(limit, raised_by=True), {"project_id": project_id, "user_id": user_id}
    ):
        row = BlockerRow.of(columns[:-1])
        found.append(
            RaisedBlocker(
                id=row.blocker.id,
                item_key=row.item_key,
                reason=row.blocker.reason,
                raised_at=row.blocker.raised_at,
                event_id=columns[-1],
                waiting_on=waiting_on_body(row),
            )
        )
    return found


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
