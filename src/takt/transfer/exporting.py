"""Building the export document: each part read through the domain that owns it."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import User
from takt.events import repository as events_repo
from takt.items import repository as items_repo
from takt.items.models import PRIORITIES
from takt.projects import repository as projects_repo
from takt.projects.models import Project
from takt.projects.schemas import ProjectSettings
from takt.sprints import repository as sprints_repo
from takt.transfer.refs import ToRefs
from takt.transfer.schemas import (
    CapacityDoc,
    CommentDoc,
    EventDoc,
    ExportDocument,
    ItemDoc,
    LabelDoc,
    LinkDoc,
    MemberDoc,
    ProjectDoc,
    SprintDoc,
    StatusDoc,
)
from takt.workflow import repository as workflow_repo


async def document(session: AsyncSession, project: Project) -> ExportDocument:
    """Rows get their references first, in document order, then the ids inside their data: so
    the numbering depends only on what the document holds."""
    refs = ToRefs()
    project_ref = refs.ref(project.id)
    members = (
        await session.execute(projects_repo.members_of(project.id).order_by(User.username_key))
    ).all()
    statuses = await workflow_repo.statuses(session, project.id)
    labels = await workflow_repo.labels(session, project.id)
    sprints = await sprints_repo.project_sprints(session, project.id)
    items = await items_repo.project_items(session, project.id)
    key_of = {i.id: i.key for i in items}
    # A link to an item in the trash waits there with it.
    links = [
        link
        for link in await items_repo.project_links(session, project.id)
        if link.target_id in key_of
    ]
    comments = await items_repo.project_comments(session, project.id)
    row_ids = [s.id for s in statuses] + [lb.id for lb in labels] + [s.id for s in sprints]
    row_ids += [i.id for i in items] + [link.id for link in links] + [c.id for c in comments]
    for row_id in row_ids:
        refs.ref(row_id)

    status_name = {s.id: s.name for s in statuses}
    item_labels: dict[str, list[str]] = defaultdict(list)
    for item_id, name in await items_repo.project_item_labels(session, project.id):
        item_labels[item_id].append(name)
    capacity: dict[str, list[CapacityDoc]] = defaultdict(list)
    for sprint_id, username, row in await sprints_repo.project_capacity(session, project.id):
        capacity[sprint_id].append(
            CapacityDoc(
                username=username,
                allocation=row.allocation,
                absent_days=sorted(row.absent_days),
            )
        )
    events = await events_repo.project_log(session, project.id)
    people = {p for i in items for p in (i.assignee_id, i.reporter_id) if p}
    people |= {c.author_id for c in comments if c.author_id}
    people |= {e.actor_id for e in events if e.actor_id}
    names = {
        u.id: u.username for u in (await items_repo.users_by_id(session, sorted(people))).values()
    }

    def person(user_id: str | None, imported_name: str | None) -> str | None:
        return names.get(user_id) if user_id else imported_name

    return ExportDocument(
        project=ProjectDoc(
            ref=project_ref,
            key=project.key,
            name=project.name,
            description=project.description,
            settings=ProjectSettings.model_validate(project.settings),
            next_number=project.item_seq,
        ),
        members=[MemberDoc(username=user.username, role=m.role) for m, user in members],
        statuses=[
            StatusDoc(
                ref=refs.ref(s.id),
                name=s.name,
                category=s.category,
                position=s.position,
                wip_limit=s.wip_limit,
            )
            for s in statuses
        ],
        labels=[LabelDoc(ref=refs.ref(lb.id), name=lb.name, color=lb.color) for lb in labels],
        sprints=[
            SprintDoc(
                ref=refs.ref(s.id),
                name=s.name,
                goal=s.goal,
                start_date=s.start_date,
                end_date=s.end_date,
                state=s.state,
                started_at=s.started_at,
                completed_at=s.completed_at,
                created_at=s.created_at,
                updated_at=s.updated_at,
                commitment=refs.data(s.commitment),
                report=refs.data(s.report),
                capacity=capacity.get(s.id, []),
            )
            for s in sprints
        ],
        items=[
            ItemDoc(
                ref=refs.ref(i.id),
                key=i.key,
                number=i.number,
                type=i.type,
                title=i.title,
                description=i.description,
                status=status_name[i.status_id],
                priority=PRIORITIES[i.priority],
                assignee=person(i.assignee_id, i.assignee_name),
                reporter=person(i.reporter_id, i.reporter_name),
                estimate=i.estimate,
                labels=sorted(item_labels.get(i.id, [])),
                parent_key=key_of.get(i.parent_id or ""),
                sprint=refs.maybe(i.sprint_id),
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
            LinkDoc(
                ref=refs.ref(link.id),
                source=key_of[link.source_id],
                target=key_of[link.target_id],
                type=link.type,
                created_at=link.created_at,
            )
            for link in links
        ],
        comments=[
            CommentDoc(
                ref=refs.ref(c.id),
                item_key=key_of[c.item_id],
                author=person(c.author_id, c.author_name),
                body=c.body,
                created_at=c.created_at,
                updated_at=c.updated_at,
            )
            for c in comments
        ],
        history=[
            EventDoc(
                type=e.type,
                occurred_at=e.occurred_at,
                actor=person(e.actor_id, e.actor_name),
                subject=refs.maybe(e.subject_id),
                data=refs.data(e.data),
                changes=refs.data(e.changes),
            )
            for e in events
        ],
    )
