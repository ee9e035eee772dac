"""Readiness (PRODUCT.md §4.4, docs/refinement.md): an item is `ready` when it has an estimate, a
description and every entry of its project's Definition of Ready ticked.

The Definition of Ready is a checklist in the project's settings (`settings.definition_of_ready`,
`takt.projects.schemas.DorEntry`: an id and a text). An item keeps the ids it has ticked in its
own row (`Item.dor_checked`), so reading an item's readiness costs no statement: lists read the
checklist once (the project is already loaded) and every row carries its ticks. Only ticks of
entries still on the checklist count, so editing the checklist keeps the ticks of the entries it
keeps, and a removed entry stops counting at once, without touching any item.

What an item lacks is `missing`, in this order: `estimate`, `description` (empty), then
`dor:<entry id>` for each entry not ticked, in the checklist's order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.concurrency import claim
from takt.core.errors import ValidationFailed
from takt.core.events import emit
from takt.core.pagination import PageRequest
from takt.core.time import utcnow
from takt.items import repository as repo
from takt.items.events import ItemChanges, ItemUpdated
from takt.items.models import Item
from takt.items.repository import ItemRow
from takt.items.search import SORTS
from takt.items.sprint_directory import directory
from takt.projects.models import Project
from takt.projects.policies import ProjectAccess

ESTIMATE = "estimate"
DESCRIPTION = "description"
DOR_PREFIX = "dor:"

DorIds = tuple[str, ...]
"""The ids of a project's Definition of Ready entries, in the checklist's order."""


def entries(settings: Mapping[str, Any]) -> list[dict[str, str]]:
    """The Definition of Ready entries (`{"id", "text"}`) of a project's stored settings."""
    return list(settings.get("definition_of_ready") or ())


def dor_ids(settings: Mapping[str, Any]) -> DorIds:
    """The entry ids of a project's stored settings, in the checklist's order."""
    return tuple(str(entry["id"]) for entry in entries(settings))


def of_project(project: Project) -> DorIds:
    return dor_ids(project.settings)


def assess(
    ids: DorIds, estimate: float | None, has_description: Any, checked: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """What the item lacks (`missing`) and the entries ticked on it that still count (in the
    checklist's order)."""
    missing: list[str] = []
    if estimate is None:
        missing.append(ESTIMATE)
    if not has_description:
        missing.append(DESCRIPTION)
    if not ids:
        return missing, []
    ticked = set(checked) if checked else set()
    counted = [entry_id for entry_id in ids if entry_id in ticked]
    if len(counted) < len(ids):
        missing.extend(DOR_PREFIX + entry_id for entry_id in ids if entry_id not in ticked)
    return missing, counted


class UnknownDorEntry(ValidationFailed):
    """A ticked id is not an entry of the project's Definition of Ready. Tick only the ids the
    project's `settings.definition_of_ready` lists (`GET /api/v1/projects/{key}`, or the
    `definition_of_ready` of `GET /api/v1/projects/{key}/refinement`); an entry removed from the
    checklist can't be ticked any more."""

    code = "unknown-dor-entry"
    title = "Not an entry of the Definition of Ready"


async def set_checked(
    session: AsyncSession,
    access: ProjectAccess,
    item: Item,
    checked: Sequence[str],
    *,
    if_match: str | None,
) -> Item:
    """Tick exactly `checked` (entries left out are unticked). A change is the item's own:
    `item.updated` with `changes.dor_checked` as [old, new], in its history; nothing changed, no
    event and the same version."""
    access.require_write()
    ids = of_project(access.project)
    known = set(ids)
    unknown = [
        (f"/checked/{index}", f"{entry_id!r} is not an entry of the project's Definition of Ready")
        for index, entry_id in enumerate(checked)
        if entry_id not in known
    ]
    if unknown:
        raise UnknownDorEntry.at_each(
            unknown,
            detail="Tick only entries of the project's Definition of Ready "
            f"({', '.join(ids) if ids else 'it has none'}).",
        )
    await claim(session, item, if_match)
    _, old = assess(ids, item.estimate, True, item.dor_checked)
    wanted = set(checked)
    new = [entry_id for entry_id in ids if entry_id in wanted]
    if new != old:
        item.dor_checked = new
        item.updated_at = utcnow()
        await session.flush()
        await emit(
            session,
            ItemUpdated(key=item.key),
            access.project,
            access.principal,
            ItemChanges(dor_checked=(old, new)),
            subject=item,
        )
    return item


async def list_queue(
    session: AsyncSession, access: ProjectAccess, *, page: PageRequest
) -> tuple[list[ItemRow], str | None]:
    """One page of the refinement queue: the backlog's items that are not ready, in rank order
    (`repository.refinement_queue` says what the backlog is)."""
    project = access.project
    stmt = repo.refinement_queue(
        project.id,
        of_project(project),
        active_sprint_ids=directory().active_ids(project.id),
        dialect=session.get_bind().dialect.name,
    )
    return await page.fetch(
        session,
        stmt,
        keys=SORTS["rank"],
        key_of=lambda row: (row.rank, row.id),
        sort_name="refinement",
        scalars=False,
    )
