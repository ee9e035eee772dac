"""Building the export document: each part read through the domain that owns it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import User
from takt.blockers import repository as blockers_repo
from takt.blockers.models import Blocker
from takt.deployments import repository as deployments_repo
from takt.deployments.models import Deployment, DeploymentCommit
from takt.events import repository as events_repo
from takt.incidents import repository as incidents_repo
from takt.incidents.models import Incident
from takt.items import readiness
from takt.items import repository as items_repo
from takt.items.models import PRIORITIES
from takt.projects import repository as projects_repo
from takt.projects.policies import ProjectAccess
from takt.projects.schemas import ProjectSettings
from takt.readiness import service as readiness_service
from takt.risks import repository as risks_repo
from takt.risks.models import Risk
from takt.sprints import repository as sprints_repo
from takt.standups import repository as standups_repo
from takt.standups.models import StandupConfig, StandupEntry, StandupSummary
from takt.transfer.refs import ToRefs
from takt.transfer.schemas import (
    BlockerDoc,
    CapacityDoc,
    CommentDoc,
    DeploymentDoc,
    EnvironmentDoc,
    EventDoc,
    ExportDocument,
    IncidentDoc,
    ItemDoc,
    LabelDoc,
    LinkDoc,
    MemberDoc,
    ProjectDoc,
    RiskDoc,
    ShippedCommitDoc,
    SprintDoc,
    StandupConfigDoc,
    StandupEntryDoc,
    StandupsDoc,
    StandupSummaryDoc,
    StatusDoc,
    WaitingOnDoc,
)
from takt.workflow import repository as workflow_repo


async def document(session: AsyncSession, access: ProjectAccess) -> ExportDocument:
    """Rows get their references first, in document order, then the ids inside their data: so
    the numbering depends only on what the document holds."""
    project = access.project
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
    dor = readiness.of_project(project)
    # A link to an item in the trash waits there with it.
    links = [
        link
        for link in await items_repo.project_links(session, project.id)
        if link.target_id in key_of
    ]
    comments = await items_repo.project_comments(session, project.id)
    blockers = await blockers_repo.project_blockers(session, project.id)
    risks = await risks_repo.project_risks(session, project.id)
    standup_config = await standups_repo.get_config(session, project.id)
    entries = await standups_repo.project_entries(session, project.id)
    summaries = await standups_repo.project_summaries(session, project.id)
    environments = await deployments_repo.environments_in_order(session, project.id)
    deployments = await deployments_repo.project_deployments(session, project.id)
    shipped_commits, shipped_items = await deployments_repo.project_shipped(session, project.id)
    incidents = await incidents_repo.project_incidents(session, project.id)
    policy = await readiness_service.get_policy(session, access)
    row_ids = [s.id for s in statuses] + [lb.id for lb in labels] + [s.id for s in sprints]
    row_ids += [i.id for i in items] + [link.id for link in links] + [c.id for c in comments]
    row_ids += [b.id for b in blockers] + [r.id for r in risks]
    row_ids += [e.id for e, _ in entries] + [s.id for s in summaries]
    row_ids += [e.id for e in environments] + [d.id for d in deployments]
    row_ids += [i.id for i in incidents]
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
    people |= {
        p for b in blockers for p in (b.raised_by_id, b.resolved_by_id, b.waiting_on_user_id) if p
    }
    people |= {p for r in risks for p in (r.owner_id, r.created_by_id) if p}
    people |= {d.triggered_by_id for d in deployments if d.triggered_by_id}
    people |= {i.opened_by_id for i in incidents if i.opened_by_id}
    if standup_config is not None:
        people |= set(standup_config.participants or [])
    names = {
        u.id: u.username for u in (await items_repo.users_by_id(session, sorted(people))).values()
    }

    def person(user_id: str | None, imported_name: str | None = None) -> str | None:
        return names.get(user_id) if user_id else imported_name

    # Rows of the document only: a blocker on an item in the trash stays there with it (and a
    # risk or an entry no longer names it), a summary's sprint may have been deleted.
    blocker_ids = {b.id for b in blockers}
    sprint_order = {s.id: index for index, s in enumerate(sprints)}
    risk_items: dict[str, list[str]] = defaultdict(list)
    risk_sprints: dict[str, list[str]] = defaultdict(list)
    item_links, sprint_links = await risks_repo.project_risk_links(session, project.id)
    for risk_id, item_id in item_links:
        if item_id in key_of:
            risk_items[risk_id].append(key_of[item_id])
    for risk_id, sprint_id in sorted(
        (link for link in sprint_links if link[1] in sprint_order),
        key=lambda link: sprint_order[link[1]],
    ):
        risk_sprints[risk_id].append(refs.ref(sprint_id))
    # What each deployment shipped: its commits, and the items of the document (by number).
    commits_of: dict[str, list[DeploymentCommit]] = defaultdict(list)
    for commit in shipped_commits:
        commits_of[commit.deployment_id].append(commit)
    number_of = {i.id: i.number for i in items}
    items_of: dict[str, list[str]] = defaultdict(list)
    for deployment_id, item_id in sorted(
        (pair for pair in shipped_items if pair[1] in key_of), key=lambda p: number_of[p[1]]
    ):
        items_of[deployment_id].append(key_of[item_id])

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
                # Only the ticks that count: an entry since removed from the checklist is not
                # exported (the import refuses ticks of entries it doesn't have).
                dor_checked=readiness.assess(dor, i.estimate, True, i.dor_checked)[1],
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
        blockers=[_blocker(b, refs, key_of, person) for b in blockers],
        risks=[
            _risk(
                r,
                refs,
                person,
                items=risk_items.get(r.id, []),
                sprints=risk_sprints.get(r.id, []),
                blocker=refs.ref(r.blocker_id)
                if r.blocker_id is not None and r.blocker_id in blocker_ids
                else None,
            )
            for r in risks
        ],
        standups=StandupsDoc(
            config=_standup_config(standup_config, names) if standup_config else None,
            entries=[_entry(e, username, refs, blocker_ids) for e, username in entries],
            summaries=[_summary(s, refs, sprint_order) for s in summaries],
        ),
        environments=[
            EnvironmentDoc.model_validate(
                {
                    "ref": refs.ref(e.id),
                    "name": e.name,
                    "type": e.type,
                    "position": e.position,
                    "created_at": e.created_at,
                    "updated_at": e.updated_at,
                }
            )
            for e in environments
        ],
        deployments=[
            _deployment(d, refs, person, commits_of.get(d.id, []), items_of.get(d.id, []))
            for d in deployments
        ],
        incidents=[_incident(i, refs, person) for i in incidents],
        readiness_policy=policy.checks if policy.version > 0 else None,
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


Person = Callable[[str | None], str | None]


def _blocker(blocker: Blocker, refs: ToRefs, key_of: dict[str, str], person: Person) -> BlockerDoc:
    kind = blocker.waiting_on_kind
    return BlockerDoc(
        ref=refs.ref(blocker.id),
        item_key=key_of[blocker.item_id],
        reason=blocker.reason,
        waiting_on=WaitingOnDoc(
            kind=kind,
            user=person(blocker.waiting_on_user_id) if kind == "person" else None,
            name=blocker.waiting_on_name if kind in ("team", "external") else None,
            item_key=key_of.get(blocker.waiting_on_item_id or "") if kind == "item" else None,
        ),
        status=blocker.status,
        raised_by=person(blocker.raised_by_id),
        raised_at=blocker.raised_at,
        resolved_by=person(blocker.resolved_by_id),
        resolved_at=blocker.resolved_at,
        resolution=blocker.resolution,
        resolved_age_hours=blocker.resolved_age_hours,
        escalated_at=blocker.escalated_at,
        risk=refs.maybe(blocker.risk_id),
        created_at=blocker.created_at,
        updated_at=blocker.updated_at,
    )


def _risk(
    risk: Risk,
    refs: ToRefs,
    person: Person,
    *,
    items: list[str],
    sprints: list[str],
    blocker: str | None,
) -> RiskDoc:
    return RiskDoc(
        ref=refs.ref(risk.id),
        title=risk.title,
        description=risk.description,
        likelihood=risk.likelihood,
        impact=risk.impact,
        status=risk.status,
        owner=person(risk.owner_id),
        mitigation=risk.mitigation,
        review_date=risk.review_date,
        item_keys=items,
        sprints=sprints,
        blocker=blocker,
        created_by=person(risk.created_by_id),
        created_at=risk.created_at,
        updated_at=risk.updated_at,
    )


def _deployment(
    d: Deployment,
    refs: ToRefs,
    person: Person,
    commits: list[DeploymentCommit],
    item_keys: list[str],
) -> DeploymentDoc:
    return DeploymentDoc.model_validate(
        {
            "ref": refs.ref(d.id),
            "environment": refs.ref(d.environment_id),
            "source": d.source,
            "external_id": d.external_id,
            "pipeline_id": d.pipeline_id,
            "sequence": d.sequence,
            "git_ref": d.ref,
            "sha": d.sha,
            "version": d.release_version,
            "description": d.description,
            "url": d.url,
            "state": d.state,
            "started_at": d.started_at,
            "finished_at": d.finished_at,
            "succeeded_at": d.succeeded_at,
            "triggered_by": d.triggered_by,
            "reported_by": person(d.triggered_by_id),
            "is_hotfix": d.is_hotfix,
            "is_rollback": d.is_rollback,
            "fixes": refs.maybe(d.fixes_deployment_id),
            "failed_at": d.failed_at,
            "restored_at": d.restored_at,
            "rolled_back_at": d.rolled_back_at,
            "previous": refs.maybe(d.previous_deployment_id),
            "shipped_complete": d.shipped_complete,
            "commits": [ShippedCommitDoc(sha=c.sha, committed_at=c.committed_at) for c in commits],
            "item_keys": item_keys,
            "created_at": d.created_at,
            "updated_at": d.updated_at,
        }
    )


def _incident(incident: Incident, refs: ToRefs, person: Person) -> IncidentDoc:
    return IncidentDoc.model_validate(
        {
            "ref": refs.ref(incident.id),
            "number": incident.number,
            "title": incident.title,
            "description": incident.description,
            "severity": incident.severity,
            "state": incident.state,
            "environment": refs.ref(incident.environment_id),
            "opened_at": incident.opened_at,
            "resolved_at": incident.resolved_at,
            "caused_by": refs.maybe(incident.caused_by_deployment_id),
            "fixed_by": refs.maybe(incident.fixed_by_deployment_id),
            "opened_by": person(incident.opened_by_id),
            "created_at": incident.created_at,
            "updated_at": incident.updated_at,
        }
    )


def _standup_config(config: StandupConfig, names: dict[str, str]) -> StandupConfigDoc:
    """The config with its participants by username (a participant whose account is gone no
    longer takes part anywhere, so is left out)."""
    participants = config.participants
    return StandupConfigDoc.model_validate(
        {
            "questions": config.questions,
            "weekdays": config.weekdays,
            "cutoff": config.cutoff,
            "participants": None
            if participants is None
            else [names[p] for p in participants if p in names],
            "share_answers_in_events": config.share_answers_in_events,
            "created_at": config.created_at,
            "updated_at": config.updated_at,
        }
    )


def _entry(
    entry: StandupEntry, username: str, refs: ToRefs, blocker_ids: set[str]
) -> StandupEntryDoc:
    return StandupEntryDoc(
        ref=refs.ref(entry.id),
        user=username,
        date=entry.standup_date,
        answers=entry.answers,
        blocked=entry.blocked,
        blockers=[refs.ref(b) for b in entry.blocker_ids if b in blocker_ids],
        late=entry.late,
        submitted_at=entry.submitted_at,
        updated_at=entry.updated_at,
    )


def _summary(
    summary: StandupSummary, refs: ToRefs, sprint_order: dict[str, int]
) -> StandupSummaryDoc:
    sprint_id = summary.sprint_id
    return StandupSummaryDoc(
        ref=refs.ref(summary.id),
        date=summary.standup_date,
        recorded_at=summary.recorded_at,
        expected=summary.expected,
        submitted=summary.submitted,
        participation=summary.participation,
        blocked_rate=summary.blocked_rate,
        open_blockers=summary.open_blockers,
        sprint=refs.ref(sprint_id) if sprint_id in sprint_order else None,
        sprint_probability=summary.sprint_probability,
    )
