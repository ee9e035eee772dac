"""Every query of deployments: environments (with the finder of `/environments/{id}`),
deployments (with the finder of `/deployments/{id}`), the lists' statements, and what each
deployment shipped."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Float,
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.events import Event
from takt.delivery.models import Commit, CommitItem, PullRequest, PullRequestItem
from takt.deployments.models import Deployment, DeploymentCommit, DeploymentItem, Environment
from takt.items.models import Item
from takt.items.repository import LIVE
from takt.projects.models import Project
from takt.projects.repository import ChildFinder

AnySelect = Select[*tuple[Any, ...]]


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# Environments -------------------------------------------------------------------------------------

# The environment of an `/environments/{environment_id}` path with its project: one statement.
ENVIRONMENT_BY_ID = ChildFinder[Environment](
    lambda: (
        select(Environment, Project)
        .join(Project, Project.id == Environment.project_id)
        .where(Environment.id == bindparam("environment_id"))
    ),
    param="environment_id",
)


def environments_of(project_id: str) -> Select[Environment]:
    return select(Environment).where(Environment.project_id == project_id)


async def environments_in_order(session: AsyncSession, project_id: str) -> list[Environment]:
    """The project's environments along the promotion path (position, then id)."""
    return list(
        await session.scalars(
            environments_of(project_id).order_by(Environment.position, Environment.id)
        )
    )


async def environment_by_name(
    session: AsyncSession, project_id: str, name: str
) -> Environment | None:
    """The project's environment named `name`, case-insensitively (surrounding blanks ignored)."""
    found: Environment | None = await session.scalar(
        select(Environment).where(
            Environment.project_id == project_id,
            Environment.name_key == name.strip().lower(),
        )
    )
    return found


async def environment_in_project(
    session: AsyncSession, project_id: str, environment_id: str
) -> Environment | None:
    found: Environment | None = await session.scalar(
        select(Environment).where(
            Environment.project_id == project_id, Environment.id == environment_id
        )
    )
    return found


async def environments_by_id(session: AsyncSession, ids: Sequence[str]) -> dict[str, Environment]:
    if not ids:
        return {}
    rows = await session.scalars(select(Environment).where(Environment.id.in_(set(ids))))
    return {env.id: env for env in rows}


async def name_taken(
    session: AsyncSession, project_id: str, name_key: str, *, other_than: str | None = None
) -> bool:
    stmt = select(
        exists().where(
            Environment.project_id == project_id,
            Environment.name_key == name_key,
            Environment.id != (other_than or ""),
        )
    )
    return bool(await session.scalar(stmt))


async def next_position(session: AsyncSession, project_id: str) -> int:
    top = await session.scalar(
        select(func.max(Environment.position)).where(Environment.project_id == project_id)
    )
    return 0 if top is None else int(top) + 1


async def lock_environments(session: AsyncSession, project_id: str) -> None:
    """Serialize changes of one project's promotion path (PostgreSQL: the project row `FOR
    UPDATE`; SQLite's write transactions are serialized already), so two moves or creates
    can't leave positions with gaps or twins."""
    if _is_postgres(session):
        await session.execute(select(Project.id).where(Project.id == project_id).with_for_update())


async def shift_positions(
    session: AsyncSession, project_id: str, *, start: int, end: int | None, by: int
) -> None:
    """Add `by` to the position of the project's environments with start <= position (<= end)."""
    cond = [Environment.project_id == project_id, Environment.position >= start]
    if end is not None:
        cond.append(Environment.position <= end)
    await session.execute(
        update(Environment)
        .where(*cond)
        .values(position=Environment.position + by, version=Environment.version + 1)
        .execution_options(synchronize_session=False)
    )


async def has_deployments(session: AsyncSession, environment_id: str) -> bool:
    return bool(
        await session.scalar(select(exists().where(Deployment.environment_id == environment_id)))
    )


async def projects_without_environments(session: AsyncSession) -> list[str]:
    rows = await session.scalars(
        select(Project.id).where(~exists().where(Environment.project_id == Project.id))
    )
    return list(rows)


# Deployments --------------------------------------------------------------------------------------

# The deployment of a `/deployments/{deployment_id}` path with its project and environment.
DEPLOYMENT_BY_ID = ChildFinder[Deployment](
    lambda: (
        select(Deployment, Project, Environment)
        .join(Project, Project.id == Deployment.project_id)
        .join(Environment, Environment.id == Deployment.environment_id)
        .where(Deployment.id == bindparam("deployment_id"))
    ),
    param="deployment_id",
)


async def deployment_in_project(
    session: AsyncSession, project_id: str, deployment_id: str, *, lock: bool = False
) -> Deployment | None:
    stmt = select(Deployment).where(
        Deployment.project_id == project_id, Deployment.id == deployment_id
    )
    if lock and _is_postgres(session):
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    found: Deployment | None = await session.scalar(stmt)
    return found


async def find_reported(
    session: AsyncSession,
    project_id: str,
    *,
    environment_id: str,
    source: str,
    external_id: str | None,
    pipeline_id: str | None,
    sequence: int | None,
) -> Deployment | None:
    """The deployment a report names again: by the provider's id, or by (environment,
    pipeline, sequence). Locked for this transaction on PostgreSQL, read fresh."""
    if external_id is not None:
        cond: Any = and_(Deployment.source == source, Deployment.external_id == external_id)
    elif pipeline_id is not None and sequence is not None:
        cond = and_(
            Deployment.environment_id == environment_id,
            Deployment.pipeline_id == pipeline_id,
            Deployment.sequence == sequence,
        )
    else:
        return None
    stmt = (
        select(Deployment)
        .where(Deployment.project_id == project_id, cond)
        .execution_options(populate_existing=True)
    )
    if _is_postgres(session):
        stmt = stmt.with_for_update()
    found: Deployment | None = await session.scalar(stmt)
    return found


async def insert_reported(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert a reported deployment unless one with the same idempotency key exists (a
    concurrent report made it): whether this call made it."""
    made = await session.scalar(
        _insert(session)(Deployment)
        .values(values)
        .on_conflict_do_nothing()
        .returning(Deployment.id)
    )
    return made is not None


def deployments_of(
    project_id: str,
    *,
    environment_id: str | None = None,
    state: str | None = None,
    sha: str | None = None,
    started_from: datetime | None = None,
    started_to: datetime | None = None,
) -> Select[Deployment]:
    stmt = select(Deployment).where(Deployment.project_id == project_id)
    if environment_id is not None:
        stmt = stmt.where(Deployment.environment_id == environment_id)
    if state is not None:
        stmt = stmt.where(Deployment.state == state)
    if sha is not None:
        needle = sha.lower()
        if len(needle) >= 40:
            stmt = stmt.where(Deployment.sha == needle)
        else:
            stmt = stmt.where(Deployment.sha.startswith(needle, autoescape=True))
    if started_from is not None:
        stmt = stmt.where(Deployment.started_at >= started_from)
    if started_to is not None:
        stmt = stmt.where(Deployment.started_at < started_to)
    return stmt


async def previous_success(
    session: AsyncSession, deployment: Deployment, succeeded_at: datetime
) -> Deployment | None:
    """The latest other deployment to the same environment that succeeded before `succeeded_at`
    (one rolled back since doesn't count: the environment no longer runs it)."""
    found: Deployment | None = await session.scalar(
        select(Deployment)
        .where(
            Deployment.environment_id == deployment.environment_id,
            Deployment.id != deployment.id,
            Deployment.state == "success",
            Deployment.succeeded_at.is_not(None),
            or_(
                Deployment.succeeded_at < succeeded_at,
                and_(Deployment.succeeded_at == succeeded_at, Deployment.id < deployment.id),
            ),
        )
        .order_by(Deployment.succeeded_at.desc(), Deployment.id.desc())
        .limit(1)
    )
    return found


async def fixers_of(session: AsyncSession, deployment_id: str) -> list[Deployment]:
    return list(
        await session.scalars(
            select(Deployment)
            .where(Deployment.fixes_deployment_id == deployment_id)
            .order_by(Deployment.started_at, Deployment.id)
        )
    )


async def latest_fix_success(session: AsyncSession, deployment_id: str) -> datetime | None:
    """When the last of the hotfixes and rollbacks of the deployment that went live finished."""
    found: datetime | None = await session.scalar(
        select(func.max(func.coalesce(Deployment.finished_at, Deployment.succeeded_at))).where(
            Deployment.fixes_deployment_id == deployment_id, Deployment.succeeded_at.is_not(None)
        )
    )
    return found


# What a deployment shipped ------------------------------------------------------------------------


async def replace_shipped(
    session: AsyncSession,
    deployment_id: str,
    commits: Sequence[dict[str, Any]],
    item_ids: Sequence[str],
) -> None:
    """Record what the deployment shipped (replacing what was recorded before)."""
    await session.execute(
        delete(DeploymentCommit).where(DeploymentCommit.deployment_id == deployment_id)
    )
    await session.execute(
        delete(DeploymentItem).where(DeploymentItem.deployment_id == deployment_id)
    )
    if commits:
        await session.execute(
            _insert(session)(DeploymentCommit)
            .values([{**row, "deployment_id": deployment_id} for row in commits])
            .on_conflict_do_nothing()
        )
    if item_ids:
        await session.execute(
            _insert(session)(DeploymentItem)
            .values([{"deployment_id": deployment_id, "item_id": i} for i in sorted(set(item_ids))])
            .on_conflict_do_nothing()
        )


async def shipped_commits(
    session: AsyncSession, deployment_id: str, *, limit: int
) -> list[DeploymentCommit]:
    """The first `limit` commits the deployment shipped, newest first."""
    return list(
        await session.scalars(
            select(DeploymentCommit)
            .where(DeploymentCommit.deployment_id == deployment_id)
            .order_by(DeploymentCommit.committed_at.desc().nulls_last(), DeploymentCommit.sha)
            .limit(limit)
        )
    )


async def shipped_items(session: AsyncSession, deployment_id: str, *, limit: int) -> list[Item]:
    """The live items the deployment shipped, by key."""
    return list(
        await session.scalars(
            select(Item)
            .join(DeploymentItem, DeploymentItem.item_id == Item.id)
            .where(DeploymentItem.deployment_id == deployment_id, LIVE)
            .order_by(Item.number)
            .limit(limit)
        )
    )


async def shipped_item_counts(
    session: AsyncSession, deployment_ids: Sequence[str]
) -> dict[str, int]:
    """How many live items each deployment shipped (those in the trash aside, as in the
    detail's `shipped.items`): one grouped statement for a whole page; a deployment that
    shipped none is absent."""
    if not deployment_ids:
        return {}
    rows = await session.execute(
        select(DeploymentItem.deployment_id, func.count())
        .join(Item, Item.id == DeploymentItem.item_id)
        .where(DeploymentItem.deployment_id.in_(set(deployment_ids)), LIVE)
        .group_by(DeploymentItem.deployment_id)
    )
    return {deployment_id: int(count) for deployment_id, count in rows.all()}


async def shipped_item_keys(
    session: AsyncSession, deployment_id: str, *, limit: int = 100
) -> list[str]:
    return [item.key for item in await shipped_items(session, deployment_id, limit=limit)]


async def shipped_shas(session: AsyncSession, deployment_id: str, *, limit: int) -> list[str]:
    return list(
        await session.scalars(
            select(DeploymentCommit.sha)
            .where(DeploymentCommit.deployment_id == deployment_id)
            .order_by(DeploymentCommit.sha)
            .limit(limit)
        )
    )


# Stand-up drafts (`deployments.drafts`) ----------------------------------------------------------


def _authored_commits(user_id: str) -> Any:
    """How many of the member's commits the deployment in the outer statement shipped."""
    return (
        select(func.count())
        .select_from(DeploymentCommit)
        .join(Commit, Commit.id == DeploymentCommit.commit_id)
        .where(DeploymentCommit.deployment_id == Deployment.id, Commit.author_user_id == user_id)
        .scalar_subquery()
    )


def _authored_pull_request_of(item_id: Any, user_id: str) -> Any:
    """Whether the member authored a pull request linked to the item."""
    return (
        select(PullRequestItem.item_id)
        .join(PullRequest, PullRequest.id == PullRequestItem.pull_request_id)
        .where(PullRequestItem.item_id == item_id, PullRequest.author_user_id == user_id)
        .exists()
    )


def _own_head_commit(user_id: str) -> Any:
    """Whether the member authored the commit the deployment in the outer statement deployed."""
    return (
        select(Commit.id)
        .where(
            Commit.project_id == Deployment.project_id,
            Commit.sha == Deployment.sha,
            Commit.author_user_id == user_id,
        )
        .exists()
    )


def _standing(until: datetime, lookback: timedelta) -> Any:
    """Failed (it needed remediation) in the `lookback` before `until` and service not restored
    yet; a rollback put the previous version back, so a rolled-back deployment is not standing."""
    return and_(
        Deployment.failed_at >= until - lookback,
        Deployment.failed_at < until,
        Deployment.restored_at.is_(None),
        Deployment.state != "rolled_back",
    )


async def member_deployments(
    session: AsyncSession,
    project_id: str,
    user_id: str,
    *,
    since: datetime,
    until: datetime,
    started_since: datetime,
    lookback: timedelta,
    limit: int,
) -> list[tuple[Deployment, str, str, int]]:
    """The deployments that shipped the member's changes and succeeded or failed in
    [since, until), or failed in the `lookback` and are not restored, started from
    `started_since`: failed ones first, then the latest; with their environment's name and type
    and how many of the member's commits each shipped. One statement."""
    commits = _authored_commits(user_id)
    shipped_item = (
        select(DeploymentItem.item_id)
        .where(
            DeploymentItem.deployment_id == Deployment.id,
            _authored_pull_request_of(DeploymentItem.item_id, user_id),
        )
        .exists()
    )
    finished_failed = Deployment.state == "failure"
    in_window = or_(
        and_(Deployment.succeeded_at >= since, Deployment.succeeded_at < until),
        and_(Deployment.failed_at >= since, Deployment.failed_at < until),
        and_(finished_failed, Deployment.finished_at >= since, Deployment.finished_at < until),
    )
    failed = or_(
        and_(Deployment.failed_at.is_not(None), Deployment.failed_at < until), finished_failed
    )
    rows = await session.execute(
        select(Deployment, Environment.name, Environment.type, commits)
        .join(Environment, Environment.id == Deployment.environment_id)
        .where(
            Deployment.project_id == project_id,
            Deployment.started_at >= started_since,
            Deployment.started_at < until,
            or_(in_window, _standing(until, lookback)),
            or_(commits > 0, shipped_item, and_(finished_failed, _own_head_commit(user_id))),
        )
        .order_by(
            case((failed, 0), else_=1),
            func.coalesce(
                Deployment.failed_at, Deployment.finished_at, Deployment.started_at
            ).desc(),
            Deployment.id,
        )
        .limit(limit)
    )
    return [(d, name, kind, int(count)) for d, name, kind, count in rows.all()]


async def member_item_keys(
    session: AsyncSession, user_id: str, deployment_ids: Sequence[str], failure_ids: Sequence[str]
) -> dict[str, list[str]]:
    """The member's items each deployment shipped (items of their pull requests, or of their
    commits it shipped), or for those of `failure_ids` (finished in failure) the items of its
    commit if the member authored it; by item number, one statement."""
    own_commit_item = (
        select(CommitItem.item_id)
        .join(Commit, Commit.id == CommitItem.commit_id)
        .join(DeploymentCommit, DeploymentCommit.commit_id == Commit.id)
        .where(
            CommitItem.item_id == DeploymentItem.item_id,
            DeploymentCommit.deployment_id == DeploymentItem.deployment_id,
            Commit.author_user_id == user_id,
        )
        .exists()
    )
    shipped = (
        select(DeploymentItem.deployment_id.label("deployment_id"), Item.number, Item.key)
        .join(Item, Item.id == DeploymentItem.item_id)
        .where(
            DeploymentItem.deployment_id.in_(list(deployment_ids)),
            LIVE,
            or_(_authored_pull_request_of(DeploymentItem.item_id, user_id), own_commit_item),
        )
    )
    at_head = (
        select(Deployment.id.label("deployment_id"), Item.number, Item.key)
        .join(
            Commit,
            and_(Commit.project_id == Deployment.project_id, Commit.sha == Deployment.sha),
        )
        .join(CommitItem, CommitItem.commit_id == Commit.id)
        .join(Item, Item.id == CommitItem.item_id)
        .where(Deployment.id.in_(list(failure_ids)), Commit.author_user_id == user_id, LIVE)
    )
    both = union_all(shipped, at_head).subquery()
    rows = await session.execute(
        select(both.c.deployment_id, both.c.number, both.c.key)
        .distinct()
        .order_by(both.c.deployment_id, both.c.number)
    )
    keys: dict[str, list[str]] = defaultdict(list)
    for deployment_id, _number, key in rows.all():
        keys[deployment_id].append(key)
    return keys


async def subject_events(
    session: AsyncSession, project_id: str, subject_ids: Sequence[str], types: Sequence[str]
) -> list[tuple[str, str, str, Any]]:
    """The events of these types about these deployments, oldest first: (subject id, type,
    event id, data). One statement on the subject index."""
    rows = await session.execute(
        select(Event.subject_id, Event.type, Event.id, Event.data)
        .where(
            Event.subject_id.in_(list(subject_ids)),
            Event.project_id == project_id,
            Event.type.in_(list(types)),
        )
        .order_by(Event.seq)
    )
    return [(subject_id, kind, event_id, data) for subject_id, kind, event_id, data in rows.all()]


# Export and import (`takt.transfer`) --------------------------------------------------------------


async def project_deployments(session: AsyncSession, project_id: str) -> list[Deployment]:
    """Every deployment of the project, oldest started first."""
    return list(
        await session.scalars(
            select(Deployment)
            .where(Deployment.project_id == project_id)
            .order_by(Deployment.started_at, Deployment.id)
        )
    )


async def project_shipped(
    session: AsyncSession, project_id: str
) -> tuple[list[DeploymentCommit], list[tuple[str, str]]]:
    """What the project's deployments shipped: their commits (by deployment, newest first) and
    (deployment id, item id) pairs. Two statements."""
    commits = await session.scalars(
        select(DeploymentCommit)
        .join(Deployment, Deployment.id == DeploymentCommit.deployment_id)
        .where(Deployment.project_id == project_id)
        .order_by(
            DeploymentCommit.deployment_id,
            DeploymentCommit.committed_at.desc().nulls_last(),
            DeploymentCommit.sha,
        )
    )
    items = await session.execute(
        select(DeploymentItem.deployment_id, DeploymentItem.item_id)
        .join(Deployment, Deployment.id == DeploymentItem.deployment_id)
        .where(Deployment.project_id == project_id)
        .order_by(DeploymentItem.deployment_id, DeploymentItem.item_id)
    )
    return list(commits), [(d, i) for d, i in items.all()]


async def replace_imported(
    session: AsyncSession,
    project_id: str,
    *,
    environments: Sequence[dict[str, Any]],
    deployments: Sequence[dict[str, Any]],
    commits: Sequence[dict[str, Any]],
    items: Sequence[dict[str, Any]],
) -> None:
    """An imported project's promotion path (replacing the default one its creation made; it
    has no deployments yet) and its deployments with what they shipped, in one INSERT per
    table. Deployments name each other (the one remediated, the previous success), so those
    links are set once every row is in; shipped commits get the lead times the metrics read."""
    await session.execute(delete(Environment).where(Environment.project_id == project_id))
    if environments:
        await session.execute(insert(Environment), list(environments))
    links = [
        {
            "b_id": row["id"],
            "b_fixes": row.get("fixes_deployment_id"),
            "b_previous": row.get("previous_deployment_id"),
            "b_updated_at": row["updated_at"],  # kept: the column's onupdate would say now
        }
        for row in deployments
        if row.get("fixes_deployment_id") or row.get("previous_deployment_id")
    ]
    if deployments:
        unlinked = [
            {**row, "fixes_deployment_id": None, "previous_deployment_id": None}
            for row in deployments
        ]
        await session.execute(insert(Deployment), unlinked)
    if links:  # one UPDATE run for every linked row (the table's, not the versioned entity's)
        table = cast(Table, Deployment.__table__)
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                fixes_deployment_id=bindparam("b_fixes"),
                previous_deployment_id=bindparam("b_previous"),
                updated_at=bindparam("b_updated_at"),
            ),
            links,
        )
    for model, rows in ((DeploymentCommit, commits), (DeploymentItem, items)):
        if rows:
            await session.execute(insert(model), list(rows))
    if commits:
        # Every deployment of the project (all imported), named by a subquery: an import may
        # hold more deployments than a statement takes bound values.
        imported = select(Deployment.id).where(
            Deployment.environment_id.in_(
                select(Environment.id).where(Environment.project_id == project_id)
            )
        )
        await store_lead_times(session, imported)


async def store_lead_times(
    session: AsyncSession, deployment_ids: Sequence[str] | Select[Any]
) -> None:
    """Copies onto the deployment's shipped commits its environment, when it went live and
    each commit's change lead time in seconds (deployed - committed, when committed before),
    computed by the database as the metrics did from the two tables (takt.metrics reads them
    instead of joining every commit to its deployment). Called by the service whenever a
    deployment's shipped commits are recorded, and once for an import's deployments."""
    commit = DeploymentCommit
    own = Deployment.id == commit.deployment_id
    deployed = select(Deployment.succeeded_at).where(own).scalar_subquery()
    environment = select(Deployment.environment_id).where(own).scalar_subquery()
    if session.get_bind().dialect.name == "postgresql":
        seconds: Any = sql_cast(func.date_part("epoch", deployed - commit.committed_at), Float)
    else:
        seconds = (func.julianday(deployed) - func.julianday(commit.committed_at)) * 86400.0
    await session.execute(
        update(commit)
        .where(commit.deployment_id.in_(deployment_ids))
        .values(
            environment_id=environment,
            deployed_at=deployed,
            lead=case((commit.committed_at < deployed, seconds)),
        )
        .execution_options(synchronize_session=False)
    )
