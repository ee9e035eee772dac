"""Sprint membership of items: who may join or leave which sprint, and the scope-change events.

The items service asks through its hooks (`takt.items.hooks`, subscribed in
`takt.sprints.subscriptions`) whenever an item's sprint changes, whoever changed it: a PATCH of
the item, the sprint's scope endpoints, carry-over, the trash.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.errors import Conflict, ValidationFailed
from takt.core.events import HasId, emit
from takt.items.sprint_directory import SprintView
from takt.sprints.events import SprintScopeChanged


class SprintReadOnly(Conflict):
    """This sprint is completed or cancelled: its scope can't change any more."""

    code = "sprint-read-only"
    title = "Sprint is read-only"


def check_joinable(sprint_id: str, sprint: SprintView | None) -> None:
    """An item may join a planned or active sprint of its project (`sprint`: the one
    `sprint_id` names there, if any)."""
    if sprint is None:
        raise ValidationFailed.at(
            "/sprint_id", "not a sprint of this project", detail="No such sprint in this project."
        )
    if sprint.state in ("completed", "cancelled"):
        raise SprintReadOnly(f"Sprint {sprint.name!r} is {sprint.state}.")


def check_leavable(sprint: SprintView | None) -> None:
    """A completed sprint keeps its items (its numbers are frozen); any other lets them go."""
    if sprint is not None and sprint.state == "completed":
        raise SprintReadOnly(f"Sprint {sprint.name!r} is completed; its items stay with it.")


async def record(
    session: AsyncSession,
    project: HasId,
    actor: HasId,
    sprint: SprintView,
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
