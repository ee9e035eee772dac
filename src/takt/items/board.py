"""The board: a sprint's (or the project's) items by status, in two queries whatever its size
(three with a sprint, which must be one of the project's; `current` names the active one)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.errors import NotFound
from takt.items import readiness, views
from takt.items import repository as repo
from takt.items.models import Item
from takt.items.sprint_directory import directory
from takt.projects.policies import ProjectAccess
from takt.workflow.models import Status

CURRENT = "current"
"""The `sprint_id` that names the project's active sprint, whichever it is."""


class NoActiveSprint(NotFound):
    """The board of the current sprint (`sprint_id=current`) was asked for, but the project has
    no active sprint: start one, or ask for the whole project's board (no `sprint_id`) or a
    sprint by its id."""

    code = "no-active-sprint"
    title = "No active sprint"


async def _sprint_shown(
    session: AsyncSession, access: ProjectAccess, sprint_id: str
) -> dict[str, str]:
    """The sprint a board shows, as `{id, name}` (one statement); `current` is the active one.
    A sprint of another project, or none at all, is not an empty board."""
    project_id = access.project.id
    names = directory().names(project_id)
    sprint_column = names.selected_columns[0]
    wanted = names.where(
        sprint_column.in_(directory().active_ids(project_id))
        if sprint_id == CURRENT
        else sprint_column == sprint_id
    )
    found = (await session.execute(wanted)).first()
    if found is None:
        if sprint_id == CURRENT:
            raise NoActiveSprint(f"Project {access.project.key} has no active sprint.")
        raise NotFound(f"There is no sprint {sprint_id!r} in project {access.project.key}.")
    return {"id": found[0], "name": found[1]}


async def build_board(
    session: AsyncSession, access: ProjectAccess, *, sprint_id: str | None, per_column: int
) -> dict[str, Any]:
    """The `Board` shape as plain data (see `views.summary`)."""
    project_id = access.project.id
    scope: list[ColumnElement[bool]] = [repo.live_in_project(project_id)]
    sprint = None
    if sprint_id is not None:
        sprint = await _sprint_shown(session, access, sprint_id)
        scope.append(Item.sprint_id == sprint["id"])

    # Columns and their counts in one query (a status with no items counts 0).
    counted = (
        select(Item.status_id, func.count().label("item_count"))
        .where(*scope)
        .group_by(Item.status_id)
        .subquery()
    )
    column_rows = await session.execute(
        select(Status, counted.c.item_count)
        .outerjoin(counted, counted.c.status_id == Status.id)
        .where(Status.project_id == project_id)
        .order_by(Status.position)
    )
    statuses: list[Status] = []
    counts: dict[str, int] = {}
    for status, item_count in column_rows:
        statuses.append(status)
        counts[status.id] = int(item_count or 0)
    # The first `per_column` items of every column by rank, in one query: one index range scan
    # per column (project, status, rank), so the cost follows the cards shown, not the project's
    # size (a window over all the project's items grew with it).
    firsts = [
        select(Item.id)
        .where(*scope, Item.status_id == status.id)
        .order_by(Item.rank, Item.id)
        .limit(per_column)
        .subquery()
        for status in statuses
        if counts.get(status.id)
    ]
    rows: list[Any] = []
    if firsts:
        shown = union_all(*(select(first.c.id) for first in firsts))
        rows = list(
            await session.execute(
                repo.item_rows().where(Item.id.in_(shown)).order_by(Item.rank, Item.id)
            )
        )
    by_status: dict[str, list[dict[str, Any]]] = {}
    dor = readiness.of_project(access.project)
    for row in rows:
        by_status.setdefault(row.status_id, []).append(views.summary(row, dor))
    columns = []
    for status in statuses:
        count = int(counts.get(status.id, 0))
        columns.append(
            {
                "status": {"id": status.id, "name": status.name, "category": status.category},
                "wip_limit": status.wip_limit,
                "count": count,
                "over_limit": status.wip_limit is not None and count > status.wip_limit,
                "items": by_status.get(status.id, []),
            }
        )
    return {"sprint_id": sprint["id"] if sprint else None, "sprint": sprint, "columns": columns}
