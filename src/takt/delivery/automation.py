"""The review automation, per project and off by default (`review_automation` in the project's
settings): a pull request ready for review moves the items it names to the project's first
`in_review` status, a merged one to its first `done` status.

Each move is the item's own change, made through items' service (`item.updated` in the item's
history, with every rule an edit of the item follows), by the automation's actor: the id
`takt-automation`, which is no account, so the event says who made it: `reason:
"review-automation"`. An item never moves backwards (an item in review or done
stays where it is; a merged pull request doesn't reopen a done item), and a cancelled item is
left alone. A move an item's rules refuse is skipped, and the delivery is still recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.principal import Account, Principal
from takt.core.errors import AppError
from takt.delivery.models import PullRequest
from takt.items import service as items_service
from takt.items.models import Item
from takt.items.schemas import ItemUpdate
from takt.projects.models import Project
from takt.projects.policies import ProjectAccess
from takt.workflow import repository as workflow_repo

log = logging.getLogger("takt.delivery")

SETTING = "review_automation"
AUTOMATION_ACTOR_ID = "takt-automation"
# What the item's `item.updated` says made the move (its `reason`).
REASON: Final = "review-automation"
# The order items move in; `cancelled` is outside it and never moved.
FORWARD = ("backlog", "todo", "in_progress", "in_review", "done")

AUTOMATION = Principal(
    user=Account(
        id=AUTOMATION_ACTOR_ID,
        username="takt-automation",
        email="automation@takt.invalid",
        display_name="Review automation",
        is_admin=False,
        is_active=True,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    ),
    scopes=frozenset({"read", "write"}),
)


def enabled(project: Project) -> bool:
    return bool((project.settings or {}).get(SETTING, False))


async def advance(
    session: AsyncSession,
    project: Project,
    items: Sequence[Item],
    category: str,
    pull_request: PullRequest,
) -> list[str]:
    """Move each of `items` that is before `category` to the project's first status of that
    category; the keys of those moved."""
    if not items or not enabled(project):
        return []
    statuses = await workflow_repo.statuses(session, project.id)
    by_id = {status.id: status for status in statuses}
    target = min(
        (s for s in statuses if s.category == category), key=lambda s: s.position, default=None
    )
    if target is None:
        return []
    access = ProjectAccess(project=project, principal=AUTOMATION, member_role="member")
    moved = []
    for item in items:
        current = by_id.get(item.status_id)
        if current is None or current.category not in FORWARD:
            continue
        if FORWARD.index(current.category) >= FORWARD.index(category):
            continue
        try:
            async with session.begin_nested():
                await items_service.update_item(
                    session,
                    access,
                    item,
                    ItemUpdate(status=target.id),
                    if_match=None,
                    automation=REASON,
                )
        except AppError as refused:
            await session.refresh(item)
            log.info(
                "review automation skipped an item",
                extra={
                    "item": item.key,
                    "pull_request": pull_request.id,
                    "reason": refused.detail,
                },
            )
            continue
        moved.append(item.key)
    return moved
