"""Queries of statuses and labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from takt.workflow.models import Label, Status


async def statuses(session: AsyncSession, project_id: str) -> Sequence[Status]:
    return (
        await session.scalars(
            select(Status).where(Status.project_id == project_id).order_by(Status.position)
        )
    ).all()


async def get_status(session: AsyncSession, project_id: str, status_id: str) -> Status | None:
    return await session.scalar(
        select(Status).where(Status.project_id == project_id, Status.id == status_id)
    )


async def find_status(session: AsyncSession, project_id: str, name_or_id: str) -> Status | None:
    """By id, or by name ignoring case."""
    status, _ = await find_status_and(session, project_id, name_or_id, None)
    return status


async def find_status_and(
    session: AsyncSession, project_id: str, name_or_id: str, other_id: str | None
) -> tuple[Status | None, Status | None]:
    """`find_status`, and the status `other_id` (an item's current one, which an update compares
    with), from one read of the project's statuses (a workflow has at most 50). Names are
    matched here, not with SQL's lower(): SQLite's folds only ASCII, so "Überprüfung" was not
    found there even spelled exactly. An id or the exact spelling wins over another case."""
    found = await statuses(session, project_id)
    folded = name_or_id.lower()
    match = next((s for s in found if s.id == name_or_id or s.name == name_or_id), None) or next(
        (s for s in found if s.name.lower() == folded), None
    )
    other = next((s for s in found if s.id == other_id), None) if other_id is not None else None
    return match, other


async def first_status(session: AsyncSession, project_id: str, category: str) -> Status | None:
    return await session.scalar(
        select(Status)
        .where(Status.project_id == project_id, Status.category == category)
        .order_by(Status.position)
        .limit(1)
    )


async def shift_positions(session: AsyncSession, project_id: str, start: int, by: int) -> None:
    await session.execute(
        update(Status)
        .where(Status.project_id == project_id, Status.position >= start)
        .values(position=Status.position + by)
    )


async def labels(session: AsyncSession, project_id: str) -> Sequence[Label]:
    return (
        await session.scalars(
            select(Label).where(Label.project_id == project_id).order_by(Label.name)
        )
    ).all()


async def get_label(session: AsyncSession, project_id: str, label_id: str) -> Label | None:
    return await session.scalar(
        select(Label).where(Label.project_id == project_id, Label.id == label_id)
    )


async def labels_by_name(
    session: AsyncSession, project_id: str, names: Sequence[str]
) -> dict[str, Label]:
    """Labels of the project by lower-cased name, for `names` in any case. Matched here from the
    project's labels (at most 500), not with SQL's lower(), which on SQLite folds only ASCII: a
    label "Übersetzung" was neither found nor kept from having an "ÜBERSETZUNG" twin there."""
    if not names:
        return {}
    lowered = {n.lower() for n in names}
    rows = await session.scalars(select(Label).where(Label.project_id == project_id))
    return {label.name.lower(): label for label in rows if label.name.lower() in lowered}


async def replace_workflow(
    session: AsyncSession,
    project_id: str,
    statuses: Sequence[dict[str, Any]],
    labels: Sequence[dict[str, Any]],
) -> None:
    """An imported project's statuses and labels in place of the default workflow (which no
    item uses yet)."""
    await session.execute(delete(Status).where(Status.project_id == project_id))
    await session.execute(delete(Label).where(Label.project_id == project_id))
    for model, rows in ((Status, statuses), (Label, labels)):
        if rows:
            await session.execute(
                insert(model), [{**row, "project_id": project_id} for row in rows]
            )
