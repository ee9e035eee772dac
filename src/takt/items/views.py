"""Rows to API shapes, for lists (summary) and single items (detail)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields, replace
from typing import Any

from takt.auth.models import User
from takt.auth.principal import Account
from takt.auth.schemas import UserSummary
from takt.items import repository as repo
from takt.items.models import PRIORITIES, Item
from takt.items.pull_request_directory import summary as pull_request_summary
from takt.items.readiness import DorIds, assess, dor_ids
from takt.items.repository import ItemRow
from takt.items.service import Created, Updated


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


# An item's own fields a summary shows, in `repository.item_rows()` column order.
ITEM_FIELDS = (
    "id",
    "key",
    "type",
    "title",
    "priority",
    "estimate",
    "sprint_id",
    "due_date",
    "blocked",
    "rank",
    "number",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
    "version",
    "status_id",
    "assignee_id",
    "reporter_id",
    "dor_checked",
)


@dataclass(frozen=True)
class Shown:
    """What an item shows besides its own fields, in `repository.item_rows()` column order after
    them (the write context loads it with the item entity)."""

    status_name: str
    status_category: str
    assignee_username: str | None
    assignee_display_name: str | None
    reporter_username: str | None
    reporter_display_name: str | None
    parent_key: str | None
    label_names: str | None
    # The states of the pull requests naming the item (`pull_request_directory.states`).
    pull_request_states: str | None = None
    # The name of the item's sprint (`sprint_directory.name_of`); None when it is in none.
    sprint_name: str | None = None


# The columns of `repository.item_rows()`: the item's own, whether it has a description, what
# it shows. Rows are unpacked by position: reading 27 fields by name costs ~16 µs a row,
# unpacking them ~0.2 µs (a test keeps query and fields equal).
SUMMARY_FIELDS = (*ITEM_FIELDS, "has_description", *(f.name for f in fields(Shown)))
_COUNT = len(SUMMARY_FIELDS)


def summary(row: Sequence[Any], dor: DorIds) -> dict[str, Any]:
    """An `ItemSummary` as a plain dict, for rows of `repository.item_rows()`; `dor` is the
    project's Definition of Ready (`readiness.of_project`), read once for all the rows. Hot
    reads serialize these straight to JSON (`json_bytes`); the schema classes document the
    shape."""
    (
        _id,
        key,
        type_,
        title,
        priority,
        estimate,
        sprint_id,
        due_date,
        blocked,
        rank,
        _number,
        created_at,
        updated_at,
        started_at,
        finished_at,
        version,
        status_id,
        assignee_id,
        reporter_id,
        dor_checked,
        has_description,
        status_name,
        status_category,
        assignee_username,
        assignee_display_name,
        reporter_username,
        reporter_display_name,
        parent_key,
        label_names,
        pull_request_states,
        sprint_name,
    ) = row[:_COUNT]
    missing, checked = assess(dor, estimate, has_description, dor_checked)
    return {
        "key": key,
        "project_key": project_key_of(key),
        "type": type_,
        "title": title,
        "status": {"id": status_id, "name": status_name, "category": status_category},
        "priority": PRIORITIES[priority],
        "assignee": _user(assignee_id, assignee_username, assignee_display_name),
        "reporter": _user(reporter_id, reporter_username, reporter_display_name),
        "estimate": estimate,
        "labels": sorted(label_names.split(repo.LABEL_SEPARATOR)) if label_names else [],
        "parent_key": parent_key,
        "sprint_id": sprint_id,
        "sprint": None if sprint_id is None else {"id": sprint_id, "name": sprint_name},
        "due_date": due_date,
        "blocked": blocked,
        "rank": rank,
        "created_at": created_at,
        "updated_at": updated_at,
        "started_at": started_at,
        "finished_at": finished_at,
        "version": version,
        "ready": not missing,
        "missing": missing,
        "dor_checked": checked,
        "pull_requests": pull_request_summary(pull_request_states),
    }


def shown_after(before: Shown, updated: Updated) -> Shown:
    """What the item shows after an update: the changed parts from the update, the rest as
    before."""
    changes = updated.changes
    shown = before
    if "status" in changes and updated.status is not None:
        shown = replace(
            shown, status_name=updated.status.name, status_category=updated.status.category
        )
    if "assignee" in changes:
        user = updated.assignee
        shown = replace(
            shown,
            assignee_username=user.username if user else None,
            assignee_display_name=user.display_name if user else None,
        )
    if "parent_key" in changes:
        shown = replace(shown, parent_key=changes["parent_key"][1])
    if "labels" in changes:
        shown = replace(shown, label_names=repo.LABEL_SEPARATOR.join(changes["labels"][1]) or None)
    if "sprint_id" in changes:
        shown = replace(shown, sprint_name=updated.sprint.name if updated.sprint else None)
    return shown


def shown_of_created(created: Created, reporter: Account) -> Shown:
    """What a new item shows: the rows its creation named, and its reporter (the caller)."""
    assignee = created.assignee
    return Shown(
        status_name=created.status.name,
        status_category=created.status.category,
        assignee_username=assignee.username if assignee else None,
        assignee_display_name=assignee.display_name if assignee else None,
        reporter_username=reporter.username,
        reporter_display_name=reporter.display_name,
        parent_key=created.parent_key,
        label_names=repo.LABEL_SEPARATOR.join(created.label_names) or None,
        sprint_name=created.sprint.name if created.sprint else None,
    )


def detail_of(item: Item, shown: Shown, dor: DorIds) -> dict[str, Any]:
    """`detail` for an item entity and what it shows: the answer of a write, with no re-read."""
    own = (getattr(item, name) for name in ITEM_FIELDS)
    return detail((*own, item.description != "", *astuple(shown), item.description), dor)


def summaries(rows: Sequence[ItemRow], dor: DorIds) -> list[dict[str, Any]]:
    return [summary(row, dor) for row in rows]


def detail(row: Sequence[Any], dor: DorIds) -> dict[str, Any]:
    """An `ItemRead` as a plain dict, for rows of `repository.item_rows(description=True)`."""
    return {**summary(row, dor), "description": row[_COUNT]}


def detail_row(row: Sequence[Any]) -> dict[str, Any]:
    """`detail` for a row of `repository.get_visible_detail`, which brings the project's
    settings (and so its Definition of Ready) after the description."""
    return detail(row, dor_ids(row[_COUNT + 1]))
