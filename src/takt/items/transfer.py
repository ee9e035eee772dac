"""Export a whole project as one JSON document, and import it again under a new key.

Export, import, export gives the same document except the project key (and so item keys) and
the time of export: people are named by username, items by key, and no ids are in it.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from takt.audit.service import ClientContext
from takt.auth.models import User
from takt.auth.principal import Principal
from takt.core.errors import ValidationFailed
from takt.core.events import Event
from takt.core.models import new_id
from takt.items.models import PRIORITIES, Comment, Item, ItemLabel, ItemLink
from takt.items.transfer_schemas import (
    CommentDoc,
    EventDoc,
    ExportDocument,
    ImportRequest,
    ItemDoc,
    LabelDoc,
    LinkDoc,
    MemberDoc,
    ProjectDoc,
    StatusDoc,
)
from takt.projects import service as projects
from takt.projects.models import Project, ProjectMember
from takt.projects.policies import ProjectAccess
from takt.projects.schemas import ProjectCreate, ProjectSettings
from takt.workflow.models import Label, Status


async def _usernames(session: AsyncSession, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.username).where(User.id.in_(sorted(ids))))
    return {row[0]: row[1] for row in rows}


async def export_project(session: AsyncSession, access: ProjectAccess) -> ExportDocument:
    project = access.project
    members = (
        await session.execute(
            select(ProjectMember.role, User.username)
            .join(User, User.id == ProjectMember.user_id)
            .where(ProjectMember.project_id == project.id)
            .order_by(User.username_key)
        )
    ).all()
    statuses = list(
        await session.scalars(
            select(Status).where(Status.project_id == project.id).order_by(Status.position)
        )
    )
    labels = list(
        await session.scalars(
            select(Label).where(Label.project_id == project.id).order_by(Label.name)
        )
    )
    items = list(
        await session.scalars(
            select(Item).where(Item.project_id == project.id).order_by(Item.number)
        )
    )
    item_ids = [i.id for i in items]
    key_of = {i.id: i.key for i in items}
    status_name = {s.id: s.name for s in statuses}
    label_name = {label.id: label.name for label in labels}
    item_labels: dict[str, list[str]] = {}
    for item_id, label_id in await session.execute(
        select(ItemLabel.item_id, ItemLabel.label_id).where(ItemLabel.item_id.in_(item_ids))
    ):
        item_labels.setdefault(item_id, []).append(label_name[label_id])
    links = list(
        await session.scalars(
            select(ItemLink)
            .where(ItemLink.source_id.in_(item_ids))
            .order_by(ItemLink.created_at, ItemLink.id)
        )
    )
    comments = list(
        await session.scalars(
            select(Comment)
            .where(Comment.item_id.in_(item_ids))
            .order_by(Comment.created_at, Comment.id)
        )
    )
    events = list(
        await session.scalars(
            select(Event).where(Event.project_id == project.id).order_by(Event.seq)
        )
    )
    people = {i.assignee_id for i in items} | {i.reporter_id for i in items}
    people |= {c.author_id for c in comments} | {m for c in comments for m in c.mention_ids}
    people |= {e.actor_id for e in events}
    names = await _usernames(session, {p for p in people if p})

    return ExportDocument(
        project=ProjectDoc(
            key=project.key,
            name=project.name,
            description=project.description,
            settings=ProjectSettings.model_validate(project.settings),
        ),
        members=[MemberDoc(username=u, role=r) for r, u in members],
        statuses=[
            StatusDoc(
                name=s.name,
                category=s.category,
                position=s.position,
                wip_limit=s.wip_limit,
            )
            for s in statuses
        ],
        labels=[LabelDoc(name=label.name, color=label.color) for label in labels],
        items=[
            ItemDoc(
                key=i.key,
                number=i.number,
                type=i.type,
                title=i.title,
                description=i.description,
                status=status_name[i.status_id],
                priority=PRIORITIES[i.priority],
                assignee=names.get(i.assignee_id or ""),
                reporter=names.get(i.reporter_id or ""),
                estimate=i.estimate,
                labels=sorted(item_labels.get(i.id, [])),
                parent_key=key_of.get(i.parent_id or ""),
                sprint_id=i.sprint_id,
                due_date=i.due_date,
                blocked=i.blocked,
                rank=i.rank,
                created_at=i.created_at,
                updated_at=i.updated_at,
                started_at=i.started_at,
                finished_at=i.finished_at,
            )
            for i in items
        ],
        links=[
            LinkDoc(source=key_of[link.source_id], target=key_of[link.target_id], type=link.type)
            for link in links
            if link.target_id in key_of
        ],
        comments=[
            CommentDoc(
                item_key=key_of[c.item_id],
                author=names.get(c.author_id or ""),
                body=c.body,
                mentions=sorted(names[m] for m in c.mention_ids if m in names),
                created_at=c.created_at,
                updated_at=c.updated_at,
            )
            for c in comments
        ],
        history=[
            EventDoc(
                type=e.type,
                occurred_at=e.occurred_at,
                actor=names.get(e.actor_id or ""),
                subject_key=key_of.get(e.subject_id or ""),
                data=e.data,
                changes=e.changes,
            )
            for e in events
        ],
    )


def _rekey(value: Any, old: str, new: str) -> Any:
    """The project key and item keys inside event data follow the project to its new key."""
    pattern = re.compile(rf"^{re.escape(old)}-(\d+)$")
    if isinstance(value, str):
        return new if value == old else pattern.sub(rf"{new}-\1", value)
    if isinstance(value, list):
        return [_rekey(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _rekey(v, old, new) for k, v in value.items()}
    return value


def _parents_first(items: list[ItemDoc]) -> list[ItemDoc]:
    """Items ordered so every parent comes before its children (foreign keys are checked row by
    row); a cycle in a hand-edited document is refused."""
    by_key = {i.key: i for i in items}
    placed: set[str] = set()
    ordered: list[ItemDoc] = []
    for item in items:
        chain: list[ItemDoc] = []
        current: ItemDoc | None = item
        while current is not None and current.key not in placed:
            if current in chain:
                raise _problem("/document/items", f"parent cycle at {current.key}")
            chain.append(current)
            current = by_key.get(current.parent_key) if current.parent_key else None
        for link in reversed(chain):
            placed.add(link.key)
            ordered.append(link)
    return ordered


def _problem(pointer: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"{pointer}: {message}", errors=[{"pointer": pointer, "message": message}]
    )


async def import_project(
    session: AsyncSession, principal: Principal, request: ImportRequest, *, client: ClientContext
) -> ProjectAccess:
    """Recreate an exported project under `request.key`; the importer becomes its admin, and
    exported members who have accounts here join with their roles."""
    doc = request.document
    old_key, new_key = doc.project.key, request.key
    access = await projects.create_project(
        session,
        principal,
        ProjectCreate(
            key=new_key,
            name=request.name or doc.project.name,
            description=doc.project.description,
            settings=doc.project.settings,
        ),
        client=client,
    )
    project = access.project
    # Documents carry their own workflow: replace the default one.
    for status in await session.scalars(select(Status).where(Status.project_id == project.id)):
        await session.delete(status)
    await session.flush()
    status_ids = {}
    for index, s in enumerate(doc.statuses):
        status = Status(
            project_id=project.id,
            name=s.name,
            category=s.category,
            position=s.position,
            wip_limit=s.wip_limit,
        )
        session.add(status)
        status_ids[s.name] = status
        if len({x.name for x in doc.statuses[: index + 1]}) != index + 1:
            raise _problem(f"/document/statuses/{index}/name", "duplicate status")
    label_ids = {}
    for label in doc.labels:
        row = Label(project_id=project.id, name=label.name, color=label.color)
        session.add(row)
        label_ids[label.name] = row
    await session.flush()

    usernames = {m.username.lower() for m in doc.members}
    usernames |= {u.lower() for i in doc.items for u in (i.assignee, i.reporter) if u}
    usernames |= {c.author.lower() for c in doc.comments if c.author}
    usernames |= {m.lower() for c in doc.comments for m in c.mentions}
    usernames |= {e.actor.lower() for e in doc.history if e.actor}
    users = {
        u.username_key: u
        for u in await session.scalars(select(User).where(User.username_key.in_(sorted(usernames))))
    }
    for member in doc.members:
        user = users.get(member.username.lower())
        if user is not None and user.id != principal.id:
            session.add(ProjectMember(project_id=project.id, user_id=user.id, role=member.role))

    def user_id(name: str | None) -> str | None:
        user = users.get(name.lower()) if name else None
        return user.id if user else None

    item_ids: dict[str, str] = {}
    for index, i in enumerate(doc.items):
        if i.status not in status_ids:
            raise _problem(f"/document/items/{index}/status", f"unknown status {i.status!r}")
        if i.key in item_ids:
            raise _problem(f"/document/items/{index}/key", "duplicate key")
        item_ids[i.key] = new_id()
    for index, i in enumerate(doc.items):
        if i.parent_key is not None and i.parent_key not in item_ids:
            raise _problem(f"/document/items/{index}/parent_key", "unknown parent")
    rows = _parents_first(doc.items)
    if rows:
        await session.execute(
            insert(Item),
            [
                {
                    "id": item_ids[i.key],
                    "project_id": project.id,
                    "number": i.number,
                    "key": f"{new_key}-{i.number}",
                    "type": i.type,
                    "title": i.title,
                    "description": i.description,
                    "status_id": status_ids[i.status].id,
                    "priority": PRIORITIES.index(i.priority),
                    "assignee_id": user_id(i.assignee),
                    "reporter_id": user_id(i.reporter),
                    "estimate": i.estimate,
                    "parent_id": item_ids[i.parent_key] if i.parent_key else None,
                    "sprint_id": None,
                    "due_date": i.due_date,
                    "blocked": i.blocked,
                    "rank": i.rank,
                    "created_at": i.created_at,
                    "updated_at": i.updated_at,
                    "started_at": i.started_at,
                    "finished_at": i.finished_at,
                    "version": 1,
                }
                for i in rows
            ],
        )
    label_rows = []
    for index, i in enumerate(doc.items):
        for name in i.labels:
            if name not in label_ids:
                raise _problem(f"/document/items/{index}/labels", f"unknown label {name!r}")
            label_rows.append({"item_id": item_ids[i.key], "label_id": label_ids[name].id})
    if label_rows:
        await session.execute(insert(ItemLabel), label_rows)
    for index, link in enumerate(doc.links):
        if link.source not in item_ids or link.target not in item_ids:
            raise _problem(f"/document/links/{index}", "unknown item")
        session.add(
            ItemLink(
                source_id=item_ids[link.source], target_id=item_ids[link.target], type=link.type
            )
        )
    for index, c in enumerate(doc.comments):
        if c.item_key not in item_ids:
            raise _problem(f"/document/comments/{index}/item_key", "unknown item")
        session.add(
            Comment(
                item_id=item_ids[c.item_key],
                author_id=user_id(c.author),
                body=c.body,
                mention_ids=[uid for uid in (user_id(m) for m in c.mentions) if uid],
                created_at=c.created_at,
                updated_at=c.updated_at,
            )
        )
    await session.flush()
    # The new project's own log starts with its history; the project.created event written a
    # moment ago would be a second "creation", so it gives way to the imported one.
    await session.execute(
        Event.__table__.delete().where(Event.project_id == project.id)  # type: ignore[attr-defined]
    )
    if doc.history:
        await session.execute(
            insert(Event),
            [
                {
                    "id": new_id(),
                    "type": e.type,
                    "project_id": project.id,
                    "subject_id": item_ids.get(e.subject_key or "") if e.subject_key else None,
                    "actor_id": user_id(e.actor),
                    "occurred_at": e.occurred_at,
                    "data": _rekey(e.data, old_key, new_key),
                    "changes": _rekey(e.changes, old_key, new_key),
                }
                for e in doc.history
            ],
        )
    project.item_seq = max((i.number for i in rows), default=0)
    await session.flush()
    await session.refresh(project)
    return ProjectAccess(project=project, principal=principal, member_role="admin")


_ = Project
