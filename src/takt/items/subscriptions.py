"""How work items follow the lower domains' changes: a status that is retired or changes
category takes its items along (hooks of `takt.workflow.hooks`, run in the edit's transaction),
and they start and finish then as if they had been moved (METRICS.md, Flow)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.events import emit_each
from takt.core.time import utcnow
from takt.items import repository as repo
from takt.items.events import ItemChanges, ItemUpdated
from takt.projects.policies import ProjectAccess
from takt.workflow.hooks import (
    StatusRecategorised,
    StatusRetired,
    status_recategorised,
    status_retired,
)
from takt.workflow.models import Status
from takt.workflow.service import StatusInUse


async def _record_items_changed(
    session: AsyncSession, access: ProjectAccess, status: Status, changes: dict[str, list[Any]]
) -> None:
    """An `item.updated` event for each item in `status`, which a workflow edit changes: so
    burndowns, reports and flow metrics replayed from the log agree with the items as they are."""
    item_changes = ItemChanges.model_validate(changes)
    await emit_each(
        session,
        access.project,
        access.principal,
        [
            (item_id, ItemUpdated(key=key, reason="workflow"), item_changes)
            for item_id, key in await repo.keys_in_status(session, status.id)
        ],
    )


async def follow_recategorised_status(session: AsyncSession, edit: StatusRecategorised) -> None:
    """The status's items change category with it."""
    await _record_items_changed(
        session, edit.access, edit.status, {"category": [edit.old, edit.new]}
    )
    await repo.follow_category(session, edit.status.id, edit.old, edit.new, at=utcnow())


async def move_out_of_retired_status(session: AsyncSession, retired: StatusRetired) -> None:
    """The status's items go to `retired.to_status`; with none named, a status in use stays."""
    status, target = retired.status, retired.to_status
    in_use = await repo.count_in_status(session, status.id)
    if not in_use:
        return
    if target is None:
        which = "1 item is" if in_use == 1 else f"{in_use} items are"
        where = "it goes" if in_use == 1 else "they go"
        raise StatusInUse(f"{which} in {status.name!r}; say where {where} with `move_to`.")
    moved: dict[str, list[Any]] = {"status": [status.name, target.name]}
    if target.category != status.category:
        moved["category"] = [status.category, target.category]
    await _record_items_changed(session, retired.access, status, moved)
    await repo.move_all_to_status(session, status, target, at=utcnow())
    retired.moved_items = in_use


def connect() -> None:
    status_recategorised.subscribe(follow_recategorised_status)
    status_retired.subscribe(move_out_of_retired_status)
