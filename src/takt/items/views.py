"""Rows to API shapes, for lists (summary) and single items (detail)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from takt.auth.models import User
from takt.auth.schemas import UserSummary
from takt.items import repository as repo
from takt.items.models import PRIORITIES
from takt.items.repository import ItemRow


def user_summary(user: User | None) -> UserSummary | None:
    if user is None:
        return None
    return UserSummary(id=user.id, username=user.username, display_name=user.display_name)


def project_key_of(item_key: str) -> str:
    return item_key.rsplit("-", 1)[0]


def _user(user_id: str | None, username: str | None, display_name: str | None) -> Any:
    if user_id is None:
        return None
    return {"id": user_id, "username": username, "display_name": display_name}


def summary(row: ItemRow) -> dict[str, Any]:
    """An `ItemSummary` as a plain dict, for rows of `repository.item_rows()`. Hot reads serialize
    these straight to JSON (`json_bytes`); the schema classes document the shape."""
    return {
        "key": row.key,
        "project_key": project_key_of(row.key),
        "type": row.type,
        "title": row.title,
        "status": {"id": row.status_id, "name": row.status_name, "category": row.status_category},
        "priority": PRIORITIES[row.priority],
        "assignee": _user(row.assignee_id, row.assignee_username, row.assignee_display_name),
        "reporter": _user(row.reporter_id, row.reporter_username, row.reporter_display_name),
        "estimate": row.estimate,
        "labels": repo.row_labels(row),
        "parent_key": row.parent_key,
        "sprint_id": row.sprint_id,
        "due_date": row.due_date,
        "blocked": row.blocked,
        "rank": row.rank,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        "version": row.version,
    }


def summaries(rows: Sequence[ItemRow]) -> list[dict[str, Any]]:
    return [summary(row) for row in rows]


def detail(row: ItemRow) -> dict[str, Any]:
    """An `ItemRead` as a plain dict, for rows of `repository.item_rows(description=True)`."""
    return {**summary(row), "description": row.description}
