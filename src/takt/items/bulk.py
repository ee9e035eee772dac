"""Bulk updates: up to 100 items in one request, each in its own savepoint."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.concurrency import claim_all
from takt.core.errors import AppError, NotFound, ValidationFailed
from takt.items import readiness, service, views
from takt.items import repository as repo
from takt.items.models import Item
from takt.items.schemas import BulkError, BulkRequest, BulkResult, ItemSummary, ItemUpdate
from takt.projects.policies import ProjectAccess


class BulkFailed(ValidationFailed):
    """An atomic bulk update had failures, so nothing was changed. `results` says which updates
    failed and why; fix them and send the request again."""

    code = "bulk-failed"
    title = "Bulk update failed"


async def bulk_update(
    session: AsyncSession, access: ProjectAccess, request: BulkRequest
) -> list[BulkResult]:
    """Valid updates apply even when others fail, unless `atomic`: then any failure raises
    BulkFailed and the request's transaction rolls everything back."""
    access.require_write()
    items = {
        i.key: i
        for i in await repo.get_items(session, access.project.id, [u.key for u in request.updates])
    }
    # Every row up front, in id order: two bulk requests over the same items in different
    # orders then queue instead of deadlocking, and each update applies to the current version.
    await claim_all(session, list(items.values()))
    outcomes: list[tuple[str, Item | None, AppError | None]] = []
    for update in request.updates:
        data = ItemUpdate.model_validate(update.model_dump(exclude={"key"}, exclude_unset=True))
        item = items.get(update.key)
        if item is None:
            outcomes.append((update.key, None, NotFound(f"No item {update.key} in this project.")))
            continue
        try:
            async with session.begin_nested():
                await service.update_item(session, access, item, data, if_match=None)
        except AppError as error:
            await session.refresh(item)
            outcomes.append((update.key, None, error))
            continue
        outcomes.append((update.key, item, None))

    failed = [o for o in outcomes if o[2] is not None]
    if request.atomic and failed:
        raise BulkFailed.at_each(
            (
                (f"/updates/{i}", f"{key}: {error.detail}")
                for i, (key, _, error) in enumerate(outcomes)
                if error is not None
            ),
            detail=f"{len(failed)} of {len(outcomes)} updates failed; nothing was changed.",
        )
    updated = [item for _, item, _ in outcomes if item is not None]
    rows: dict[str, Any] = {}
    if updated:
        found = await session.execute(repo.item_rows().where(Item.id.in_([i.id for i in updated])))
        dor = readiness.of_project(access.project)
        for row in found:
            rows[row.key] = ItemSummary.model_validate(views.summary(row, dor))
    return [
        BulkResult(key=key, status=200, item=rows.get(key))
        if error is None
        else BulkResult(
            key=key, status=error.status, error=BulkError(code=error.code, detail=error.detail)
        )
        for key, _, error in outcomes
    ]
