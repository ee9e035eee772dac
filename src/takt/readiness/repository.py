"""Every query of readiness: its policy row, and the reads of the checks and the promotion
timeline over the tables of the domains below it (items, blockers, delivery, deployments,
incidents), read-only. The checks read the whole set of items at once, whatever its size: the
pull requests in one statement, the blockers, the promotion and the incidents together in
another (`check_facts`); the timeline is two statements after the subject's own load.

How the items of a commit are found (`items_of_ref`): the items named by the commit itself
(`commit_items` of a commit of the project's repositories with that SHA), by the pull requests
whose head is that commit or whose source branch received it (the commit was pushed to that
branch of that repository), and by the successful deployments of that commit (to any
environment: `deployment_items`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from takt.blockers.models import Blocker
from takt.core.models import UTCDateTime
from takt.core.time import utcnow
from takt.delivery.models import Commit, CommitItem, PullRequest, PullRequestItem, Repository
from takt.deployments.models import Deployment, DeploymentCommit, DeploymentItem, Environment
from takt.incidents.models import Incident
from takt.items.models import Item
from takt.items.pull_request_directory import ItemIdColumn
from takt.items.repository import LIVE
from takt.projects.models import Project
from takt.projects.repository import ChildFinder
from takt.readiness.models import ReadinessPolicy
from takt.workflow.models import Status

AnySelect = Select[*tuple[Any, ...]]
SUCCESS = "success"

# The pull request of a `/pull-requests/{pull_request_id}/promotion` path with its project.
PULL_REQUEST_BY_ID = ChildFinder[PullRequest](
    lambda: (
        select(PullRequest, Project)
        .join(Project, Project.id == PullRequest.project_id)
        .where(PullRequest.id == bindparam("pull_request_id"))
    ),
    param="pull_request_id",
)


# Policy ---------------------------------------------------------------------------------------


async def policy_row(session: AsyncSession, project_id: str) -> ReadinessPolicy | None:
    found: ReadinessPolicy | None = await session.scalar(
        select(ReadinessPolicy).where(ReadinessPolicy.project_id == project_id)
    )
    return found


async def policy_for_update(session: AsyncSession, project_id: str) -> ReadinessPolicy:
    """The project's policy row, made empty at version 0 if there was none, and locked for this
    transaction (`FOR UPDATE` on PostgreSQL; SQLite's write transactions hold the database's
    one write lock): two first writes at once both find the row, neither fails."""
    now = utcnow()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(ReadinessPolicy)
        .values(project_id=project_id, checks={}, created_at=now, updated_at=now, version=0)
        .on_conflict_do_nothing(index_elements=["project_id"])
    )
    stmt = (
        select(ReadinessPolicy)
        .where(ReadinessPolicy.project_id == project_id)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row: ReadinessPolicy = (await session.scalars(stmt)).one()
    return row


# Environments ---------------------------------------------------------------------------------


async def environments_of(session: AsyncSession, project_id: str) -> list[tuple[Any, ...]]:
    """(id, name, name key, type, position) of the project's environments, in promotion order."""
    rows = await session.execute(
        select(
            Environment.id,
            Environment.name,
            Environment.name_key,
            Environment.type,
            Environment.position,
        )
        .where(Environment.project_id == project_id)
        .order_by(Environment.position, Environment.id)
    )
    return [tuple(row) for row in rows]


# The statements of an answer are built once per shape (and database) with bound parameters:
# building and keying a statement of this size costs more CPU than PostgreSQL spends running it
# (bench/readiness.py). Lists of ids travel as one array on PostgreSQL (`= ANY(:ids)`: one
# prepared statement whatever the list's length, no SQL text to expand per call) and as an
# expanding IN on SQLite.


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _among(column: Any, name: str, postgres: bool) -> Any:
    if postgres:
        return column == any_(bindparam(name, type_=ARRAY(String)))
    return column.in_(bindparam(name, expanding=True))


P_PROJECT: BindParameter[str] = bindparam("project_id", type_=String)
P_SHA: BindParameter[str] = bindparam("sha", type_=String)
P_IDS = "item_ids"


@functools.cache
def _environments_and_policy() -> AnySelect:
    policy = (
        select(ReadinessPolicy.checks)
        .where(ReadinessPolicy.project_id == P_PROJECT)
        .scalar_subquery()
    )
    return (
        select(
            Environment.id,
            Environment.name,
            Environment.name_key,
            Environment.type,
            Environment.position,
            policy,
        )
        .where(Environment.project_id == P_PROJECT)
        .order_by(Environment.position, Environment.id)
    )


async def environments_and_policy(
    session: AsyncSession, project_id: str
) -> tuple[list[tuple[Any, ...]], dict[str, Any] | None]:
    """`environments_of` and the stored policy's JSON (None without one), in one statement (a
    project without environments has nothing to be ready for: its policy doesn't matter)."""
    rows = await session.execute(_environments_and_policy(), {"project_id": project_id})
    found = [tuple(row) for row in rows]
    return [row[:5] for row in found], (found[0][5] if found else None)


# Items ----------------------------------------------------------------------------------------

_ITEM_COLUMNS = (Item.id, Item.key, Item.title, Status.name, Status.category)


def _items(where: Any) -> AnySelect:
    return (
        select(*_ITEM_COLUMNS)
        .join(Status, Status.id == Item.status_id)
        .where(Item.project_id == P_PROJECT, where, LIVE)
        .order_by(Item.number)
    )


@functools.cache
def _items_by_key(postgres: bool) -> AnySelect:
    return _items(_among(Item.key, "keys", postgres))


async def items_by_key(
    session: AsyncSession, project_id: str, keys: Sequence[str]
) -> list[tuple[Any, ...]]:
    """(id, key, title, status name, category) of the project's live items among `keys`."""
    rows = await session.execute(
        _items_by_key(_is_postgres(session)), {"project_id": project_id, "keys": list(keys)}
    )
    return [tuple(row) for row in rows]


def _repositories_of() -> Select[str]:
    return select(Repository.id).where(Repository.project_id == P_PROJECT)


def _pull_requests_of_ref() -> tuple[Select[str], Select[str]]:
    """Ids of the project's pull requests whose head is `sha`, and of those whose source branch
    received the commit `sha` (pushed to that branch of that repository): two statements to
    unite, each an index probe or a scan of the project's pull requests, never a probe per
    pull request."""
    by_head = select(PullRequest.id).where(
        PullRequest.project_id == P_PROJECT, PullRequest.head_sha == P_SHA
    )
    by_branch = (
        select(PullRequest.id)
        .join(
            Commit,
            and_(
                Commit.repository_id == PullRequest.repository_id,
                Commit.branch == PullRequest.source_branch,
            ),
        )
        .where(Commit.repository_id.in_(_repositories_of()), Commit.sha == P_SHA)
    )
    return by_head, by_branch


@functools.cache
def _items_of_ref() -> AnySelect:
    commits = select(Commit.id).where(
        Commit.repository_id.in_(_repositories_of()), Commit.sha == P_SHA
    )
    linked = union(
        select(CommitItem.item_id).where(CommitItem.commit_id.in_(commits)),
        select(PullRequestItem.item_id).where(
            PullRequestItem.pull_request_id.in_(union(*_pull_requests_of_ref()))
        ),
        select(DeploymentItem.item_id)
        .join(Deployment, Deployment.id == DeploymentItem.deployment_id)
        .where(
            Deployment.project_id == P_PROJECT, Deployment.sha == P_SHA, Deployment.state == SUCCESS
        ),
    )
    return _items(Item.id.in_(linked)).limit(bindparam("limit"))


async def items_of_ref(
    session: AsyncSession, project_id: str, sha: str, limit: int
) -> list[tuple[Any, ...]]:
    """(id, key, title, status name, category) of the live items of the commit `sha` (see the
    module's docstring), at most `limit`: one statement."""
    rows = await session.execute(
        _items_of_ref(), {"project_id": project_id, "sha": sha, "limit": limit}
    )
    return [tuple(row) for row in rows]


# Checks ---------------------------------------------------------------------------------------


@functools.cache
def _pull_requests_for(postgres: bool, by_ref: bool) -> AnySelect:
    ids: Any = select(PullRequestItem.pull_request_id).where(
        _among(PullRequestItem.item_id, P_IDS, postgres)
    )
    if by_ref:
        ids = union(ids, *_pull_requests_of_ref())
    return (
        select(
            PullRequest.id,
            Repository.full_name,
            PullRequest.number,
            PullRequest.title,
            PullRequest.state,
            PullRequest.approved,
            PullRequest.url,
            PullRequestItem.item_id,
        )
        .join(Repository, Repository.id == PullRequest.repository_id)
        .outerjoin(
            PullRequestItem,
            and_(
                PullRequestItem.pull_request_id == PullRequest.id,
                _among(PullRequestItem.item_id, P_IDS, postgres),
            ),
        )
        .where(PullRequest.project_id == P_PROJECT, PullRequest.id.in_(ids))
        .order_by(Repository.full_name, PullRequest.number, PullRequest.id)
    )


async def pull_requests_for(
    session: AsyncSession, project_id: str, item_ids: Sequence[str], sha: str | None
) -> list[tuple[Any, ...]]:
    """(id, repository full name, number, title, state, approved, url, item id or None) of the
    pull requests that name any of `item_ids`, and of those of the commit `sha` when given;
    one row per (pull request, evaluated item it names). One statement."""
    params = {"project_id": project_id, P_IDS: list(item_ids), "sha": sha}
    rows = await session.execute(_pull_requests_for(_is_postgres(session), sha is not None), params)
    return [tuple(row) for row in rows]


@dataclass(frozen=True)
class CheckFacts:
    """What the blocker, promotion and incident checks read, fetched in one statement."""

    blockers: list[tuple[Any, ...]]  # as open_blockers_on
    incidents: list[tuple[Any, ...]]  # as open_incidents_in
    latest_success: tuple[Any, ...] | None  # as latest_success_of
    shipped: set[str]  # as shipped_to


# The parts of `check_facts`: (part, id, item id, text, severity, number, moment).
_BLOCKERS, _INCIDENTS, _LATEST, _SHIPPED = 1, 2, 3, 4


def _slots(
    part: int,
    *,
    id_: Any = None,
    item_id: Any = None,
    text: Any = None,
    severity: Any = None,
    number: Any = None,
    at: Any = None,
) -> list[Any]:
    def typed(value: Any, kind: Any) -> Any:
        """A column of the part, or a null of the slot's type (PostgreSQL types a bare
        NULL as text)."""
        return cast(null(), kind) if value is None else type_coerce(value, kind)

    return [
        literal(part, Integer).label("part"),
        typed(id_, String()).label("id"),
        typed(item_id, String()).label("item_id"),
        typed(text, Text()).label("text"),
        typed(severity, String()).label("severity"),
        typed(number, Integer()).label("number"),
        typed(at, UTCDateTime()).label("at"),
    ]


@functools.cache
def _check_facts(
    postgres: bool, blockers: bool, incidents: bool, latest: bool, shipped: bool
) -> Any:
    parts: list[Any] = []
    if blockers:
        parts.append(
            select(
                *_slots(
                    _BLOCKERS,
                    id_=Blocker.id,
                    item_id=Blocker.item_id,
                    text=Blocker.reason,
                    at=Blocker.raised_at,
                )
            ).where(_among(Blocker.item_id, P_IDS, postgres), Blocker.status == "open")
        )
    if incidents:
        parts.append(
            select(
                *_slots(
                    _INCIDENTS,
                    id_=Incident.id,
                    text=Incident.title,
                    severity=Incident.severity,
                    number=Incident.number,
                    at=Incident.opened_at,
                )
            ).where(
                Incident.environment_id == bindparam("target_id"),
                Incident.state == "open",
                Incident.severity.in_(bindparam("severities", expanding=True)),
            )
        )
    if latest:
        found = (
            select(Deployment.id, Deployment.release_version, Deployment.succeeded_at)
            .where(
                Deployment.project_id == P_PROJECT,
                Deployment.sha == P_SHA,
                Deployment.environment_id == bindparam("before_id"),
                Deployment.state == SUCCESS,
            )
            .order_by(Deployment.succeeded_at.desc(), Deployment.id)
            .limit(1)
            .subquery()
        )
        parts.append(
            select(
                *_slots(
                    _LATEST, id_=found.c.id, text=found.c.release_version, at=found.c.succeeded_at
                )
            )
        )
    if shipped:
        parts.append(
            select(*_slots(_SHIPPED, item_id=DeploymentItem.item_id))
            .join(Deployment, Deployment.id == DeploymentItem.deployment_id)
            .where(
                _among(DeploymentItem.item_id, P_IDS, postgres),
                Deployment.environment_id == bindparam("before_id"),
                Deployment.state == SUCCESS,
            )
            .distinct()
        )
    return parts[0] if len(parts) == 1 else union_all(*parts)


async def check_facts(
    session: AsyncSession,
    project_id: str,
    item_ids: Sequence[str],
    *,
    blockers: bool,
    incidents: tuple[str, Sequence[str]] | None,
    before: tuple[str, str | None] | None,
) -> CheckFacts:
    """In one statement: the open blockers on `item_ids` (when `blockers`), the open incidents
    of the environment of these severities (`incidents`: its id and the severities), and for
    the environment that must come first (`before`: its id and the commit asked about, or
    None) the latest successful deployment of the commit, or which of `item_ids` a
    successful deployment to it shipped. Each list in the order of the single reads above
    (open_blockers_on, open_incidents_in, latest_success_of, shipped_to)."""
    blockers = blockers and bool(item_ids)
    latest = before is not None and before[1] is not None
    shipped = before is not None and before[1] is None and bool(item_ids)
    facts = CheckFacts([], [], None, set())
    if not (blockers or incidents or latest or shipped):
        return facts
    params: dict[str, Any] = {P_IDS: list(item_ids), "project_id": project_id}
    if incidents is not None:
        params["target_id"], params["severities"] = incidents[0], list(incidents[1])
    if before is not None:
        params["before_id"], params["sha"] = before
    statement = _check_facts(
        _is_postgres(session), blockers, incidents is not None, latest, shipped
    )
    for part, id_, item_id, text, severity, number, at in await session.execute(statement, params):
        if part == _BLOCKERS:
            facts.blockers.append((id_, item_id, text, at))
        elif part == _INCIDENTS:
            facts.incidents.append((id_, number, text, severity, at))
        elif part == _LATEST:
            object.__setattr__(facts, "latest_success", (id_, text, at))
        else:
            facts.shipped.add(item_id)
    facts.blockers.sort(key=lambda row: (row[3], row[0]))
    facts.incidents.sort(key=lambda row: (row[3], row[4], row[0]))
    return facts


# Promotion timeline ---------------------------------------------------------------------------


def _moment(commits: Any) -> Any:
    return func.coalesce(commits.committed_at, commits.pushed_at)


async def item_stages(
    session: AsyncSession, item_id: str
) -> tuple[datetime | None, datetime | None, datetime | None, datetime | None]:
    """(first commit, first pull request ready, first review, first merge) of the item: its
    commits are those naming it and those pushed to the source branch of a pull request naming
    it; its pull requests those naming it. One statement."""
    prs = select(PullRequestItem.pull_request_id).where(PullRequestItem.item_id == item_id)
    named = select(func.min(_moment(Commit))).where(
        Commit.id.in_(select(CommitItem.commit_id).where(CommitItem.item_id == item_id))
    )
    on_branch = (
        select(func.min(_moment(Commit)))
        .join(
            PullRequest,
            and_(
                PullRequest.repository_id == Commit.repository_id,
                PullRequest.source_branch == Commit.branch,
            ),
        )
        .where(PullRequest.id.in_(prs))
    )

    def first(column: Any) -> Any:
        return select(func.min(column)).where(PullRequest.id.in_(prs)).scalar_subquery()

    row = (
        await session.execute(
            select(
                named.scalar_subquery(),
                on_branch.scalar_subquery(),
                first(PullRequest.ready_at),
                first(PullRequest.first_review_at),
                first(PullRequest.merged_at),
            )
        )
    ).one()
    committed = min((t for t in (row[0], row[1]) if t is not None), default=None)
    return committed, row[2], row[3], row[4]


async def pull_request_first_commit(session: AsyncSession, pr: PullRequest) -> datetime | None:
    """The first commit of the pull request: those pushed to its source branch of its
    repository, and its head commit."""
    conditions = [Commit.sha == pr.head_sha] if pr.head_sha else []
    if pr.source_branch:
        conditions.append(Commit.branch == pr.source_branch)
    if not conditions:
        return None
    moment: datetime | None = await session.scalar(
        select(func.min(_moment(Commit))).where(
            Commit.repository_id == pr.repository_id, or_(*conditions)
        )
    )
    return moment


def _first_deployment(project_id: str, shipped: Any) -> tuple[Any, Any]:
    """Per environment (correlated to `Environment.id`): the id and the moment of the first
    successful deployment there for which `shipped` holds."""

    def first(column: Any) -> Any:
        return (
            select(column)
            .where(
                Deployment.project_id == project_id,
                Deployment.environment_id == Environment.id,
                Deployment.state == SUCCESS,
                shipped,
            )
            .order_by(Deployment.succeeded_at, Deployment.id)
            .limit(1)
            .correlate(Environment)
            .scalar_subquery()
        )

    return first(Deployment.id), first(Deployment.succeeded_at)


async def deployed_stages(
    session: AsyncSession, project_id: str, shipped: Any
) -> list[tuple[Any, ...]]:
    """(name, type, first deployment id, its moment) per environment of the project, in
    promotion order: the first successful deployment for which `shipped` holds. One statement."""
    deployment_id, at = _first_deployment(project_id, shipped)
    rows = await session.execute(
        select(Environment.name, Environment.type, deployment_id, at)
        .where(Environment.project_id == project_id)
        .order_by(Environment.position, Environment.id)
    )
    return [tuple(row) for row in rows]


def ships_item(item_id: str) -> Any:
    """A deployment shipped the item (its `deployment_items` name it)."""
    return exists().where(
        DeploymentItem.deployment_id == Deployment.id, DeploymentItem.item_id == item_id
    )


def ships_pull_request(pr: PullRequest) -> Any:
    """A deployment shipped the pull request: its head commit is among the deployment's
    commits, or, once it merged, the deployment shipped an item it names."""
    conditions: list[Any] = []
    if pr.head_sha:
        conditions.append(
            exists().where(
                DeploymentCommit.deployment_id == Deployment.id,
                DeploymentCommit.sha == pr.head_sha,
            )
        )
    if pr.merged_at is not None:
        conditions.append(
            and_(
                Deployment.succeeded_at >= pr.merged_at,
                exists().where(
                    DeploymentItem.deployment_id == Deployment.id,
                    DeploymentItem.item_id.in_(
                        select(PullRequestItem.item_id).where(
                            PullRequestItem.pull_request_id == pr.id
                        )
                    ),
                ),
            )
        )
    return or_(*conditions) if conditions else false()


# The sprint review's release lookup (takt.sprints.release_directory) --------------------------


def in_production_since(item_id: ItemIdColumn) -> Any:
    """When a successful deployment to an environment of type `production` first shipped the
    item `item_id` (a column of the enclosing statement); NULL when none did. A scalar subquery
    sprints nests in its review (an index probe of `deployment_items` per item)."""
    return (
        select(func.min(Deployment.succeeded_at))
        .select_from(DeploymentItem)
        .join(Deployment, Deployment.id == DeploymentItem.deployment_id)
        .join(Environment, Environment.id == Deployment.environment_id)
        .where(
            DeploymentItem.item_id == item_id,
            Deployment.state == SUCCESS,
            Environment.type == "production",
        )
        .correlate_except(DeploymentItem, Deployment, Environment)
        .scalar_subquery()
    )
