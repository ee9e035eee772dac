"""The trash: deleting an item moves it here for 30 days; restoring brings it back; then it is
purged for good.

A deleted item keeps its row (and so its key: numbers come from the project's sequence and are
never handed out again), marked with `deleted_at`; every read leaves it out (`repository.LIVE`).
For the sprint's numbers a deletion is a scope removal and a restore a scope addition, each with
the item's estimate at that moment, recorded as `sprint.scope_changed` like any other move.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.principal import Principal
from takt.core.concurrency import claim
from takt.core.errors import Conflict, NotFound
from takt.core.events import emit
from takt.core.time import utcnow
from takt.items import repository as repo
from takt.items.events import ItemChanges, ItemDeleted, ItemRestored
from takt.items.hooks import SprintChanged, sprint_changed
from takt.items.models import PARENT_TYPES, Item
from takt.items.sprint_directory import SprintView, directory
from takt.projects.policies import ProjectAccess
from takt.projects.service import load_in_project

# How long a deleted item can be restored; after that it is purged.
TRASH_DAYS = 30
KEPT_FOR = timedelta(days=TRASH_DAYS)


class HasChildren(Conflict):
    """This item has child items. Move or delete them first, or give them another parent."""

    code = "item-has-children"
    title = "Item has children"


class ParentInTrash(Conflict):
    """This item's parent is in the trash. Restore the parent first."""

    code = "item-parent-in-trash"
    title = "Parent is in the trash"


class ParentCantHold(Conflict):
    """This item's parent changed type while the item was in the trash, and can no longer hold
    it (epic → story → task). Change the parent's type back, then restore the item."""

    code = "item-parent-cant-hold"
    title = "Parent can't hold this item"


def kept_since(now: datetime) -> datetime:
    """Items deleted after this moment are still in the trash; older ones are (due to be)
    purged, and count as gone even before the purge has run."""
    return now - KEPT_FOR


# The sprint states whose scope a deletion or restore changes. A completed or cancelled
# sprint's numbers are frozen at its end, so they don't move.
_OPEN_SPRINT = ("planned", "active")


async def _sprint_of(session: AsyncSession, project_id: str, item: Item) -> SprintView | None:
    if item.sprint_id is None:
        return None
    return (await directory().find(session, project_id, [item.sprint_id])).get(item.sprint_id)


async def delete_item(
    session: AsyncSession, access: ProjectAccess, item: Item, *, if_match: str | None
) -> None:
    """Move the item to the trash. If its sprint is planned or active, the item leaves the
    sprint's scope (a removal, with its estimate now); it keeps its `sprint_id`, so a restore
    knows where it came from."""
    access.require_write()
    # Locks the row at its current version (412 only for a stale `If-Match`).
    await claim(session, item, if_match)
    if item.deleted_at is not None:  # trashed by a concurrent request meanwhile
        raise NotFound(f"No item {item.key}.")
    if await repo.has_children(session, item.id):
        raise HasChildren(f"{item.key} has child items.")
    now = utcnow()
    sprint = await _sprint_of(session, access.project.id, item)
    if sprint is not None and sprint.state in _OPEN_SPRINT:
        await sprint_changed.fire(
            session, SprintChanged(access, item, left=sprint, joined=None, reason="deleted")
        )
    item.deleted_at = now
    item.deleted_by_id = access.principal.id
    await session.flush()
    await emit(
        session,
        ItemDeleted(key=item.key, title=item.title, sprint_id=item.sprint_id),
        access.project,
        access.principal,
        subject=item,
    )
    # Opportunistic: the project's expired trash goes in the same write (see `purge_trash`).
    await purge_trash(session, now=now, project_id=access.project.id)


async def restore_item(
    session: AsyncSession, principal: Principal, key: str
) -> tuple[ProjectAccess, Item]:
    """Bring a trashed item back (project members, within `TRASH_DAYS`). It returns to its
    place in the backlog and to its sprint: into the scope of a planned or active sprint (a
    scope addition, with its estimate now); to the backlog if its sprint ended while it was in
    the trash (it was not part of that sprint at the end). An item deleted from an already
    finished sprint goes back to that sprint, whose numbers it was part of all along."""
    now = utcnow()
    # Read locked (PostgreSQL): a concurrent restore waits, then finds the item out of the trash.
    found = await load_in_project(
        session,
        principal,
        repo.TRASHED_BY_KEY,
        key,
        missing=f"No item {key} in the trash.",
        params={"kept_since": kept_since(now)},
        lock=True,
    )
    item, access, project = found.child, found.access, found.access.project
    access.require_write()
    await claim(session, item, None)
    if item.deleted_at is None:  # restored by a concurrent request meanwhile (SQLite re-read)
        raise NotFound(f"No item {key} in the trash.")
    # The parent held until the restore commits (repo.hold_parent): a concurrent move of the
    # parent to the trash then waits for it, and sees the restored child.
    if item.parent_id is not None:
        parent = await repo.hold_parent(session, project.id, item_id=item.parent_id)
        if parent is None:
            raise ParentInTrash(f"Restore the parent of {item.key} first.")
        if parent.type not in PARENT_TYPES[item.type]:
            # The type rule is checked only against children outside the trash: the parent may
            # have changed type since this one went in.
            raise ParentCantHold(
                f"{parent.key} is now a {parent.type}, which can't hold a {item.type}: change "
                f"its type back, then restore {item.key}."
            )
    changes: dict[str, list[object]] = {}
    sprint = await _sprint_of(session, project.id, item)
    if sprint is not None and sprint.state not in _OPEN_SPRINT:
        deleted_at = item.deleted_at
        ended_after = sprint.completed_at is None or (
            deleted_at is not None and deleted_at < sprint.completed_at
        )
        if ended_after:
            changes["sprint_id"] = [item.sprint_id, None]
            item.sprint_id = None
        sprint = None
    item.deleted_at = None
    item.deleted_by_id = None
    item.updated_at = now
    await session.flush()
    await emit(
        session,
        ItemRestored(key=item.key, title=item.title, sprint_id=item.sprint_id),
        project,
        principal,
        ItemChanges.model_validate(changes) if changes else None,
        subject=item,
    )
    if sprint is not None:
        await sprint_changed.fire(
            session, SprintChanged(access, item, left=None, joined=sprint, reason="restored")
        )
    return access, item


async def purge_trash(
    session: AsyncSession, *, now: datetime | None = None, project_id: str | None = None
) -> int:
    """Delete for good what has been in the trash for `TRASH_DAYS` (of one project, or of all):
    the item rows with their labels, links and comments; their events stay in the log, so past
    sprint numbers don't change. Returns how many items went.

    Idempotent and cheap (an index range), so it can run anywhere: each item deletion runs it
    for its project, `takt purge-trash` for every project, and the future worker on a schedule.
    Expired items are invisible even before this runs (`kept_since`)."""
    return await repo.purge_trashed(session, kept_since(now or utcnow()), project_id=project_id)
