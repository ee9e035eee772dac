"""A project's environments: the promotion path (names, types, order), the defaults every
project starts with, and the environment a deployment report names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.principal import Principal
from takt.core.audit import ClientContext
from takt.core.audit import record_by as audit_by
from takt.core.concurrency import claim
from takt.core.errors import Conflict, ValidationFailed
from takt.core.events import emit
from takt.core.time import utcnow
from takt.deployments import repository as repo
from takt.deployments.events import (
    EnvironmentChanges,
    EnvironmentCreated,
    EnvironmentDeleted,
    EnvironmentUpdated,
)
from takt.deployments.facts import DeploymentReport, EnvironmentType
from takt.deployments.hooks import EnvironmentDeleting, environment_deleting
from takt.deployments.models import Environment
from takt.deployments.schemas import EnvironmentCreate, EnvironmentUpdate
from takt.projects.models import Project
from takt.projects.policies import ProjectAccess

MAX_ENVIRONMENTS = 20
DEFAULT_ENVIRONMENTS: tuple[tuple[str, EnvironmentType], ...] = (
    ("development", "development"),
    ("staging", "staging"),
    ("production", "production"),
)


class UnknownEnvironment(ValidationFailed):
    """The deployment names an environment the project doesn't have. Environments are listed at
    `GET /projects/{key}/environments`; a project admin adds one with `POST` there. (Deliveries
    from GitHub and GitLab create the environment they name; a CI call doesn't, so a typo can't
    add one.)"""

    code = "unknown-environment"
    title = "Unknown environment"


def guess_type(name: str) -> EnvironmentType:
    """An environment's type from its name, for providers naming one the project lacks."""
    key = name.lower()
    if any(word in key for word in ("stag", "preprod", "pre-prod", "uat", "preview")):
        return "staging"
    if "prod" in key or key in ("live", "prd"):
        return "production"
    if any(word in key for word in ("test", "qa")):
        return "testing"
    return "development"


# Environments (the part other domains use) --------------------------------------------------------


async def create_default_environments(session: AsyncSession, project: Project) -> None:
    """A new project's promotion path: development, staging, production."""
    for position, (name, env_type) in enumerate(DEFAULT_ENVIRONMENTS):
        session.add(
            Environment(
                project_id=project.id,
                name=name,
                name_key=name,
                type=env_type,
                position=position,
                created_by_id=project.created_by_id,
            )
        )
    await session.flush()


def environment_data(env: Environment) -> dict[str, Any]:
    return {"id": env.id, "name": env.name, "type": env.type, "position": env.position}


def provider_environment_name(name: str) -> str:
    """A provider's environment name as an environment's name may be (1-64 characters, no
    control characters): each run of control characters and white space becomes one space, the
    ends are trimmed and the rest cut at 64. A CI call's name is checked by its schema instead."""
    return " ".join(_CONTROL.sub(" ", name).split())[:64].strip()


_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


async def environment_for(
    session: AsyncSession, project: Project, report: DeploymentReport, actor: Principal | None
) -> Environment:
    """The environment `report` names; a provider's (GitHub, GitLab) is added to the promotion
    path when the project lacks it, within the project's limit of environments."""
    from_api = report.source == "api"
    name = report.environment.strip() if from_api else provider_environment_name(report.environment)
    env = await repo.environment_by_name(session, project.id, name)
    if env is not None:
        return env
    if from_api or not name:
        raise UnknownEnvironment.at(
            "/environment",
            "unknown environment",
            detail=f"There is no environment {name!r} in this project.",
        )
    # A provider's environment: added at the end of the promotion path.
    await repo.lock_environments(session, project.id)
    env = await repo.environment_by_name(session, project.id, name)
    if env is not None:
        return env
    position = await repo.next_position(session, project.id)
    if position >= MAX_ENVIRONMENTS:  # positions are 0, 1, 2… with no gaps
        raise TooManyEnvironments(
            f"The delivery names the environment {name!r}, which this project lacks, and a"
            f" project has at most {MAX_ENVIRONMENTS} environments: delete one that is no longer"
            " used, or rename one to this name."
        )
    env = Environment(
        project_id=project.id,
        name=name,
        name_key=name.lower(),
        type=report.environment_type or guess_type(name),
        position=position,
        created_by_id=None,
    )
    session.add(env)
    await session.flush()
    await emit(session, EnvironmentCreated(**environment_data(env)), project, actor, subject=env.id)
    return env


class EnvironmentNameTaken(Conflict):
    """The project already has an environment of that name (names are compared ignoring
    case). Pick another name, or use the one that exists."""

    code = "environment-name-taken"
    title = "Environment name taken"


class TooManyEnvironments(Conflict):
    """A project has at most 20 environments. Delete one that is no longer used first."""

    code = "too-many-environments"
    title = "Too many environments"


class EnvironmentInUse(Conflict):
    """The environment has deployments or incidents, which DORA and readiness read: it can't be
    deleted. Rename or retype it instead."""

    code = "environment-in-use"
    title = "Environment in use"


@dataclass(frozen=True)
class EnvironmentContext:
    access: ProjectAccess
    environment: Environment


async def list_environments(session: AsyncSession, access: ProjectAccess) -> list[Environment]:
    """The project's environments along the promotion path (anyone who sees the project)."""
    return await repo.environments_in_order(session, access.project.id)


def _place(ordered: list[Environment], moved: Environment, position: int) -> None:
    """Put `moved` at `position` and number the path 0, 1, 2… again."""
    rest = [e for e in ordered if e.id != moved.id]
    rest.insert(min(position, len(rest)), moved)
    for index, env in enumerate(rest):
        if env.position != index:
            env.position = index


async def _audit_environment(
    session: AsyncSession,
    access: ProjectAccess,
    action: str,
    env: Environment,
    client: ClientContext,
) -> None:
    await audit_by(
        session,
        access.principal,
        action,
        client=client,
        project_id=access.project.id,
        target_type="environment",
        target_id=env.id,
        details={"name": env.name, "type": env.type},
    )


async def create_environment(
    session: AsyncSession, access: ProjectAccess, data: EnvironmentCreate, *, client: ClientContext
) -> Environment:
    """Add an environment to the promotion path (project admins)."""
    access.require_admin("Managing environments")
    project = access.project
    await repo.lock_environments(session, project.id)
    ordered = await repo.environments_in_order(session, project.id)
    if len(ordered) >= MAX_ENVIRONMENTS:
        raise TooManyEnvironments(f"A project has at most {MAX_ENVIRONMENTS} environments.")
    key = data.name.lower()
    if any(e.name_key == key for e in ordered):
        raise EnvironmentNameTaken(f"This project has an environment named {data.name!r}.")
    env = Environment(
        project_id=project.id,
        name=data.name,
        name_key=key,
        type=data.type,
        position=len(ordered),
        created_by_id=access.principal.id,
    )
    session.add(env)
    _place([*ordered, env], env, len(ordered) if data.position is None else data.position)
    await _flush_or_taken(session, data.name)
    created = EnvironmentCreated(**environment_data(env))
    await emit(session, created, project, access.principal, subject=env.id)
    await _audit_environment(session, access, created.event_type, env, client)
    return env


async def _flush_or_taken(session: AsyncSession, name: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent create of the same name
        raise EnvironmentNameTaken(f"This project has an environment named {name!r}.") from exc


async def update_environment(
    session: AsyncSession,
    ctx: EnvironmentContext,
    data: EnvironmentUpdate,
    *,
    if_match: str | None,
) -> Environment:
    """Rename, retype or move an environment along the promotion path (project admins)."""
    access, env = ctx.access, ctx.environment
    access.require_admin("Managing environments")
    await repo.lock_environments(session, access.project.id)
    await claim(session, env, if_match)
    before = environment_data(env)
    if data.name is not None and data.name != env.name:
        key = data.name.lower()
        if key != env.name_key and await repo.name_taken(
            session, access.project.id, key, other_than=env.id
        ):
            raise EnvironmentNameTaken(f"This project has an environment named {data.name!r}.")
        env.name, env.name_key = data.name, key
    if data.type is not None:
        env.type = data.type
    if data.position is not None and data.position != env.position:
        ordered = await repo.environments_in_order(session, access.project.id)
        _place(ordered, env, data.position)
    after = environment_data(env)
    changes = {
        k: (before[k], after[k]) for k in ("name", "type", "position") if before[k] != after[k]
    }
    if not changes:
        return env
    env.updated_at = utcnow()
    await _flush_or_taken(session, env.name)
    await emit(
        session,
        EnvironmentUpdated(**after),
        access.project,
        access.principal,
        EnvironmentChanges.model_validate(changes),
        subject=env.id,
    )
    return env


async def delete_environment(
    session: AsyncSession, ctx: EnvironmentContext, *, if_match: str | None, client: ClientContext
) -> None:
    """Remove an environment no deployment went to and no incident was recorded in (project
    admins: `environment-in-use` otherwise, asked of incidents through the
    `deployments.environment_deleting` hook); the others close up."""
    access, env = ctx.access, ctx.environment
    access.require_admin("Managing environments")
    await repo.lock_environments(session, access.project.id)
    await claim(session, env, if_match)
    if await repo.has_deployments(session, env.id):
        raise EnvironmentInUse(f"Deployments went to {env.name}; it can't be deleted.")
    await environment_deleting.fire(session, EnvironmentDeleting(access, env))
    deleted = EnvironmentDeleted(**environment_data(env))
    await emit(session, deleted, access.project, access.principal, subject=env.id)
    await _audit_environment(session, access, deleted.event_type, env, client)
    await session.delete(env)
    await session.flush()
    ordered = await repo.environments_in_order(session, access.project.id)
    for index, other in enumerate(ordered):
        if other.position != index:
            other.position = index
    await session.flush()
