"""Every query of incidents: the finder of `/incidents/{id}`, the list's statement, numbering,
and the incidents a deployment caused (its recovery)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, exists, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from takt.auth.models import User
from takt.core.locks import hold_transaction_lock
from takt.deployments.models import Environment
from takt.incidents.models import Incident
from takt.projects.models import Project
from takt.projects.repository import ChildFinder

Opener = aliased(User, name="opener")

# The incident of an `/incidents/{incident_id}` path with its project, its environment and who
# opened it (`projects.service.load_in_project`): one statement.
INCIDENT_BY_ID = ChildFinder[Incident](
    lambda: (
        select(Incident, Project, Environment, Opener)
        .join(Project, Project.id == Incident.project_id)
        .join(Environment, Environment.id == Incident.environment_id)
        .outerjoin(Opener, Opener.id == Incident.opened_by_id)
        .where(Incident.id == bindparam("incident_id"))
    ),
    param="incident_id",
)


def incidents_of(
    project_id: str,
    *,
    state: str | None = None,
    severity: str | None = None,
    environment_id: str | None = None,
    deployment_id: str | None = None,
) -> Select[Incident, Environment, User]:
    """The project's incidents with their environment and opener, narrowed by the filters given
    (a statement to page)."""
    stmt = (
        select(Incident, Environment, Opener)
        .join(Environment, Environment.id == Incident.environment_id)
        .outerjoin(Opener, Opener.id == Incident.opened_by_id)
        .where(Incident.project_id == project_id)
    )
    if state is not None:
        stmt = stmt.where(Incident.state == state)
    if severity is not None:
        stmt = stmt.where(Incident.severity == severity)
    if environment_id is not None:
        stmt = stmt.where(Incident.environment_id == environment_id)
    if deployment_id is not None:
        stmt = stmt.where(
            or_(
                Incident.caused_by_deployment_id == deployment_id,
                Incident.fixed_by_deployment_id == deployment_id,
            )
        )
    return stmt


async def next_number(session: AsyncSession, project_id: str) -> int:
    """The project's next incident number. The lock makes concurrent opens in one project take
    turns (PostgreSQL: an advisory lock until the transaction ends, after which the next reads
    the number this one wrote; SQLite: write transactions run one at a time already), so no two
    share a number; the unique (project, number) constraint backs it."""
    await hold_transaction_lock(session, f"incidents.number:{project_id}")
    top = await session.scalar(
        select(func.max(Incident.number)).where(Incident.project_id == project_id)
    )
    return 1 if top is None else int(top) + 1


async def hold_deployments(session: AsyncSession, deployment_ids: Sequence[str]) -> None:
    """Take turns with other transactions changing the incidents caused by these deployments
    (in id order, so two of them never wait for each other), so "is any other incident it
    caused still open?" is answered on committed data."""
    for deployment_id in sorted(set(deployment_ids)):
        await hold_transaction_lock(session, f"incidents.caused_by:{deployment_id}")


@dataclass(frozen=True)
class CausedIncidents:
    """The incidents linked as caused by one deployment, in sum."""

    open: int
    last_resolved_at: datetime | None


async def caused_by(session: AsyncSession, deployment_id: str) -> CausedIncidents:
    """How many incidents caused by the deployment are open, and when the last of the resolved
    ones was resolved."""
    row = (
        await session.execute(
            select(
                func.count().filter(Incident.state == "open"),
                func.max(Incident.resolved_at),
            ).where(Incident.caused_by_deployment_id == deployment_id)
        )
    ).one()
    return CausedIncidents(open=int(row[0] or 0), last_resolved_at=row[1])


async def has_incidents(session: AsyncSession, environment_id: str) -> bool:
    """Whether any incident was recorded in the environment."""
    return bool(
        await session.scalar(select(exists().where(Incident.environment_id == environment_id)))
    )


# Export and import (`takt.transfer`) ------------------------------------------------------------


async def project_incidents(session: AsyncSession, project_id: str) -> list[Incident]:
    """Every incident of the project, by number."""
    return list(
        await session.scalars(
            select(Incident).where(Incident.project_id == project_id).order_by(Incident.number)
        )
    )


async def insert_imported(session: AsyncSession, incidents: Sequence[dict[str, object]]) -> None:
    """An imported project's incidents, numbers kept, in one INSERT."""
    if incidents:
        await session.execute(insert(Incident), list(incidents))
