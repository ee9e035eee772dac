"""Deployments' rules: recording a deployment from any source (`record_deployment`, idempotent,
state moving forward only), what it shipped, and when it counts as failed and restored.

**Failed** (`failed_at`) means *needed remediation*, as METRICS.md's change failure rate counts
it: an incident names it as its cause (`mark_failed(reason="incident")`, by `takt.incidents`), a
rollback of it (`rolled_back`), or a hotfix fixing it (`hotfix`). A deployment that merely
finished in `failure` never went live: it writes `deployment.failed` with reason `failure` (so
Slack and webhooks hear of it) but is not marked failed. `restored_at` is when service came back:
the incident resolved, or the fixing deployment succeeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth import repository as auth_repo
from takt.auth.models import User
from takt.auth.principal import Principal
from takt.core.concurrency import claim, claim_all
from takt.core.errors import Conflict, ValidationFailed
from takt.core.events import emit
from takt.core.models import new_id
from takt.core.pagination import PageRequest, SortKey
from takt.core.time import utcnow
from takt.delivery import repository as delivery_repo
from takt.delivery.models import Repository
from takt.deployments import environments, incident_directory, shipped
from takt.deployments import repository as repo
from takt.deployments.environments import UnknownEnvironment
from takt.deployments.events import (
    DeploymentChanges,
    DeploymentCreated,
    DeploymentEvent,
    DeploymentFailed,
    DeploymentStarted,
    DeploymentSucceeded,
    DeploymentUpdateChanges,
    DeploymentUpdated,
)
from takt.deployments.facts import DeploymentReport, DeploymentState
from takt.deployments.models import Deployment, Environment
from takt.deployments.schemas import (
    DeploymentCreate,
    DeploymentFilters,
    DeploymentUpdate,
)
from takt.deployments.shipped import MAX_EVENT_ITEMS
from takt.items import repository as items_repo
from takt.projects.models import Project
from takt.projects.policies import ProjectAccess

FailReason = Literal["failure", "rolled_back", "incident", "hotfix"]

# The order states move in: a report never moves a deployment back (a late `in_progress` after
# `success` changes nothing). `success` and `failure` end it, except that a success can later be
# rolled back.
STATE_RANK: dict[str, int] = {
    "pending": 0,
    "in_progress": 1,
    "success": 2,
    "failure": 2,
    "rolled_back": 3,
}
FINISHED = ("success", "failure", "rolled_back")


class InvalidStateChange(Conflict):
    """A deployment's state only moves forward: `pending` → `in_progress` → `success` or
    `failure`, and `success` → `rolled_back`. `failure` and `rolled_back` are final. A new
    attempt is a new deployment (a new sequence number)."""

    code = "invalid-state-change"
    title = "State can't move that way"


def can_move(current: str, new: str) -> bool:
    """Whether a deployment in `current` may move to `new`."""
    if current == new:
        return False
    if current == "success":
        return new == "rolled_back"
    if current in ("failure", "rolled_back"):
        return False
    return new != "rolled_back" and STATE_RANK[new] > STATE_RANK[current]


# Recording a deployment ---------------------------------------------------------------------------


def _event(
    cls: type[DeploymentEvent], d: Deployment, env: Environment, **extra: Any
) -> DeploymentEvent:
    return cls(
        id=d.id,
        environment_id=env.id,
        environment=env.name,
        environment_type=env.type,
        state=d.state,
        ref=d.ref,
        sha=d.sha,
        version=d.release_version,
        url=d.url,
        triggered_by=d.triggered_by,
        is_hotfix=d.is_hotfix,
        is_rollback=d.is_rollback,
        **extra,
    )


async def _actor_user_id(session: AsyncSession, actor: Principal | None) -> str | None:
    """The reporter's account, if the actor is one (automations are no accounts)."""
    if actor is None:
        return None
    return actor.id if await auth_repo.get_user(session, actor.id) is not None else None


FIXES = "/fixes_deployment_id"


def _starts_in_order(target_start: datetime, fix_start: datetime) -> bool:
    """The one rule between a hotfix or rollback and the deployment it fixes: the fix starts
    strictly after it. Along a chain of fixes the start times then fall, so no chain can come
    back to where it started (two deployments fixing each other, or a longer cycle) with no
    walk of the chain. Held when a fix is linked (`_fix_target`) and when a start moves
    (`_check_moved_start`)."""
    return fix_start > target_start


async def _fix_target(
    session: AsyncSession,
    project: Project,
    fixes_id: str | None,
    *,
    own_id: str | None,
    environment_id: str,
    starts_at: datetime,
) -> Deployment | None:
    """The deployment a hotfix or rollback (`own_id`, to `environment_id`, started at
    `starts_at`) remediates: another of the project's, to the same environment, that started
    before the fix. Otherwise 422: the target's `failed_at` is the fix's start, and DORA's
    recovery time runs from it. "Started before" is `_starts_in_order`, checked under the
    target's row lock."""
    if fixes_id is None:
        return None
    # Locked: a report moving the target's start (`_check_moved_start`) waits for this link, or
    # this link sees the start it moved to.
    target = await repo.deployment_in_project(session, project.id, fixes_id, lock=True)
    if target is None or target.id == own_id:
        raise ValidationFailed.at(
            FIXES,
            "unknown deployment",
            detail="fixes_deployment_id is not a deployment of this project (other than this one).",
        )
    if target.environment_id != environment_id:
        raise ValidationFailed.at(
            FIXES,
            "another environment",
            detail="A hotfix or rollback fixes a deployment to its own environment.",
        )
    if not _starts_in_order(target.started_at, starts_at):
        raise ValidationFailed.at(
            FIXES,
            "not started before",
            detail="A hotfix or rollback starts after the deployment it fixes started.",
        )
    return target


async def _check_moved_start(
    session: AsyncSession, project: Project, deployment: Deployment, starts_at: datetime
) -> None:
    """A report moves the (claimed) deployment's start to `starts_at`: it must still start after
    the deployment it fixes and before every deployment fixing it (`_fix_target`'s rule), or
    two deployments could end up fixing each other. 422 at `/started_at` otherwise."""
    if deployment.fixes_deployment_id is not None:
        target = await repo.deployment_in_project(
            session, project.id, deployment.fixes_deployment_id, lock=True
        )
        if target is not None and not _starts_in_order(target.started_at, starts_at):
            raise ValidationFailed.at(
                "/started_at",
                "not after the deployment it fixes",
                detail="A hotfix or rollback starts after the deployment it fixes started.",
            )
    fixers = await repo.fixers_of(session, deployment.id)
    if not all(_starts_in_order(starts_at, fixer.started_at) for fixer in fixers):
        raise ValidationFailed.at(
            "/started_at",
            "not before a deployment fixing it",
            detail="A deployment starts before the hotfixes and rollbacks that fix it.",
        )


async def record_deployment(
    session: AsyncSession,
    project: Project,
    report: DeploymentReport,
    *,
    actor: Principal | None,
    repository: Repository | None = None,
) -> Deployment:
    """Record what `report` says about a deployment: a new one, or one reported before (same
    `(source, external_id)`, or same `(environment, pipeline_id, sequence)`) moved on. The state
    only moves forward; details the report gives fill in or replace those known. On success it
    works out what the deployment shipped. Writes `deployment.*` events. The caller checks the
    reporter may do so (`report_deployment` for the API)."""
    deployment, _ = await record(session, project, report, actor=actor, repository=repository)
    return deployment


async def record(
    session: AsyncSession,
    project: Project,
    report: DeploymentReport,
    *,
    actor: Principal | None,
    repository: Repository | None = None,
) -> tuple[Deployment, bool]:
    """`record_deployment`, and whether this report created the deployment."""
    env = await environments.environment_for(session, project, report, actor)
    sequence = report.sequence
    if report.pipeline_id is not None and sequence is None:
        sequence = 1
    key = _Key(
        environment_id=env.id,
        source=report.source,
        external_id=report.external_id,
        pipeline_id=report.pipeline_id if report.external_id is None else None,
        sequence=sequence if report.external_id is None else None,
    )
    existing = await _find(session, project, key)
    if existing is None:
        created = await _create(session, project, env, report, key, actor, repository)
        if created is not None:
            return created, True
        # A concurrent report made it first: this one moves it on.
        existing = await _find(session, project, key)
        if existing is None:  # pragma: no cover (the conflict was on the other key)
            raise InvalidStateChange("A deployment with this key exists in another environment.")
    await _apply_report(session, project, env, existing, report, actor, repository)
    return existing, False


@dataclass(frozen=True)
class _Key:
    """What recognises a reported deployment again."""

    environment_id: str
    source: str
    external_id: str | None
    pipeline_id: str | None
    sequence: int | None


async def _find(session: AsyncSession, project: Project, key: _Key) -> Deployment | None:
    return await repo.find_reported(
        session,
        project.id,
        environment_id=key.environment_id,
        source=key.source,
        external_id=key.external_id,
        pipeline_id=key.pipeline_id,
        sequence=key.sequence,
    )


async def _create(
    session: AsyncSession,
    project: Project,
    env: Environment,
    report: DeploymentReport,
    key: _Key,
    actor: Principal | None,
    repository: Repository | None,
) -> Deployment | None:
    if report.state == "rolled_back":
        raise ValidationFailed.at(
            "/state",
            "a new deployment can't be rolled back",
            detail="Report the deployment's success first, then roll it back.",
        )
    now = utcnow()
    # A report first seen already finished (its start lost, or replayed later) starts when it
    # finished rather than now, so its times stay its own.
    started = report.started_at or report.finished_at or now
    target = await _fix_target(
        session,
        project,
        report.fixes_deployment_id,
        own_id=None,
        environment_id=env.id,
        starts_at=started,
    )
    finished = None
    if report.state in FINISHED:
        finished = max(report.finished_at or now, started)
    values: dict[str, Any] = {
        "id": new_id(),
        "project_id": project.id,
        "environment_id": env.id,
        "repository_id": repository.id if repository is not None else None,
        "source": report.source,
        "external_id": key.external_id,
        "pipeline_id": key.pipeline_id,
        "sequence": key.sequence,
        "ref": report.ref,
        "sha": report.sha.lower() if report.sha else None,
        "release_version": report.version,
        "description": report.description or "",
        "url": report.url,
        "state": report.state,
        "started_at": started,
        "finished_at": finished,
        "succeeded_at": finished if report.state == "success" else None,
        "triggered_by_id": await _actor_user_id(session, actor),
        "triggered_by": report.triggered_by,
        "is_hotfix": report.is_hotfix,
        "is_rollback": report.is_rollback,
        "fixes_deployment_id": target.id if target is not None else None,
        "shipped_complete": True,
        "shipped_commit_count": 0,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    if not await repo.insert_reported(session, values):
        return None
    deployment = await session.get(Deployment, values["id"])
    assert deployment is not None
    item_keys = await _record_shipped(session, project, deployment, report.commits)
    await emit(
        session,
        _event(DeploymentCreated, deployment, env, item_keys=item_keys),
        project,
        actor,
        subject=deployment.id,
    )
    await _announce_state(session, project, env, deployment, "pending", actor, item_keys)
    if target is not None:
        await _remediate(session, deployment, target, actor)
    return deployment


async def _apply_report(
    session: AsyncSession,
    project: Project,
    env: Environment,
    deployment: Deployment,
    report: DeploymentReport,
    actor: Principal | None,
    repository: Repository | None,
) -> None:
    """A later report of a known deployment: details filled in, the state moved forward."""
    await claim_all(session, [deployment])
    changed = False
    for attr, value in (
        ("ref", report.ref),
        ("sha", report.sha.lower() if report.sha else None),
        ("release_version", report.version),
        ("url", report.url),
        ("triggered_by", report.triggered_by),
    ):
        if value is not None and getattr(deployment, attr) != value:
            setattr(deployment, attr, value)
            changed = True
    if report.description and report.description != deployment.description:
        deployment.description = report.description
        changed = True
    if report.is_hotfix and not deployment.is_hotfix:
        deployment.is_hotfix = changed = True
    if report.is_rollback and not deployment.is_rollback:
        deployment.is_rollback = changed = True
    new_target = None
    if (
        report.fixes_deployment_id is not None
        and report.fixes_deployment_id != deployment.fixes_deployment_id
    ):
        starts_at = deployment.started_at
        if report.started_at is not None and deployment.state in ("pending", "in_progress"):
            starts_at = report.started_at  # the start this report moves it to (below)
        new_target = await _fix_target(
            session,
            project,
            report.fixes_deployment_id,
            own_id=deployment.id,
            environment_id=deployment.environment_id,
            starts_at=starts_at,
        )
        deployment.fixes_deployment_id = report.fixes_deployment_id
        changed = True
    if (
        report.started_at is not None
        and deployment.state in ("pending", "in_progress")
        and deployment.started_at != report.started_at
    ):
        await _check_moved_start(session, project, deployment, report.started_at)
        deployment.started_at = report.started_at
        changed = True
    moved = can_move(deployment.state, report.state)
    if changed or moved or report.commits is not None:
        deployment.updated_at = utcnow()
        await session.flush()
    if moved:
        await move_state(
            session,
            project,
            env,
            deployment,
            report.state,
            actor,
            finished_at=report.finished_at,
            commits=report.commits,
        )
    elif report.commits is not None:
        await _record_shipped(session, project, deployment, report.commits)
    if changed and not moved:
        keys = await repo.shipped_item_keys(session, deployment.id, limit=MAX_EVENT_ITEMS)
        await emit(
            session,
            _event(DeploymentUpdated, deployment, env, item_keys=keys),
            project,
            actor,
            subject=deployment.id,
        )
    if new_target is not None:
        await _remediate(session, deployment, new_target, actor)


async def _record_shipped(
    session: AsyncSession,
    project: Project,
    deployment: Deployment,
    commits: Sequence[str] | None,
) -> list[str]:
    """`shipped.record_shipped`, then the commits' stored lead times."""
    keys = await shipped.record_shipped(session, project, deployment, commits)
    await repo.store_lead_times(session, [deployment.id])
    return keys


async def move_state(
    session: AsyncSession,
    project: Project,
    env: Environment,
    deployment: Deployment,
    state: DeploymentState,
    actor: Principal | None,
    *,
    finished_at: datetime | None = None,
    commits: Sequence[str] | None = None,
) -> None:
    """Move a deployment (claimed by the caller) to `state`, which `can_move` allows; record
    what it shipped on success and write the state's event."""
    before = deployment.state
    now = utcnow()
    deployment.state = state
    deployment.updated_at = now
    if state in ("success", "failure") and deployment.finished_at is None:
        deployment.finished_at = max(finished_at or now, deployment.started_at)
    if state == "success":
        deployment.succeeded_at = deployment.finished_at
    if state == "rolled_back":
        deployment.rolled_back_at = now
    await session.flush()
    item_keys = await _record_shipped(session, project, deployment, commits)
    await _announce_state(session, project, env, deployment, before, actor, item_keys)
    if state == "success" and deployment.fixes_deployment_id is not None:
        target = await repo.deployment_in_project(
            session, project.id, deployment.fixes_deployment_id
        )
        if target is not None:
            await _remediate(session, deployment, target, actor)
    if state == "rolled_back":
        was_failed = deployment.failed_at is not None
        await mark_failed(session, deployment, reason="rolled_back", at=now, actor=actor)
        if was_failed:  # no `deployment.failed` this time: say its state changed
            await emit(
                session,
                _event(DeploymentUpdated, deployment, env, item_keys=item_keys),
                project,
                actor,
                subject=deployment.id,
            )


async def _announce_state(
    session: AsyncSession,
    project: Project,
    env: Environment,
    deployment: Deployment,
    before: str,
    actor: Principal | None,
    item_keys: list[str],
) -> None:
    """The event of the state a deployment entered (none for `pending`, nor for `rolled_back`,
    whose `deployment.failed` comes from `mark_failed`)."""
    changes = DeploymentChanges(state=(before, deployment.state))
    state = deployment.state
    data: DeploymentEvent | None = None
    if state == "in_progress":
        data = _event(DeploymentStarted, deployment, env, item_keys=item_keys)
    elif state == "success":
        data = _event(
            DeploymentSucceeded,
            deployment,
            env,
            item_keys=item_keys,
            commit_count=deployment.shipped_commit_count,
        )
    elif state == "failure":
        data = _event(DeploymentFailed, deployment, env, item_keys=item_keys, reason="failure")
    if data is not None:
        await emit(
            session,
            data,
            project,
            actor,
            changes if before != state else None,
            subject=deployment.id,
        )


async def _remediate(
    session: AsyncSession, fixer: Deployment, target: Deployment, actor: Principal | None
) -> None:
    """`fixer` (a hotfix or rollback) remediates `target`: the target needed remediation from
    when the fixer started; a rollback that succeeded rolls it back; a fixer that succeeded
    restores it, unless an incident the target caused is still open (`incident_directory`)."""
    reason: FailReason = "rolled_back" if fixer.is_rollback else "hotfix"
    restored_at = fixer.finished_at or fixer.succeeded_at or utcnow()
    if fixer.state == "success" and fixer.is_rollback:
        await claim_all(session, [target])
        if target.state == "success":
            env = await session.get(Environment, target.environment_id)
            assert env is not None
            project = await session.get(Project, target.project_id)
            assert project is not None
            target.state = "rolled_back"
            target.rolled_back_at = restored_at
            target.updated_at = utcnow()
            await session.flush()
            keys = await repo.shipped_item_keys(session, target.id, limit=MAX_EVENT_ITEMS)
            await emit(
                session,
                _event(DeploymentUpdated, target, env, item_keys=keys),
                project,
                actor,
                subject=target.id,
            )
    await mark_failed(session, target, reason=reason, at=fixer.started_at, actor=actor)
    # An open incident the target caused keeps it unrestored: resolving the incident restores it.
    if fixer.state == "success" and not await incident_directory.directory().any_open_caused_by(
        session, target.id
    ):
        await mark_restored(session, target, at=restored_at)


async def mark_failed(
    session: AsyncSession,
    deployment: Deployment,
    *,
    reason: FailReason,
    at: datetime,
    actor: Principal | None,
) -> None:
    """Say the deployment needed remediation from `at` (`incident`, `rolled_back`, `hotfix`):
    `failed_at` keeps the earliest such moment; `deployment.failed` is written the first time.
    `failure` (it finished failed) only writes `deployment.failed`: a deployment that never went
    live needed no remediation, so it is not marked failed."""
    await claim_all(session, [deployment])
    env = await session.get(Environment, deployment.environment_id)
    assert env is not None
    if reason == "failure":
        keys = await repo.shipped_item_keys(session, deployment.id, limit=MAX_EVENT_ITEMS)
        await emit(
            session,
            _event(DeploymentFailed, deployment, env, item_keys=keys, reason=reason),
            deployment.project_id,
            actor,
            subject=deployment.id,
        )
        return
    first = deployment.failed_at is None
    if deployment.failed_at is not None and deployment.failed_at <= at:
        return
    deployment.failed_at = at
    if deployment.restored_at is not None and deployment.restored_at < at:
        deployment.restored_at = at
    deployment.updated_at = utcnow()
    await session.flush()
    if first:
        keys = await repo.shipped_item_keys(session, deployment.id, limit=MAX_EVENT_ITEMS)
        await emit(
            session,
            _event(DeploymentFailed, deployment, env, item_keys=keys, reason=reason),
            deployment.project_id,
            actor,
            subject=deployment.id,
        )


async def mark_restored(session: AsyncSession, deployment: Deployment, *, at: datetime) -> None:
    """Say service was restored at `at` after the deployment's failure (an incident resolved,
    the fixing deployment succeeded): `restored_at` takes the latest restore, never before
    `failed_at`. Nothing happens to a deployment not marked failed.

    The latest restore includes every fix of it that went live, even one that finished while an
    incident it caused was still open (`_remediate` restored nothing then): so resolving that
    incident, back-dated or not, gives the restore the other order of reports gives."""
    await claim_all(session, [deployment])
    if deployment.failed_at is None:
        return
    fixed = await repo.latest_fix_success(session, deployment.id)
    at = max(at, deployment.failed_at, fixed or at)
    if deployment.restored_at is not None and deployment.restored_at >= at:
        return
    deployment.restored_at = at
    deployment.updated_at = utcnow()
    await session.flush()


async def clear_restored(
    session: AsyncSession, deployment: Deployment, *, actor: Principal | None
) -> None:
    """Service is down again: an incident the deployment caused was reopened (or a new one
    opened after its restore). `restored_at` is cleared, so its recovery ends at the next
    restore (`mark_restored`), and `deployment.updated` records the change."""
    await claim_all(session, [deployment])
    if deployment.restored_at is None:
        return
    was = deployment.restored_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    deployment.restored_at = None
    deployment.updated_at = utcnow()
    await session.flush()
    env = await session.get(Environment, deployment.environment_id)
    assert env is not None
    keys = await repo.shipped_item_keys(session, deployment.id, limit=MAX_EVENT_ITEMS)
    await emit(
        session,
        _event(DeploymentUpdated, deployment, env, item_keys=keys),
        deployment.project_id,
        actor,
        DeploymentUpdateChanges(restored_at=(was, None)),
        subject=deployment.id,
    )


# Environments (the API) ---------------------------------------------------------------------------


# Deployments (the API) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeploymentContext:
    access: ProjectAccess
    deployment: Deployment
    environment: Environment


@dataclass(frozen=True)
class ShownDeployment:
    """A deployment with what its answer shows besides its own row."""

    deployment: Deployment
    environment: Environment
    reporter: User | None
    shipped_item_count: int = 0


async def report_deployment(
    session: AsyncSession, access: ProjectAccess, data: DeploymentCreate
) -> tuple[Deployment, bool]:
    """Record a deployment a CI job (or a person) reports: members, and tokens with the write
    scope. Whether it was new (201) or one reported before (200)."""
    access.require_write()
    repository = None
    if data.repository_id is not None:
        repository = await delivery_repo.repository_in_project(
            session, access.project.id, data.repository_id
        )
        if repository is None:
            raise ValidationFailed.at(
                "/repository_id",
                "unknown repository",
                detail="repository_id is not a repository of this project.",
            )
    report = DeploymentReport(
        environment=data.environment,
        state=data.state,
        source="api",
        pipeline_id=data.pipeline_id,
        sequence=data.sequence,
        ref=data.ref,
        sha=data.sha,
        version=data.version,
        description=data.description,
        url=data.url,
        started_at=data.started_at,
        finished_at=data.finished_at,
        triggered_by=data.triggered_by,
        is_hotfix=data.is_hotfix,
        is_rollback=data.is_rollback,
        fixes_deployment_id=data.fixes_deployment_id,
        commits=tuple(data.commits) if data.commits is not None else None,
    )
    return await record(
        session, access.project, report, actor=access.principal, repository=repository
    )


async def update_deployment(
    session: AsyncSession,
    ctx: DeploymentContext,
    data: DeploymentUpdate,
    *,
    if_match: str | None,
) -> Deployment:
    """Move a deployment's state forward, or change its details (members)."""
    access, deployment, env = ctx.access, ctx.deployment, ctx.environment
    access.require_write()
    await claim(session, deployment, if_match)
    new_state = data.state
    if new_state is not None and new_state != deployment.state:
        if not can_move(deployment.state, new_state):
            raise InvalidStateChange(
                f"A deployment in {deployment.state} can't move to {new_state}."
            )
    else:
        new_state = None
    target = None
    if data.fixes_deployment_id is not None and (
        data.fixes_deployment_id != deployment.fixes_deployment_id
    ):
        target = await _fix_target(
            session,
            access.project,
            data.fixes_deployment_id,
            own_id=deployment.id,
            environment_id=deployment.environment_id,
            starts_at=deployment.started_at,
        )
    changed = False
    for attr, value in (
        ("release_version", data.version),
        ("url", data.url),
        ("description", data.description),
        ("is_hotfix", data.is_hotfix),
        ("is_rollback", data.is_rollback),
        ("fixes_deployment_id", data.fixes_deployment_id),
    ):
        if value is not None and getattr(deployment, attr) != value:
            setattr(deployment, attr, value)
            changed = True
    if deployment.is_hotfix and deployment.is_rollback:
        raise ValidationFailed.at(
            "/is_rollback", "a deployment is a hotfix or a rollback, not both"
        )
    if changed:
        deployment.updated_at = utcnow()
        await session.flush()
    if new_state is not None:
        await move_state(session, access.project, env, deployment, new_state, access.principal)
    if changed and new_state is None:
        keys = await repo.shipped_item_keys(session, deployment.id, limit=MAX_EVENT_ITEMS)
        await emit(
            session,
            _event(DeploymentUpdated, deployment, env, item_keys=keys),
            access.project,
            access.principal,
            subject=deployment.id,
        )
    if target is not None:
        await _remediate(session, deployment, target, access.principal)
    return deployment


async def list_deployments(
    session: AsyncSession,
    access: ProjectAccess,
    *,
    filters: DeploymentFilters,
    page: PageRequest,
) -> tuple[list[ShownDeployment], str | None]:
    """One page of the project's deployments, latest started first. `environment` names one of
    the project's environments (422 otherwise)."""
    environment_id = None
    if filters.environment is not None:
        env = await repo.environment_by_name(session, access.project.id, filters.environment)
        if env is None:
            raise UnknownEnvironment.at(
                "/query/environment",
                "unknown environment",
                detail=f"There is no environment {filters.environment!r} in this project.",
            )
        environment_id = env.id
    stmt = repo.deployments_of(
        access.project.id,
        environment_id=environment_id,
        state=filters.state,
        sha=filters.sha,
        started_from=filters.started_from,
        started_to=filters.started_to,
    )
    rows, next_cursor = await page.fetch(
        session,
        stmt,
        keys=[
            SortKey(Deployment.started_at, descending=True),
            SortKey(Deployment.id, descending=True),
        ],
        key_of=lambda d: (d.started_at, d.id),
        sort_name="deployments",
    )
    return await shown(session, rows), next_cursor


async def shown(session: AsyncSession, deployments: Sequence[Deployment]) -> list[ShownDeployment]:
    """What a page of deployments shows (three statements, whatever its size)."""
    envs = await repo.environments_by_id(session, [d.environment_id for d in deployments])
    users = await items_repo.users_by_id(
        session, [d.triggered_by_id for d in deployments if d.triggered_by_id]
    )
    item_counts = await repo.shipped_item_counts(session, [d.id for d in deployments])
    return [
        ShownDeployment(
            deployment=d,
            environment=envs[d.environment_id],
            reporter=users.get(d.triggered_by_id or ""),
            shipped_item_count=item_counts.get(d.id, 0),
        )
        for d in deployments
    ]


async def deployment_detail(
    session: AsyncSession, project: Project, deployment: Deployment
) -> tuple[ShownDeployment, shipped.ShippedView]:
    """A deployment with what its single answer shows: its environment, who reported it and
    what it shipped."""
    [row] = await shown(session, [deployment])
    return row, await shipped.shipped_view(session, project, deployment)
