"""Queries of statuses and labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
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
    with) in the same query."""
    wanted = (Status.id == name_or_id) | (func.lower(Status.name) == name_or_id.lower())
    if other_id is not None:
        wanted = wanted | (Status.id == other_id)
    found = (
        await session.scalars(select(Status).where(Status.project_id == project_id, wanted))
    ).all()
    match = next(
        (s for s in found if s.id == name_or_id or s.name.lower() == name_or_id.lower()), None
    )
    other = next((s for s in found if s.id == other_id), None)
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
    """Labels of the project by lower-cased name."""
    if not names:
        return {}
    lowered = sorted({n.lower() for n in names})
    rows = await session.scalars(
        select(Label).where(Label.project_id == project_id, func.lower(Label.name).in_(lowered))
    )
    return {label.name.lower(): label for label in rows}


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
