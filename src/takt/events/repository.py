"""Queries of the event log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, insert, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import User
from takt.auth.principal import Principal
from takt.core.events import Event, committed_horizon
from takt.projects.models import Project
from takt.projects.repository import restrict_to_visible

# A place in the log's cursor order: (writing transaction id, seq); see `committed_horizon`.
Position = tuple[int, int]


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


# The live stream (`takt.events.stream`) --------------------------------------------------------


def events_after(
    position: Position,
    dialect: str,
    *,
    project_ids: Sequence[str] | None,
    types: Sequence[str] | None,
    limit: int,
) -> Select[Event, str | None, str]:
    """Events of projects after `position` in cursor order that no later commit can fall behind
    (below the committed horizon), each with its actor's username and its project's key; of
    the given projects only, or of every project (the broadcaster reads them all at once)."""
    stmt = (
        select(Event, User.username, Project.key)
        .join(Project, Project.id == Event.project_id)
        .outerjoin(User, User.id == Event.actor_id)
        .where(tuple_(Event.tx, Event.seq) > tuple_(*_typed(position)))
    )
    horizon = committed_horizon(dialect)
    if horizon is not None:
        stmt = stmt.where(horizon)
    if project_ids is not None:
        stmt = stmt.where(Event.project_id.in_(list(project_ids)))
    if types:
        stmt = stmt.where(Event.type.in_(list(types)))
    return stmt.order_by(Event.tx, Event.seq).limit(limit)


def _typed(position: Position) -> tuple[Any, Any]:
    return literal(position[0], Event.tx.type), literal(position[1], Event.seq.type)


def visible_projects(principal: Principal, project_id: str | None) -> Select[str, str | None]:
    """The ids of the projects a stream may show the principal: every project it can see, or
    only `project_id` if it can see that one (through the one visibility rule)."""
    stmt = select(Project.id)
    if project_id is not None:
        stmt = stmt.where(Project.id == project_id)
    return restrict_to_visible(stmt, principal)


def last_position(dialect: str) -> Select[int, int]:
    """The position of the log's newest event a cursor may hand out (none: no row)."""
    stmt = select(Event.tx, Event.seq)
    horizon = committed_horizon(dialect)
    if horizon is not None:
        stmt = stmt.where(horizon)
    return stmt.order_by(Event.tx.desc(), Event.seq.desc()).limit(1)


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
