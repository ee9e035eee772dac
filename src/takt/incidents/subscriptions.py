"""How incidents follow lower domains' changes, in their transactions: an environment incidents
were recorded in can't be deleted (`takt.deployments.hooks`), which would take them with it; and
what deployments asks of incidents (`takt.deployments.incident_directory`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from takt.deployments import incident_directory
from takt.deployments.hooks import EnvironmentDeleting, environment_deleting
from takt.incidents import repository as repo
from takt.incidents import service


async def keep_environment_with_incidents(
    session: AsyncSession, change: EnvironmentDeleting
) -> None:
    await service.refuse_deleting_environment(session, change.environment)


class Directory:
    """Deployments' incident lookups (`takt.deployments.incident_directory.IncidentDirectory`),
    answered from this domain's repository."""

    async def any_open_caused_by(self, session: AsyncSession, deployment_id: str) -> bool:
        return (await repo.caused_by(session, deployment_id)).open > 0


DIRECTORY = Directory()


def connect() -> None:
    environment_deleting.subscribe(keep_environment_with_incidents)
    incident_directory.provide(DIRECTORY)
