"""Queries of the event log."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select

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

