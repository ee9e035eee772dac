"""The steps of an import: check the document, then write each part through its domain."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.principal import Principal
from takt.blockers import repository as blockers_repo
from takt.core.audit import ClientContext
from takt.core.errors import NotFound, ValidationFailed
from takt.core.events import InvalidEvent, parse_event
from takt.core.models import new_id
from takt.core.time import utcnow
from takt.deployments import repository as deployments_repo
from takt.deployments.environments import DEFAULT_ENVIRONMENTS
from takt.events import repository as events_repo
from takt.incidents import repository as incidents_repo
from takt.items import repository as items_repo
from takt.items.models import PRIORITIES
from takt.projects import repository as projects_repo
from takt.projects import service as projects
from takt.projects.policies import ProjectAccess
from takt.projects.schemas import MemberAdd, ProjectCreate
from takt.readiness import service as readiness_service
from takt.readiness.schemas import ReadinessPolicyWrite
from takt.risks import repository as risks_repo
from takt.sprints import repository as sprints_repo
from takt.sprints.service import MAX_SPRINT_DAYS
from takt.standups import repository as standups_repo
from takt.transfer.refs import FromRefs
from takt.transfer.schemas import DeploymentDoc, ExportDocument, ImportRequest, ItemDoc
from takt.workflow import repository as workflow_repo


def _unique(values: Iterable[str | None], pointer: str, what: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value is None:
            continue
        if value in seen:
            raise ValidationFailed.at(pointer.format(index), f"duplicate {what}")
        seen.add(value)


def _check_ticks(ticked: list[str], entries: set[str], at: str) -> None:
    """An item's ticks name entries of the document's Definition of Ready, each once."""
    seen: set[str] = set()
    for n, entry_id in enumerate(ticked):
        if entry_id not in entries:
            raise ValidationFailed.at(
                f"{at}/dor_checked/{n}",
                f"{entry_id!r} is not an entry of the project's Definition of Ready",
            )
        if entry_id in seen:
            raise ValidationFailed.at(f"{at}/dor_checked/{n}", f"{entry_id!r} ticked twice")
        seen.add(entry_id)


def check(doc: ExportDocument) -> None:
    """Everything the document refers to is in it, once: a broken document writes nothing."""
    # Usernames ignore case, as accounts do: two spellings are one member, one capacity row.
    _unique((m.username.lower() for m in doc.members), "/document/members/{}/username", "member")
    _unique((s.name for s in doc.statuses), "/document/statuses/{}/name", "status")
    _unique((lb.name for lb in doc.labels), "/document/labels/{}/name", "label")
    _unique((i.key for i in doc.items), "/document/items/{}/key", "key")
    _unique((str(i.number) for i in doc.items), "/document/items/{}/number", "number")
    for index, sprint in enumerate(doc.sprints):
        # The API's own bound: every per-day report runs over the sprint's days (one from 1970
        # to 9000 made each burndown of the copy take 17 s and answer 350 MB).
        if (sprint.end_date - sprint.start_date).days + 1 > MAX_SPRINT_DAYS:
            raise ValidationFailed.at(
                f"/document/sprints/{index}/end_date",
                f"more than {MAX_SPRINT_DAYS} days",
                detail=f"A sprint lasts at most {MAX_SPRINT_DAYS} days.",
            )
        _unique(
            (c.username.lower() for c in sprint.capacity),
            f"/document/sprints/{index}/capacity/{{}}/username",
            "person (a capacity row each)",
        )
    rows: list[tuple[str, list[str | None]]] = [
        ("project", [doc.project.ref]),
        ("statuses", [s.ref for s in doc.statuses]),
        ("labels", [lb.ref for lb in doc.labels]),
        ("sprints", [s.ref for s in doc.sprints]),
        ("items", [i.ref for i in doc.items]),
        ("links", [link.ref for link in doc.links]),
        ("comments", [c.ref for c in doc.comments]),
        ("blockers", [b.ref for b in doc.blockers]),
        ("risks", [r.ref for r in doc.risks]),
        ("standups/entries", [e.ref for e in doc.standups.entries]),
        ("standups/summaries", [s.ref for s in doc.standups.summaries]),
        ("environments", [e.ref for e in doc.environments or []]),
        ("deployments", [d.ref for d in doc.deployments]),
        ("incidents", [i.ref for i in doc.incidents]),
    ]
    seen: set[str] = set()
    for part, refs in rows:
        for index, ref in enumerate(refs):
            if ref is not None and ref in seen:
                raise ValidationFailed.at(f"/document/{part}/{index}/ref", "reference used twice")
            seen.add(ref or "")
    statuses = {s.name for s in doc.statuses}
    labels = {lb.name for lb in doc.labels}
    sprints = {s.ref for s in doc.sprints}
    keys = {i.key for i in doc.items}
    dor_entries = {entry.id for entry in doc.project.settings.definition_of_ready}
    for index, item in enumerate(doc.items):
        at = f"/document/items/{index}"
        # History, commitments and reports name items by key, and the copy's keys follow the
        # numbers: a key that isn't its number's would make them name another item.
        if item.key != f"{doc.project.key}-{item.number}":
            raise ValidationFailed.at(
                f"{at}/key", f"not {doc.project.key}-{item.number} (the project's key and number)"
            )
        if item.status not in statuses:
            raise ValidationFailed.at(f"{at}/status", f"unknown status {item.status!r}")
        for name in item.labels:
            if name not in labels:
                raise ValidationFailed.at(f"{at}/labels", f"unknown label {name!r}")
        _unique(item.labels, f"{at}/labels/{{}}", "label")
        if item.parent_key is not None and item.parent_key not in keys:
            raise ValidationFailed.at(f"{at}/parent_key", "unknown parent")
        if item.sprint is not None and item.sprint not in sprints:
            raise ValidationFailed.at(f"{at}/sprint", "unknown sprint")
        _check_ticks(item.dor_checked, dor_entries, at)
    _parents_first(doc.items)
    _check_links(doc, keys)
    for index, comment in enumerate(doc.comments):
        if comment.item_key not in keys:
            raise ValidationFailed.at(f"/document/comments/{index}/item_key", "unknown item")
    _check_blockers_and_risks(doc)
    _check_standups(doc)
    _check_delivery(doc)
    active = [index for index, s in enumerate(doc.sprints) if s.state == "active"]
    if len(active) > 1:
        raise ValidationFailed.at(f"/document/sprints/{active[1]}/state", "a second active sprint")
    for index, event in enumerate(doc.history):
        # History is read back by burndowns, reports and consumers through the catalogue's models.
        try:
            parse_event(event.type, event.data, event.changes)
        except InvalidEvent as exc:
            raise ValidationFailed.at(f"/document/history/{index}", str(exc)[:300]) from exc


def _check_links(doc: ExportDocument, keys: set[str]) -> None:
    """Links between items of the document, as the API makes them: never to the item itself,
    once per pair (`relates_to` either way round), and no two items blocking each other."""
    seen: set[tuple[str, str, str]] = set()
    for index, link in enumerate(doc.links):
        at = f"/document/links/{index}"
        if link.source not in keys or link.target not in keys:
            raise ValidationFailed.at(at, "unknown item")
        if link.source == link.target:
            raise ValidationFailed.at(f"{at}/target", "an item can't link to itself")
        if (link.source, link.target, link.type) in seen:
            raise ValidationFailed.at(at, "duplicate link")
        if (link.target, link.source, link.type) in seen and link.type != "duplicates":
            why = "duplicate link" if link.type == "relates_to" else "the items block each other"
            raise ValidationFailed.at(at, why)
        seen.add((link.source, link.target, link.type))


def _check_blockers_and_risks(doc: ExportDocument) -> None:
    """Blockers are on items of the document and wait on one of them, risks threaten items and
    sprints of the document (each once), and a promoted blocker and its risk name each other."""
    keys = {i.key: index for index, i in enumerate(doc.items)}
    sprints = {s.ref for s in doc.sprints}
    risk_of = {r.ref: r for r in doc.risks if r.ref is not None}
    blocker_of = {b.ref: b for b in doc.blockers if b.ref is not None}
    for index, blocker in enumerate(doc.blockers):
        at = f"/document/blockers/{index}"
        if blocker.item_key not in keys:
            raise ValidationFailed.at(f"{at}/item_key", "unknown item")
        waiting = blocker.waiting_on.item_key
        if waiting is not None and waiting not in keys:
            raise ValidationFailed.at(f"{at}/waiting_on/item_key", "unknown item")
        if waiting == blocker.item_key:
            raise ValidationFailed.at(f"{at}/waiting_on/item_key", "an item can't wait on itself")
        if blocker.risk is not None:
            risk = risk_of.get(blocker.risk)
            if risk is None:
                raise ValidationFailed.at(f"{at}/risk", "unknown risk")
            if risk.blocker != blocker.ref:
                raise ValidationFailed.at(f"{at}/risk", "that risk was not promoted from it")
        if blocker.status == "open" and not doc.items[keys[blocker.item_key]].blocked:
            raise ValidationFailed.at(
                f"/document/items/{keys[blocker.item_key]}/blocked",
                f"the item has an open blocker (/document/blockers/{index}), so it is blocked",
            )
    _unique((r.blocker for r in doc.risks), "/document/risks/{}/blocker", "promoted blocker")
    for index, risk in enumerate(doc.risks):
        at = f"/document/risks/{index}"
        for n, key in enumerate(risk.item_keys):
            if key not in keys:
                raise ValidationFailed.at(f"{at}/item_keys/{n}", "unknown item")
        _unique(risk.item_keys, f"{at}/item_keys/{{}}", "item")
        for n, ref in enumerate(risk.sprints):
            if ref not in sprints:
                raise ValidationFailed.at(f"{at}/sprints/{n}", "unknown sprint")
        _unique(risk.sprints, f"{at}/sprints/{{}}", "sprint")
        if risk.blocker is not None:
            promoted = blocker_of.get(risk.blocker)
            if promoted is None:
                raise ValidationFailed.at(f"{at}/blocker", "unknown blocker")
            if promoted.risk != risk.ref:
                raise ValidationFailed.at(f"{at}/blocker", "that blocker does not name this risk")


def _check_standups(doc: ExportDocument) -> None:
    """One entry per person and day, one summary per day; what they name is in the document."""
    blockers = {b.ref for b in doc.blockers if b.ref is not None}
    sprints = {s.ref for s in doc.sprints}
    entries, summaries = doc.standups.entries, doc.standups.summaries
    _unique(
        (f"{e.user.lower()} {e.date}" for e in entries),
        "/document/standups/entries/{}/date",
        "entry of this person for this day",
    )
    for index, entry in enumerate(entries):
        at = f"/document/standups/entries/{index}/blockers"
        for n, ref in enumerate(entry.blockers):
            if ref not in blockers:
                raise ValidationFailed.at(f"{at}/{n}", "unknown blocker")
        _unique(entry.blockers, f"{at}/{{}}", "blocker")
    _unique((str(s.date) for s in summaries), "/document/standups/summaries/{}/date", "day")
    for index, summary in enumerate(summaries):
        if summary.sprint is not None and summary.sprint not in sprints:
            raise ValidationFailed.at(
                f"/document/standups/summaries/{index}/sprint", "unknown sprint"
            )


def _check_delivery(doc: ExportDocument) -> None:
    """Deployments go to environments of the document and name deployments of it (once per
    pipeline run and provider id, as the CI call's idempotency wants); incidents are numbered
    once each and linked to deployments to their own environment; the readiness policy names
    environments of the document."""
    environments = doc.environments
    if environments is None and doc.deployments:
        raise ValidationFailed.at(
            "/document/environments", "the deployments' environments are missing"
        )
    env_refs = {e.ref for e in environments or []}
    _unique(
        (e.name.lower() for e in environments or []),
        "/document/environments/{}/name",
        "environment name (names ignore case)",
    )
    by_ref = {d.ref: d for d in doc.deployments}
    keys = {i.key for i in doc.items}
    for index, d in enumerate(doc.deployments):
        at = f"/document/deployments/{index}"
        if d.environment not in env_refs:
            raise ValidationFailed.at(f"{at}/environment", "unknown environment")
        for field, ref in (("fixes", d.fixes), ("previous", d.previous)):
            if ref is not None and (ref not in by_ref or ref == d.ref):
                raise ValidationFailed.at(f"{at}/{field}", "unknown deployment")
        for n, key in enumerate(d.item_keys):
            if key not in keys:
                raise ValidationFailed.at(f"{at}/item_keys/{n}", "unknown item")
        _unique(d.item_keys, f"{at}/item_keys/{{}}", "item")
        _unique((c.sha.lower() for c in d.commits), f"{at}/commits/{{}}/sha", "commit")
    _unique(
        (
            f"{d.environment} {d.pipeline_id} {d.sequence}" if d.pipeline_id else None
            for d in doc.deployments
        ),
        "/document/deployments/{}/sequence",
        "pipeline run (environment, pipeline_id, sequence)",
    )
    _unique(
        (f"{d.source} {d.external_id}" if d.external_id else None for d in doc.deployments),
        "/document/deployments/{}/external_id",
        "provider deployment",
    )
    _unique((str(i.number) for i in doc.incidents), "/document/incidents/{}/number", "number")
    for index, incident in enumerate(doc.incidents):
        at = f"/document/incidents/{index}"
        if incident.environment not in env_refs:
            raise ValidationFailed.at(f"{at}/environment", "unknown environment")
        for field, ref in (("caused_by", incident.caused_by), ("fixed_by", incident.fixed_by)):
            if ref is None:
                continue
            linked = by_ref.get(ref)
            if linked is None:
                raise ValidationFailed.at(f"{at}/{field}", "unknown deployment")
            if linked.environment != incident.environment:
                raise ValidationFailed.at(
                    f"{at}/{field}", "deployed to another environment than the incident's"
                )
        if incident.caused_by is not None and incident.caused_by == incident.fixed_by:
            raise ValidationFailed.at(
                f"{at}/fixed_by", "the same deployment can't cause and fix the incident"
            )
    policy = doc.readiness_policy
    if policy is not None:
        names = (
            {e.name.lower() for e in environments}
            if environments is not None
            else {name for name, _ in DEFAULT_ENVIRONMENTS}
        )
        at = "/document/readiness_policy/promoted_through_previous/required_before"
        for target, before in policy.promoted_through_previous.required_before.items():
            for name in (target, before):
                if name is not None and name.strip().lower() not in names:
                    escaped = target.replace("~", "~0").replace("/", "~1")
                    raise ValidationFailed.at(f"{at}/{escaped}", f"unknown environment {name!r}")


def _parents_first(items: list[ItemDoc]) -> list[ItemDoc]:
    """Items ordered so every parent comes before its children (foreign keys are checked row by
    row); a cycle in a hand-edited document is refused."""
    by_key = {i.key: i for i in items}
    placed: set[str] = set()
    ordered: list[ItemDoc] = []
    for item in items:
        # Each item is walked once: the chain's keys are a set, not a list compared model by
        # model (a 4,000-deep chain took 40 s that way, a 20,000-deep one ~25 times that).
        chain: list[ItemDoc] = []
        in_chain: set[str] = set()
        current: ItemDoc | None = item
        while current is not None and current.key not in placed:
            if current.key in in_chain:
                raise ValidationFailed.at("/document/items", f"parent cycle at {current.key}")
            chain.append(current)
            in_chain.add(current.key)
            current = by_key.get(current.parent_key) if current.parent_key else None
        for link in reversed(chain):
            placed.add(link.key)
            ordered.append(link)
    return ordered


def _rekey(value: Any, old: str, new: str) -> Any:
    """The project key and item keys inside data follow the project to its new key."""
    pattern = re.compile(rf"^{re.escape(old)}-(\d+)$")

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return new if value == old else pattern.sub(rf"{new}-\1", value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return walk(value)


class Plan:
    """The document with a new id for each of its rows, bound to the rows' references before any
    data is read, so an id in a report or in history lands on the row it named."""

    def __init__(self, doc: ExportDocument, *, old_key: str, new_key: str) -> None:
        self.doc, self.old_key, self.new_key = doc, old_key, new_key
        self.refs = refs = FromRefs()
        self.status_ids = dict(
            zip(
                (s.name for s in doc.statuses),
                refs.ids_in_order([s.ref for s in doc.statuses]),
                strict=True,
            )
        )
        self.label_ids = dict(
            zip(
                (lb.name for lb in doc.labels),
                refs.ids_in_order([lb.ref for lb in doc.labels]),
                strict=True,
            )
        )
        self.sprint_ids = refs.ids_in_order([s.ref for s in doc.sprints])
        self.item_ids = dict(
            zip(
                (i.key for i in doc.items),
                refs.ids_in_order([i.ref for i in doc.items]),
                strict=True,
            )
        )
        self.link_ids = refs.ids_in_order([link.ref for link in doc.links])
        self.comment_ids = refs.ids_in_order([c.ref for c in doc.comments])
        self.blocker_ids = refs.ids_in_order([b.ref for b in doc.blockers])
        self.risk_ids = refs.ids_in_order([r.ref for r in doc.risks])
        self.entry_ids = refs.ids_in_order([e.ref for e in doc.standups.entries])
        self.summary_ids = refs.ids_in_order([s.ref for s in doc.standups.summaries])
        self.environment_ids = refs.ids_in_order([e.ref for e in doc.environments or []])
        self.deployment_ids = refs.ids_in_order([d.ref for d in doc.deployments])
        self.incident_ids = refs.ids_in_order([i.ref for i in doc.incidents])

    def data(self, value: Any) -> Any:
        """Machine data (history, reports, commitments) as the new project sees it."""
        return self.refs.data(_rekey(value, self.old_key, self.new_key))


async def create_project(
    session: AsyncSession,
    principal: Principal,
    request: ImportRequest,
    plan: Plan,
    *,
    client: ClientContext,
) -> ProjectAccess:
    doc = request.document
    access = await projects.create_project(
        session,
        principal,
        ProjectCreate(
            key=request.key,
            name=request.name or doc.project.name,
            description=doc.project.description,
            settings=doc.project.settings,
        ),
        client=client,
    )
    plan.refs.bind(doc.project.ref, access.project.id)
    projects.continue_item_numbers(
        access.project, max([doc.project.next_number, *(i.number for i in doc.items)], default=0)
    )
    return access


async def add_members(
    session: AsyncSession, access: ProjectAccess, doc: ExportDocument, *, client: ClientContext
) -> dict[str, tuple[str, str]]:
    """The importer is the admin. Only an instance admin, who may add anyone to any project,
    brings the other exported members along (those with an account here); anyone else would be
    adding people without their consent. Returns the members: username (lower case) → (user
    id, role)."""
    if access.principal.is_instance_admin:
        for member in doc.members:
            if member.username.lower() == access.principal.user.username.lower():
                continue
            try:
                await projects.add_member(
                    session,
                    access,
                    MemberAdd(username=member.username, role=member.role),
                    client=client,
                )
            except NotFound:
                continue
    rows = await session.execute(projects_repo.members_of(access.project.id))
    return {user.username.lower(): (user.id, m.role) for m, user in rows}


async def write_workflow(session: AsyncSession, project_id: str, plan: Plan) -> None:
    """Statuses at positions 0, 1, 2… in the document's order of positions, as the workflow
    keeps them (a new status goes at the end, at the position the count gives it)."""
    doc = plan.doc
    in_order = sorted(doc.statuses, key=lambda s: s.position)
    await workflow_repo.replace_workflow(
        session,
        project_id,
        [
            {
                "id": plan.status_ids[s.name],
                "name": s.name,
                "category": s.category,
                "position": position,
                "wip_limit": s.wip_limit,
            }
            for position, s in enumerate(in_order)
        ],
        [{"id": plan.label_ids[lb.name], "name": lb.name, "color": lb.color} for lb in doc.labels],
    )


async def write_sprints(
    session: AsyncSession, project_id: str, plan: Plan, members: dict[str, tuple[str, str]]
) -> None:
    """Sprints as they stood, frozen commitment and report included; capacity only of people
    who are members here (the report keeps the team's person-days either way)."""
    sprints = plan.doc.sprints
    await sprints_repo.insert_imported(
        session,
        sprints=[
            {
                "id": sprint_id,
                "project_id": project_id,
                "name": s.name,
                "goal": s.goal,
                "start_date": s.start_date,
                "end_date": s.end_date,
                "state": s.state,
                "started_at": s.started_at,
                "completed_at": s.completed_at,
                "created_at": s.created_at,
                "updated_at": s.updated_at,
                "commitment": None
                if s.commitment is None
                else plan.data([c.model_dump(mode="json") for c in s.commitment]),
                "report": None if s.report is None else plan.data(s.report.model_dump(mode="json")),
                "version": 1,
            }
            for s, sprint_id in zip(sprints, plan.sprint_ids, strict=True)
        ],
        capacity=[
            {
                "id": new_id(),
                "sprint_id": sprint_id,
                "user_id": members[c.username.lower()][0],
                "allocation": c.allocation,
                "absent_days": [d.isoformat() for d in c.absent_days],
            }
            for s, sprint_id in zip(sprints, plan.sprint_ids, strict=True)
            for c in s.capacity
            if c.username.lower() in members
        ],
    )


async def write_items(
    session: AsyncSession, project_id: str, plan: Plan, members: dict[str, tuple[str, str]]
) -> None:
    """Items, their labels, links and comments. Reporters and comment authors stay the names
    the document gives; an assignee is the account only when it is a member here who may be
    assigned (not a viewer), else the name."""
    doc = plan.doc
    sprint_of = {s.ref: i for s, i in zip(doc.sprints, plan.sprint_ids, strict=True)}

    def assignee(name: str | None) -> tuple[str | None, str | None]:
        found = members.get(name.lower()) if name else None
        if found is not None and found[1] != "viewer":
            return found[0], None
        return None, name

    dor = doc.project.settings.definition_of_ready  # ticks are kept in the checklist's order
    items = []
    for i in _parents_first(doc.items):
        assignee_id, assignee_name = assignee(i.assignee)
        items.append(
            {
                "id": plan.item_ids[i.key],
                "project_id": project_id,
                "number": i.number,
                "key": f"{plan.new_key}-{i.number}",
                "type": i.type,
                "title": i.title,
                "description": i.description,
                "status_id": plan.status_ids[i.status],
                "priority": PRIORITIES.index(i.priority),
                "assignee_id": assignee_id,
                "assignee_name": assignee_name,
                "reporter_id": None,
                "reporter_name": i.reporter,
                "estimate": i.estimate,
                "parent_id": plan.item_ids[i.parent_key] if i.parent_key else None,
                "sprint_id": sprint_of[i.sprint] if i.sprint else None,
                "due_date": i.due_date,
                "blocked": i.blocked,
                "rank": i.rank,
                "created_at": i.created_at,
                "updated_at": i.updated_at,
                "started_at": i.started_at,
                "finished_at": i.finished_at,
                "dor_checked": [e.id for e in dor if e.id in i.dor_checked],
                "version": 1,
            }
        )
    now = utcnow()
    await items_repo.insert_imported(
        session,
        items=items,
        labels=[
            {"item_id": plan.item_ids[i.key], "label_id": plan.label_ids[name]}
            for i in doc.items
            for name in i.labels
        ],
        links=[
            {
                "id": link_id,
                "source_id": plan.item_ids[link.source],
                "target_id": plan.item_ids[link.target],
                "type": link.type,
                "created_at": link.created_at or now,
            }
            for link, link_id in zip(doc.links, plan.link_ids, strict=True)
        ],
        comments=[
            {
                "id": comment_id,
                "item_id": plan.item_ids[c.item_key],
                "author_id": None,
                "author_name": c.author,
                "body": c.body,
                "mention_ids": [],
                "created_at": c.created_at,
                "updated_at": c.updated_at,
            }
            for c, comment_id in zip(doc.comments, plan.comment_ids, strict=True)
        ],
    )


def _member_id(members: dict[str, tuple[str, str]], name: str | None) -> str | None:
    """The account of the copy's member with that username, if there is one."""
    found = members.get(name.lower()) if name else None
    return found[0] if found is not None else None


async def write_risks_and_blockers(
    session: AsyncSession, project_id: str, plan: Plan, members: dict[str, tuple[str, str]]
) -> None:
    """The risk register, then the blockers (which name their risk). The people they name are
    the copy's members of those usernames; anyone else is nobody (the columns hold accounts,
    not names)."""
    doc = plan.doc
    sprint_of = {s.ref: i for s, i in zip(doc.sprints, plan.sprint_ids, strict=True)}
    risks = doc.risks
    await risks_repo.insert_imported(
        session,
        risks=[
            {
                "id": risk_id,
                "project_id": project_id,
                "title": r.title,
                "description": r.description,
                "likelihood": r.likelihood,
                "impact": r.impact,
                "score": r.likelihood * r.impact,
                "status": r.status,
                "owner_id": _member_id(members, r.owner),
                "mitigation": r.mitigation,
                "review_date": r.review_date,
                "blocker_id": plan.refs.id(r.blocker) if r.blocker else None,
                "created_by_id": _member_id(members, r.created_by),
                "created_at": r.created_at,
                "updated_at": r.updated_at,
                "version": 1,
            }
            for r, risk_id in zip(risks, plan.risk_ids, strict=True)
        ],
        items=[
            {"risk_id": risk_id, "item_id": plan.item_ids[key]}
            for r, risk_id in zip(risks, plan.risk_ids, strict=True)
            for key in r.item_keys
        ],
        sprints=[
            {"risk_id": risk_id, "sprint_id": sprint_of[ref]}
            for r, risk_id in zip(risks, plan.risk_ids, strict=True)
            for ref in r.sprints
        ],
    )
    await blockers_repo.insert_imported(
        session,
        [
            {
                "id": blocker_id,
                "project_id": project_id,
                "item_id": plan.item_ids[b.item_key],
                "reason": b.reason,
                "waiting_on_kind": b.waiting_on.kind,
                "waiting_on_user_id": _member_id(members, b.waiting_on.user),
                "waiting_on_name": b.waiting_on.name,
                "waiting_on_item_id": plan.item_ids[b.waiting_on.item_key]
                if b.waiting_on.item_key
                else None,
                "status": b.status,
                "raised_by_id": _member_id(members, b.raised_by),
                "raised_at": b.raised_at,
                "resolved_by_id": _member_id(members, b.resolved_by),
                "resolved_at": b.resolved_at,
                "resolution": b.resolution,
                "resolved_age_hours": b.resolved_age_hours,
                "escalated_at": b.escalated_at,
                "risk_id": plan.refs.id(b.risk) if b.risk else None,
                "created_at": b.created_at,
                "updated_at": b.updated_at,
                "version": 1,
            }
            for b, blocker_id in zip(doc.blockers, plan.blocker_ids, strict=True)
        ],
    )


async def write_standups(
    session: AsyncSession, project_id: str, plan: Plan, members: dict[str, tuple[str, str]]
) -> None:
    """The stand-up config, entries and recorded summaries. An entry is its author's: it comes
    along only when its author is a member of the copy, and so is a participant."""
    standups = plan.doc.standups
    sprint_of = {s.ref: i for s, i in zip(plan.doc.sprints, plan.sprint_ids, strict=True)}
    config = standups.config
    participants = None
    if config is not None and config.participants is not None:
        found = (_member_id(members, name) for name in config.participants)
        participants = [user_id for user_id in found if user_id is not None]
    await standups_repo.insert_imported(
        session,
        config=None
        if config is None
        else {
            "project_id": project_id,
            "questions": [q.model_dump(mode="json") for q in config.questions],
            "weekdays": list(config.weekdays) if config.weekdays is not None else None,
            "cutoff": config.cutoff,
            "participants": participants,
            "share_answers_in_events": config.share_answers_in_events,
            "created_at": config.created_at,
            "updated_at": config.updated_at,
            "version": 1,
        },
        entries=[
            {
                "id": entry_id,
                "project_id": project_id,
                "user_id": user_id,
                "standup_date": e.date,
                "answers": dict(e.answers),
                "blocked": e.blocked,
                "blocker_ids": [plan.refs.id(ref) for ref in e.blockers],
                "late": e.late,
                "submitted_at": e.submitted_at,
                "updated_at": e.updated_at,
                "version": 1,
            }
            for e, entry_id in zip(standups.entries, plan.entry_ids, strict=True)
            if (user_id := _member_id(members, e.user)) is not None
        ],
        summaries=[
            {
                "id": summary_id,
                "project_id": project_id,
                "standup_date": s.date,
                "recorded_at": s.recorded_at,
                "expected": s.expected,
                "submitted": s.submitted,
                "participation": s.participation,
                "blocked_rate": s.blocked_rate,
                "open_blockers": s.open_blockers,
                "sprint_id": sprint_of[s.sprint] if s.sprint else None,
                "sprint_probability": s.sprint_probability,
            }
            for s, summary_id in zip(standups.summaries, plan.summary_ids, strict=True)
        ],
    )


def _rolled_back_at(d: DeploymentDoc) -> datetime | None:
    """When it became rolled back; a document from before `rolled_back_at` gets the best moment
    known, as the migration that added it did."""
    if d.state != "rolled_back" or d.rolled_back_at is not None:
        return d.rolled_back_at
    return d.restored_at or d.failed_at or d.finished_at or d.updated_at


async def write_delivery(
    session: AsyncSession, project_id: str, plan: Plan, members: dict[str, tuple[str, str]]
) -> None:
    """The promotion path (when the document has one: else the new project keeps the default
    path its creation made), the deployments with what they shipped, and the incidents, their
    numbers kept. The repository a deployment named and the commits Takt saw in pushes are not
    in the document: the copy's deployments name no repository and their commits keep their SHA
    and time. The people they name are the copy's members of those usernames, or nobody."""
    doc = plan.doc
    if doc.environments is None:
        return
    # Positions 0, 1, 2… along the path, in the document's order.
    path = sorted(
        zip(doc.environments, plan.environment_ids, strict=True),
        key=lambda pair: pair[0].position,
    )
    environments = [
        {
            "id": env_id,
            "project_id": project_id,
            "name": e.name,
            "name_key": e.name.lower(),
            "type": e.type,
            "position": position,
            "created_by_id": None,
            "created_at": e.created_at,
            "updated_at": e.updated_at,
            "version": 1,
        }
        for position, (e, env_id) in enumerate(path)
    ]
    ids = plan.refs.id
    deployments = [
        {
            "id": deployment_id,
            "project_id": project_id,
            "environment_id": ids(d.environment),
            "repository_id": None,
            "source": d.source,
            "external_id": d.external_id,
            "pipeline_id": d.pipeline_id,
            "sequence": d.sequence,
            "ref": d.git_ref,
            "sha": d.sha,
            "release_version": d.version,
            "description": d.description,
            "url": d.url,
            "state": d.state,
            "started_at": d.started_at,
            "finished_at": d.finished_at,
            "succeeded_at": d.succeeded_at,
            "triggered_by_id": _member_id(members, d.reported_by),
            "triggered_by": d.triggered_by,
            "is_hotfix": d.is_hotfix,
            "is_rollback": d.is_rollback,
            "fixes_deployment_id": ids(d.fixes) if d.fixes else None,
            "failed_at": d.failed_at,
            "restored_at": d.restored_at,
            "rolled_back_at": _rolled_back_at(d),
            "previous_deployment_id": ids(d.previous) if d.previous else None,
            "shipped_complete": d.shipped_complete,
            "shipped_commit_count": len(d.commits),
            "created_at": d.created_at,
            "updated_at": d.updated_at,
            "version": 1,
        }
        for d, deployment_id in zip(doc.deployments, plan.deployment_ids, strict=True)
    ]
    await deployments_repo.replace_imported(
        session,
        project_id,
        environments=environments,
        deployments=deployments,
        commits=[
            {
                "deployment_id": deployment_id,
                "sha": c.sha.lower(),
                "commit_id": None,
                "committed_at": c.committed_at,
            }
            for d, deployment_id in zip(doc.deployments, plan.deployment_ids, strict=True)
            for c in d.commits
        ],
        items=[
            {"deployment_id": deployment_id, "item_id": plan.item_ids[key]}
            for d, deployment_id in zip(doc.deployments, plan.deployment_ids, strict=True)
            for key in d.item_keys
        ],
    )
    await incidents_repo.insert_imported(
        session,
        [
            {
                "id": incident_id,
                "project_id": project_id,
                "number": i.number,
                "title": i.title,
                "description": i.description,
                "severity": i.severity,
                "state": i.state,
                "environment_id": ids(i.environment),
                "opened_at": i.opened_at,
                "resolved_at": i.resolved_at,
                "caused_by_deployment_id": ids(i.caused_by) if i.caused_by else None,
                "fixed_by_deployment_id": ids(i.fixed_by) if i.fixed_by else None,
                "opened_by_id": _member_id(members, i.opened_by),
                "created_at": i.created_at,
                "updated_at": i.updated_at,
                "version": 1,
            }
            for i, incident_id in zip(doc.incidents, plan.incident_ids, strict=True)
        ],
    )


async def write_readiness_policy(session: AsyncSession, access: ProjectAccess, plan: Plan) -> None:
    """The readiness policy, set through readiness as its admin would (environments by name);
    none in the document: the defaults."""
    policy = plan.doc.readiness_policy
    if policy is None:
        return
    try:
        await readiness_service.put_policy(
            session, access, ReadinessPolicyWrite(checks=policy), if_match=None
        )
    except ValidationFailed as exc:  # check() names these first; this is the backstop
        raise exc.under("/document/readiness_policy") from exc


async def write_history(session: AsyncSession, project_id: str, plan: Plan) -> None:
    """The document's history becomes the project's log, each event marked imported, its actor
    the name the document gave (never an account here)."""
    await events_repo.replace_project_log(
        session,
        project_id,
        [
            {
                "id": new_id(),
                "type": e.type,
                "subject_id": plan.refs.id(e.subject) if e.subject else None,
                "actor_id": None,
                "actor_name": e.actor,
                "occurred_at": e.occurred_at,
                "data": plan.data(e.data),
                "changes": plan.data(e.changes),
            }
            for e in plan.doc.history
        ],
    )
