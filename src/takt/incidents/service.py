"""Incidents: open, change, resolve and reopen them, linked explicitly to the deployment that
caused them (which is then failed, and restored when its last incident is resolved) and the one
that fixed them; every change recorded as an `incident.*` event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import User
from takt.core.concurrency import claim
from takt.core.errors import ValidationFailed
from takt.core.events import emit
from takt.core.pagination import PageRequest, SortKey
from takt.core.time import utcnow
from takt.deployments import repository as deployments_repo
from takt.deployments import service as deployments
from takt.deployments.environments import EnvironmentInUse
from takt.deployments.models import Deployment, Environment
from takt.incidents import repository as repo
from takt.incidents.events import (
    IncidentChanges,
    IncidentEvent,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
    IncidentUpdated,
)
from takt.incidents.models import Incident
from takt.incidents.schemas import IncidentCreate, IncidentFilters, IncidentUpdate
from takt.projects.policies import ProjectAccess

# A client's clock may run a little ahead of the server's: a time up to this far in the future
# is taken as now rather than refused.
CLOCK_SKEW = timedelta(minutes=1)

CAUSED = "/caused_by_deployment_id"
FIXED = "/fixed_by_deployment_id"


class InvalidDeploymentLink(ValidationFailed):
    """A deployment linked to an incident (`caused_by_deployment_id`, `fixed_by_deployment_id`)
    must be a deployment of the incident's project to the incident's environment, and one
    deployment can't both cause and fix the same incident. Pick the deployment from
    `GET /projects/{project_key}/deployments?environment=…` and send its `id`."""

    code = "invalid-deployment-link"
    title = "Invalid deployment link"


class Person(Protocol):
    """Who opened an incident: a user row, or the caller's own account."""

    @property
    def id(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def display_name(self) -> str: ...


@dataclass(frozen=True)
class IncidentContext:
    """An incident of a project the caller can see, with its environment and its opener."""

    access: ProjectAccess
    incident: Incident
    environment: Environment
    opened_by: User | None


@dataclass(frozen=True)
class ShownIncident:
    """An incident with what its answer shows besides its own columns."""

    incident: Incident
    environment: Environment
    opened_by: Person | None


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _payload(cls: type[IncidentEvent], incident: Incident, env: Environment, **extra: Any) -> Any:
    return cls(
        id=incident.id,
        number=incident.number,
        title=incident.title,
        severity=incident.severity,
        state=incident.state,
        environment_id=env.id,
        environment=env.name,
        caused_by_deployment_id=incident.caused_by_deployment_id,
        fixed_by_deployment_id=incident.fixed_by_deployment_id,
        opened_at=rfc3339(incident.opened_at),
        **extra,
    )


# Reads ------------------------------------------------------------------------------------------


async def list_incidents(
    session: AsyncSession, access: ProjectAccess, *, filters: IncidentFilters, page: PageRequest
) -> tuple[list[ShownIncident], str | None]:
    """One page of the project's incidents, the most recently opened first."""
    environment_id = None
    if filters.environment is not None:
        env = await _environment(session, access, filters.environment, "/query/environment")
        environment_id = env.id
    stmt = repo.incidents_of(
        access.project.id,
        state=filters.state,
        severity=filters.severity,
        environment_id=environment_id,
        deployment_id=filters.deployment_id,
    )
    rows, next_cursor = await page.fetch(
        session,
        stmt,
        keys=[SortKey(Incident.opened_at, descending=True), SortKey(Incident.id, descending=True)],
        key_of=lambda row: (row[0].opened_at, row[0].id),
        sort_name="incidents",
        scalars=False,
    )
    return [ShownIncident(incident, env, opener) for incident, env, opener in rows], next_cursor


def show_incident(ctx: IncidentContext) -> ShownIncident:
    return ShownIncident(ctx.incident, ctx.environment, ctx.opened_by)


# References and times -----------------------------------------------------------------------


async def _environment(
    session: AsyncSession, access: ProjectAccess, ref: str, pointer: str
) -> Environment:
    """The project's environment named `ref` (any case), or whose id it is."""
    project_id = access.project.id
    env = await deployments_repo.environment_by_name(session, project_id, ref)
    if env is None:
        env = await deployments_repo.environment_in_project(session, project_id, ref)
    if env is None:
        raise ValidationFailed.at(
            pointer,
            f"no environment {ref!r} in this project",
            detail=f"Project {access.project.key} has no environment {ref!r} (a name or an id).",
        )
    return env


async def _deployment(
    session: AsyncSession, access: ProjectAccess, deployment_id: str | None, pointer: str
) -> Deployment | None:
    if deployment_id is None:
        return None
    found = await deployments_repo.deployment_in_project(session, access.project.id, deployment_id)
    if found is None:
        raise InvalidDeploymentLink.at(
            pointer,
            "not a deployment of this project",
            detail=f"No deployment {deployment_id!r} in project {access.project.key}.",
        )
    return found


def _check_links(
    env: Environment,
    caused: Deployment | None,
    fixed: Deployment | None,
    *,
    blame: dict[str, str],
) -> None:
    """Both links are deployments to the incident's environment (a fix deployed to staging
    restored nothing in production), and not the same one. `blame` maps each link to the field
    to point at when it doesn't fit: the link itself, or the environment if that changed."""
    for field, deployment in ((CAUSED, caused), (FIXED, fixed)):
        if deployment is not None and deployment.environment_id != env.id:
            raise InvalidDeploymentLink.at(
                blame[field],
                f"deployed to another environment than the incident's ({env.name})",
                detail=f"Deployment {deployment.id} was not deployed to {env.name}, where the "
                "incident is.",
            )
    if caused is not None and fixed is not None and caused.id == fixed.id:
        raise InvalidDeploymentLink.at(
            FIXED, "the same deployment can't cause and fix the incident"
        )


def _not_future(pointer: str, moment: datetime, now: datetime) -> datetime:
    """`moment`, refused when it is in the future (beyond the clock skew, where it is now)."""
    if moment > now + CLOCK_SKEW:
        raise ValidationFailed.at(pointer, f"is in the future: it is {rfc3339(now)}")
    return min(moment, now)


def _in_order(opened_at: datetime, resolved_at: datetime, pointer: str) -> None:
    if resolved_at < opened_at:
        raise ValidationFailed.at(
            pointer,
            "resolved_at is before opened_at",
            detail="An incident is resolved after it was opened.",
        )


# Deployments: failed while an incident they caused is open ------------------------------------


async def _fail(
    session: AsyncSession, access: ProjectAccess, incident: Incident, d: Deployment
) -> None:
    """The deployment needed remediation from when the incident began (the earliest such moment
    wins: `deployments.service.mark_failed`)."""
    await deployments.mark_failed(
        session, d, reason="incident", at=incident.opened_at, actor=access.principal
    )


async def _restore_when_all_resolved(session: AsyncSession, d: Deployment) -> None:
    """Restored when the last incident it caused is resolved: if none is open, at the latest
    resolution (several incidents on one deployment end its recovery together)."""
    await session.flush()
    caused = await repo.caused_by(session, d.id)
    if caused.open == 0 and caused.last_resolved_at is not None:
        await deployments.mark_restored(session, d, at=caused.last_resolved_at)


# Environments -----------------------------------------------------------------------------------


async def refuse_deleting_environment(session: AsyncSession, env: Environment) -> None:
    """An environment incidents were recorded in stays: deleting it would take them (and the
    recovery times DORA reads) with it."""
    if await repo.has_incidents(session, env.id):
        raise EnvironmentInUse(
            f"Incidents were recorded in {env.name}; it can't be deleted.",
        )


# Writes -----------------------------------------------------------------------------------------


async def create_incident(
    session: AsyncSession, access: ProjectAccess, data: IncidentCreate
) -> ShownIncident:
    """Open an incident (or record one that is over: `state: resolved`). A cause marks its
    deployment failed from `opened_at`."""
    access.require_write()
    now = utcnow()
    caused = await _deployment(session, access, data.caused_by_deployment_id, CAUSED)
    fixed = await _deployment(session, access, data.fixed_by_deployment_id, FIXED)
    if data.environment is not None:
        env = await _environment(session, access, data.environment, "/environment")
    elif caused is not None:
        found = await deployments_repo.environment_in_project(
            session, access.project.id, caused.environment_id
        )
        assert found is not None  # a deployment's environment is of its project
        env = found
    else:
        raise ValidationFailed.at(
            "/environment",
            "give the environment, or caused_by_deployment_id",
            detail="Say where the incident happened: `environment` (a name or an id), or the "
            "deployment that caused it.",
        )
    _check_links(env, caused, fixed, blame={CAUSED: CAUSED, FIXED: FIXED})
    opened_at = _not_future("/opened_at", data.opened_at or now, now)
    if data.state == "open" and data.resolved_at is not None:
        raise ValidationFailed.at("/resolved_at", "an open incident has no resolved_at")
    resolved_at = None
    if data.state == "resolved" or data.resolved_at is not None:
        resolved_at = _not_future("/resolved_at", data.resolved_at or now, now)
        _in_order(opened_at, resolved_at, "/resolved_at")

    number = await repo.next_number(session, access.project.id)
    await repo.hold_deployments(session, [caused.id] if caused else [])
    incident = Incident(
        project_id=access.project.id,
        number=number,
        title=data.title,
        description=data.description,
        severity=data.severity,
        state="open",
        environment_id=env.id,
        opened_at=opened_at,
        resolved_at=None,
        caused_by_deployment_id=caused.id if caused else None,
        fixed_by_deployment_id=fixed.id if fixed else None,
        opened_by_id=access.principal.id,
    )
    session.add(incident)
    await session.flush()
    await emit(
        session,
        _payload(IncidentOpened, incident, env),
        access.project,
        access.principal,
        subject=incident,
    )
    if caused is not None:
        await _fail(session, access, incident, caused)
        if resolved_at is None:  # open: service restored before is down again
            await deployments.clear_restored(session, caused, actor=access.principal)
    if resolved_at is not None:
        incident.state, incident.resolved_at = "resolved", resolved_at
        await session.flush()
        if caused is not None:
            await _restore_when_all_resolved(session, caused)
        await emit(
            session,
            _payload(IncidentResolved, incident, env, resolved_at=rfc3339(resolved_at)),
            access.project,
            access.principal,
            IncidentChanges(state=("open", "resolved"), resolved_at=(None, rfc3339(resolved_at))),
            subject=incident,
        )
    return ShownIncident(incident, env, access.principal.user)


@dataclass
class _Plan:
    """What a PATCH comes to, checked, before anything is written."""

    env: Environment
    caused: Deployment | None
    fixed: Deployment | None
    opened_at: datetime
    state: str
    resolved_at: datetime | None


async def _plan(
    session: AsyncSession, ctx: IncidentContext, data: IncidentUpdate, now: datetime
) -> _Plan:
    incident, access, sent = ctx.incident, ctx.access, data.model_fields_set
    env = ctx.environment
    if data.environment is not None:
        env = await _environment(session, access, data.environment, "/environment")
    caused_id = (
        data.caused_by_deployment_id if CAUSED[1:] in sent else incident.caused_by_deployment_id
    )
    fixed_id = data.fixed_by_deployment_id if FIXED[1:] in sent else incident.fixed_by_deployment_id
    caused = await _deployment(session, access, caused_id, CAUSED)
    fixed = await _deployment(session, access, fixed_id, FIXED)
    blame = {f: f if f[1:] in sent else "/environment" for f in (CAUSED, FIXED)}
    _check_links(env, caused, fixed, blame=blame)

    opened_at = incident.opened_at
    if data.opened_at is not None:
        opened_at = _not_future("/opened_at", data.opened_at, now)
    if data.state == "open" and data.resolved_at is not None:
        raise ValidationFailed.at("/resolved_at", "an open incident has no resolved_at")
    state = data.state or ("resolved" if data.resolved_at is not None else incident.state)
    resolved_at = None
    if state == "resolved":
        if data.resolved_at is not None:
            resolved_at = _not_future("/resolved_at", data.resolved_at, now)
        else:
            resolved_at = incident.resolved_at or now
        blamed = (
            "/resolved_at"
            if data.resolved_at is not None or data.opened_at is None
            else "/opened_at"
        )
        _in_order(opened_at, resolved_at, blamed)
    return _Plan(env, caused, fixed, opened_at, state, resolved_at)


def _apply(
    incident: Incident, old_env: Environment, plan: _Plan, data: IncidentUpdate
) -> dict[str, list[Any]]:
    """Write the plan on the row; the changes as [old, new]."""
    changes: dict[str, list[Any]] = {}

    def change(field: str, old: Any, new: Any) -> None:
        if old != new:
            changes[field] = [old, new]

    for field in ("title", "description", "severity"):
        value = getattr(data, field)
        if value is not None:
            change(field, getattr(incident, field), value)
            setattr(incident, field, value)
    if old_env.id != plan.env.id:
        changes["environment"] = [old_env.name, plan.env.name]
    incident.environment_id = plan.env.id
    change("opened_at", rfc3339(incident.opened_at), rfc3339(plan.opened_at))
    incident.opened_at = plan.opened_at
    change("state", incident.state, plan.state)
    incident.state = plan.state
    change(
        "resolved_at",
        rfc3339(incident.resolved_at) if incident.resolved_at else None,
        rfc3339(plan.resolved_at) if plan.resolved_at else None,
    )
    incident.resolved_at = plan.resolved_at
    for field, deployment in (
        ("caused_by_deployment_id", plan.caused),
        ("fixed_by_deployment_id", plan.fixed),
    ):
        new_id = deployment.id if deployment else None
        change(field, getattr(incident, field), new_id)
        setattr(incident, field, new_id)
    return changes


async def update_incident(
    session: AsyncSession, ctx: IncidentContext, data: IncidentUpdate, *, if_match: str | None
) -> ShownIncident:
    """Change what was sent. Resolving (`state: resolved`, or a `resolved_at`) restores the
    caused deployment once no other incident it caused is open; reopening (`state: open`)
    clears `resolved_at` and the caused deployment's `restored_at`.
    One event: `incident.resolved` or `incident.reopened` when the state changed, else
    `incident.updated`; nothing when nothing changed."""
    access, incident = ctx.access, ctx.incident
    access.require_write()
    await claim(session, incident, if_match)
    now = utcnow()
    with session.no_autoflush:
        plan = await _plan(session, ctx, data, now)
    old_caused_id = incident.caused_by_deployment_id
    await repo.hold_deployments(
        session, [d for d in (old_caused_id, plan.caused.id if plan.caused else None) if d]
    )
    was_state = incident.state
    changes = _apply(incident, ctx.environment, plan, data)
    if not changes:
        return show_incident(ctx)
    await session.flush()
    await _follow_deployments(session, access, incident, plan.caused, old_caused_id, changes)
    if incident.state != was_state:
        if incident.state == "resolved":
            assert incident.resolved_at is not None
            event: IncidentEvent = _payload(
                IncidentResolved, incident, plan.env, resolved_at=rfc3339(incident.resolved_at)
            )
        else:
            event = _payload(IncidentReopened, incident, plan.env)
    else:
        event = _payload(IncidentUpdated, incident, plan.env)
    await emit(
        session,
        event,
        access.project,
        access.principal,
        IncidentChanges.model_validate(changes),
        subject=incident,
    )
    return ShownIncident(incident, plan.env, ctx.opened_by)


async def _follow_deployments(
    session: AsyncSession,
    access: ProjectAccess,
    incident: Incident,
    caused: Deployment | None,
    old_caused_id: str | None,
    changes: dict[str, list[Any]],
) -> None:
    """The caused deployment is failed from `opened_at` and restored when its last incident is
    resolved; while the incident is open (reopened, or linked while open) it is not restored
    (`restored_at` cleared, so recovery runs to the final resolution). A deployment unlinked
    keeps its failure (see docs/incidents.md), but may now be
    restored: the incident unlinked was perhaps the last open one it caused."""
    timing = {"caused_by_deployment_id", "opened_at", "state", "resolved_at"}
    if caused is not None and timing & changes.keys():
        await _fail(session, access, incident, caused)
        if incident.state == "resolved":
            await _restore_when_all_resolved(session, caused)
        elif {"state", "caused_by_deployment_id"} & changes.keys():
            # Reopened, or newly linked while open: service is not restored after all.
            await deployments.clear_restored(session, caused, actor=access.principal)
    if old_caused_id is not None and old_caused_id != incident.caused_by_deployment_id:
        old = await deployments_repo.deployment_in_project(
            session, access.project.id, old_caused_id
        )
        if old is not None:
            await _restore_when_all_resolved(session, old)
