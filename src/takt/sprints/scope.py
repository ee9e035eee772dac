"""Sprint membership of items: who may join or leave which sprint, and the scope-change events.

Used by the items service (an item's `sprint_id` changes) and the sprints service (scope
endpoints, carry-over), so it depends on neither.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.errors import Conflict, ValidationFailed
from takt.core.events import HasId, emit
from takt.sprints import repository as repo
from takt.sprints.events import SprintScopeChanged
from takt.sprints.models import Sprint


class SprintReadOnly(Conflict):
    """This sprint is completed or cancelled: its scope can't change any more."""

    code = "sprint-read-only"
    title = "Sprint is read-only"


async def joinable(session: AsyncSession, project_id: str, sprint_id: str) -> Sprint:
    sprint = await repo.get_in_project(session, project_id, sprint_id)
    if sprint is None:
        raise ValidationFailed(
            "No such sprint in this project.",
            errors=[{"pointer": "/sprint_id", "message": "not a sprint of this project"}],
        )
    if sprint.state in ("completed", "cancelled"):
        raise SprintReadOnly(f"Sprint {sprint.name!r} is {sprint.state}.")
    return sprint


async def leavable(session: AsyncSession, project_id: str, sprint_id: str) -> Sprint | None:
    sprint = await repo.get_in_project(session, project_id, sprint_id)
    if sprint is not None and sprint.state == "completed":
        raise SprintReadOnly(f"Sprint {sprint.name!r} is completed; its items stay with it.")
    return sprint


async def record(
    session: AsyncSession,
    project: HasId,
    actor: HasId,
    sprint: Sprint,
    *,
    item: HasId,
    key: str,
    change: str,
    estimate: float | None,
    reason: str | None = None,
) -> None:
    """`sprint.scope_changed`: after the start this is scope change, with the estimate the item
    had at that moment."""
    await emit(
        session,
        SprintScopeChanged(
            sprint_id=sprint.id,
            key=key,
            change=change,
            estimate=estimate,
            after_start=sprint.state == "active",
            reason=reason,
        ),
        project,
        actor,
        subject=item,
    )
