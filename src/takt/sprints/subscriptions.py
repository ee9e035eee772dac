"""How sprints follow their items: the checks and scope records of an item's move between
sprints (hooks of `takt.items.hooks`, run in the move's transaction), and the sprint lookups
items asks for (`takt.items.sprint_directory`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from takt.items import sprint_directory
from takt.items.hooks import SprintChanged, SprintChanging, sprint_changed, sprint_changing
from takt.items.sprint_directory import SprintIdColumn, SprintView
from takt.sprints import repository as repo
from takt.sprints import scope


async def check_sprint_change(session: AsyncSession, change: SprintChanging) -> None:
    """The sprint the item leaves must let it go; the one it joins must take it."""
    scope.check_leavable(change.left)
    if change.joined_id is not None:
        scope.check_joinable(change.joined_id, change.joined)


async def record_sprint_change(session: AsyncSession, change: SprintChanged) -> None:
    """A `sprint.scope_changed` for the sprint left (removed) and the one joined (added)."""
    item, access = change.item, change.access
    for sprint, kind in ((change.left, "removed"), (change.joined, "added")):
        if sprint is not None:
            await scope.record(
                session,
                access.project,
                access.principal,
                sprint,
                item=item,
                key=item.key,
                change=kind,
                estimate=item.estimate,
                reason=change.reason,
            )


class Directory:
    """Items' sprint lookups (`takt.items.sprint_directory.SprintDirectory`), answered from
    this domain's repository."""

    async def find(
        self, session: AsyncSession, project_id: str, sprint_ids: Sequence[str]
    ) -> Mapping[str, SprintView]:
        if not sprint_ids:
            return {}
        # Items ask for a move (or a trash or restore) in or out of these sprints: their state
        # must hold until the move commits (repo.hold_in_project).
        return {s.id: s for s in await repo.hold_in_project(session, project_id, sprint_ids)}

    def names(self, project_id: str) -> Select[str, str]:
        return repo.names_in_project(project_id)

    def active_ids(self, project_id: str) -> Select[str]:
        return repo.active_ids(project_id)

    def name_of(self, sprint_id: SprintIdColumn) -> Any:
        return repo.name_of(sprint_id)


DIRECTORY = Directory()


def connect() -> None:
    sprint_changing.subscribe(check_sprint_change)
    sprint_changed.subscribe(record_sprint_change)
    sprint_directory.provide(DIRECTORY)
