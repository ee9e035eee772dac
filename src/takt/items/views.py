"""Rows to API shapes, for lists (summary) and single items (detail)."""

from __future__ import annotations

from collections.abc import Sequence

from takt.auth.models import User
from takt.auth.schemas import UserSummary
from takt.items import repository as repo
from takt.items.models import PRIORITIES, Item
from takt.items.repository import ItemRow
from takt.items.schemas import ItemRead, ItemSummary
from takt.workflow.models import Status
from takt.workflow.schemas import StatusRef


def user_summary(user: User | None) -> UserSummary | None:
    if user is None:
        return None
    return UserSummary(id=user.id, username=user.username, display_name=user.display_name)


def project_key_of(item_key: str) -> str:
    return item_key.rsplit("-", 1)[0]


def _fields(row: ItemRow, labels: list[str]) -> dict[str, object]:
    item: Item = row[0]
    status: Status = row[1]
    return {
        "key": item.key,
        "project_key": project_key_of(item.key),
        "type": item.type,
        "title": item.title,
        "status": StatusRef(id=status.id, name=status.name, category=status.category),
        "priority": PRIORITIES[item.priority],
        "assignee": user_summary(row[2]),
        "reporter": user_summary(row[3]),
        "estimate": item.estimate,
        "labels": labels,
        "parent_key": row[4],
        "sprint_id": item.sprint_id,
        "due_date": item.due_date,
        "blocked": item.blocked,
        "rank": item.rank,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "started_at": item.started_at,
        "finished_at": item.finished_at,
        "version": item.version,
    }


def summaries(rows: Sequence[ItemRow]) -> list[ItemSummary]:
    """Summaries for rows of `repository.item_rows()` (which carry their labels)."""
    return [ItemSummary.model_validate(_fields(row, repo.row_labels(row))) for row in rows]


def detail(row: ItemRow) -> ItemRead:
    return ItemRead.model_validate(
        {**_fields(row, repo.row_labels(row)), "description": row[0].description}
    )
