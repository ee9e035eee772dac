"""Queries of the event log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import User
from takt.core.events import Event, committed_horizon


def _with_actor() -> Select[Event, str | None]:
    return select(Event, User.username).outerjoin(User, User.id == Event.actor_id)


def project_events(
    project_id: str, types: Sequence[str] | None, dialect: str
) -> Select[Event, str | None]:
    """The project's events that a cursor may hand out: in commit order, none still in flight."""
    stmt = _with_actor().where(Event.project_id == project_id)
    horizon = committed_horizon(dialect)
    if horizon is not None:
        stmt = stmt.where(horizon)
    if types:
        stmt = stmt.where(Event.type.in_(list(types)))
    return stmt


def subject_events(subject_id: str) -> Select[Event, str | None]:
    return _with_actor().where(Event.subject_id == subject_id)


# Export and import (`takt.transfer`) ----------------------------------------------------------


async def project_log(session: AsyncSession, project_id: str) -> list[Event]:
    """The project's whole event log, oldest first."""
    return list(
        await session.scalars(
            select(Event).where(Event.project_id == project_id).order_by(Event.seq)
        )
    )


async def replace_project_log(
    session: AsyncSession, project_id: str, rows: Sequence[dict[str, Any]]
) -> None:
    """An imported project's log is the history its document brings: the events its creation
    wrote a moment ago would be a second beginning, so they give way to it. Every row is marked
    `imported`."""
    await session.execute(delete(Event).where(Event.project_id == project_id))
    if rows:
        await session.execute(
            insert(Event),
            [{**row, "project_id": project_id, "imported": True} for row in rows],
        )
