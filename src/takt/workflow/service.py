"""Workflow rules: default statuses, reordering, deleting a status in use, labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.errors import Conflict, NotFound, ValidationFailed
from takt.core.events import emit
from takt.core.locks import hold_transaction_lock
from takt.projects.models import Project
from takt.projects.policies import ProjectAccess
from takt.workflow import repository as repo
from takt.workflow.events import (
    LabelChanges,
    LabelCreated,
    LabelDeleted,
    LabelUpdated,
    StatusChanges,
    StatusCreated,
    StatusDeleted,
    StatusUpdated,
)
from takt.workflow.hooks import (
    StatusRecategorised,
    StatusRetired,
    status_recategorised,
    status_retired,
)
from takt.workflow.models import DEFAULT_STATUSES, Label, Status
from takt.workflow.schemas import LabelCreate, LabelUpdate, StatusCreate, StatusUpdate

MAX_STATUSES = 50
MAX_LABELS = 500


class StatusInUse(Conflict):
    """Items are in this status. Delete it with `?move_to=<status name or id>` to say where they
    go. (Raised by what holds the items, through the `status_retired` hook.)"""

    code = "status-in-use"
    title = "Status in use"


class NameTaken(Conflict):
    """Another status or label of this project already has that name."""

    code = "name-taken"
    title = "Name taken"


async def create_default_workflow(session: AsyncSession, created: ProjectAccess) -> None:
    """A new project's statuses (subscribed to `projects.hooks.project_created`)."""
    project = created.project
    for position, (name, category) in enumerate(DEFAULT_STATUSES):
        session.add(Status(project_id=project.id, name=name, category=category, position=position))
    await session.flush()


def _reorder(statuses: Sequence[Status], moved: Status, position: int) -> None:
    ordered = [s for s in statuses if s.id != moved.id]
    ordered.insert(min(position, len(ordered)), moved)
    for index, status in enumerate(ordered):
        status.position = index


async def _lock_workflow(session: AsyncSession, project: Project) -> None:
    """One change to a project's workflow at a time: its rules span rows (at most 50 statuses
    and 500 labels, names unique in any case, positions 0, 1, 2…, at least one status), so two
    admins' changes checked against the same rows could each pass and together break them.
    Taken before the rows are read; item writes don't take it."""
    await hold_transaction_lock(session, f"workflow:{project.id}")


async def _flush_or_name_taken(session: AsyncSession, name: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise NameTaken(f"The name {name!r} is taken in this project.") from exc


async def list_statuses(session: AsyncSession, access: ProjectAccess) -> Sequence[Status]:
    """The project's workflow in board order (at most 50 statuses: one answer, no pages)."""
    return await repo.statuses(session, access.project.id)


async def list_labels(session: AsyncSession, access: ProjectAccess) -> Sequence[Label]:
    """The project's labels by name (at most 500: one answer, no pages)."""
    return await repo.labels(session, access.project.id)


async def create_status(session: AsyncSession, access: ProjectAccess, data: StatusCreate) -> Status:
    access.require_admin("Changing the workflow")
    project = access.project
    await _lock_workflow(session, project)
    existing = list(await repo.statuses(session, project.id))
    if len(existing) >= MAX_STATUSES:
        raise Conflict(f"A workflow has at most {MAX_STATUSES} statuses.")
    if await repo.find_status(session, project.id, data.name):
        raise NameTaken(f"The name {data.name!r} is taken in this project.")
    status = Status(
        project_id=project.id,
        name=data.name,
        category=data.category,
        position=len(existing),
        wip_limit=data.wip_limit,
    )
    session.add(status)
    await _flush_or_name_taken(session, data.name)
    if data.position is not None:
        _reorder([*existing, status], status, data.position)
        await session.flush()
    await emit(
        session,
        StatusCreated(id=status.id, name=status.name, category=status.category),
        project,
        access.principal,
        subject=status,
    )
    return status


async def _status_or_404(session: AsyncSession, project: Project, status_id: str) -> Status:
    status = await repo.get_status(session, project.id, status_id)
    if status is None:
        raise NotFound("No such status in this project.")
    return status


async def update_status(
    session: AsyncSession, access: ProjectAccess, status_id: str, data: StatusUpdate
) -> Status:
    access.require_admin("Changing the workflow")
    project = access.project
    await _lock_workflow(session, project)
    status = await _status_or_404(session, project, status_id)
    changes: dict[str, list[Any]] = {}
    if data.name is not None and data.name != status.name:
        clash = await repo.find_status(session, project.id, data.name)
        if clash is not None and clash.id != status.id:
            raise NameTaken(f"The name {data.name!r} is taken in this project.")
        changes["name"] = [status.name, data.name]
        status.name = data.name
    if data.category is not None and data.category != status.category:
        changes["category"] = [status.category, data.category]
        await status_recategorised.fire(
            session, StatusRecategorised(access, status, old=status.category, new=data.category)
        )
        status.category = data.category
    if data.wip_limit is not None:
        new_limit = data.wip_limit or None
        if new_limit != status.wip_limit:
            changes["wip_limit"] = [status.wip_limit, new_limit]
            status.wip_limit = new_limit
    if data.position is not None and data.position != status.position:
        changes["position"] = [status.position, data.position]
        _reorder(list(await repo.statuses(session, project.id)), status, data.position)
    if changes:
        await _flush_or_name_taken(session, status.name)
        await emit(
            session,
            StatusUpdated(id=status.id, name=status.name),
            project,
            access.principal,
            StatusChanges.model_validate(changes),
            subject=status,
        )
    return status


async def delete_status(
    session: AsyncSession, access: ProjectAccess, status_id: str, *, move_to: str | None
) -> None:
    access.require_admin("Changing the workflow")
    project = access.project
    await _lock_workflow(session, project)
    status = await _status_or_404(session, project, status_id)
    statuses = list(await repo.statuses(session, project.id))
    if len(statuses) == 1:
        raise Conflict("A workflow keeps at least one status.")
    target = None
    if move_to is not None:
        target = await repo.find_status(session, project.id, move_to)
        if target is None or target.id == status.id:
            raise ValidationFailed.at(
                "/query/move_to",
                "unknown status",
                detail="`move_to` must name another status of this project.",
            )
    # What is in the status moves to `target` (or the handler raises StatusInUse).
    retired = StatusRetired(access, status, target)
    await status_retired.fire(session, retired)
    await session.delete(status)
    await session.flush()
    for position, remaining in enumerate(s for s in statuses if s.id != status.id):
        remaining.position = position
    await session.flush()
    await emit(
        session,
        StatusDeleted(
            id=status.id,
            name=status.name,
            moved_items=retired.moved_items,
            moved_to=target.name if target else None,
        ),
        project,
        access.principal,
        subject=status,
    )


async def create_label(session: AsyncSession, access: ProjectAccess, data: LabelCreate) -> Label:
    access.require_write()
    project = access.project
    await _lock_workflow(session, project)
    if await repo.labels_by_name(session, project.id, [data.name]):
        raise NameTaken(f"The name {data.name!r} is taken in this project.")
    if len(await repo.labels(session, project.id)) >= MAX_LABELS:
        raise Conflict(f"A project has at most {MAX_LABELS} labels.")
    label = Label(project_id=project.id, name=data.name, color=data.color)
    session.add(label)
    await _flush_or_name_taken(session, data.name)
    await emit(
        session,
        LabelCreated(id=label.id, name=label.name, color=label.color),
        project,
        access.principal,
        subject=label,
    )
    return label


async def _label_or_404(session: AsyncSession, project: Project, label_id: str) -> Label:
    label = await repo.get_label(session, project.id, label_id)
    if label is None:
        raise NotFound("No such label in this project.")
    return label


async def update_label(
    session: AsyncSession, access: ProjectAccess, label_id: str, data: LabelUpdate
) -> Label:
    access.require_write()
    project = access.project
    await _lock_workflow(session, project)
    label = await _label_or_404(session, project, label_id)
    changes: dict[str, list[Any]] = {}
    if data.name is not None and data.name != label.name:
        clash = (await repo.labels_by_name(session, project.id, [data.name])).get(data.name.lower())
        if clash is not None and clash.id != label.id:
            raise NameTaken(f"The name {data.name!r} is taken in this project.")
        changes["name"] = [label.name, data.name]
        label.name = data.name
    if data.color is not None and data.color != label.color:
        changes["color"] = [label.color, data.color]
        label.color = data.color
    if changes:
        await _flush_or_name_taken(session, label.name)
        await emit(
            session,
            LabelUpdated(id=label.id, name=label.name),
            project,
            access.principal,
            LabelChanges.model_validate(changes),
            subject=label,
        )
    return label


async def delete_label(session: AsyncSession, access: ProjectAccess, label_id: str) -> None:
    access.require_write()
    await _lock_workflow(session, access.project)
    label = await _label_or_404(session, access.project, label_id)
    await session.delete(label)
    await session.flush()
    await emit(
        session,
        LabelDeleted(id=label.id, name=label.name),
        access.project,
        access.principal,
        subject=label,
    )
