"""How incidents follow lower domains' changes, in their transactions: an environment incidents
were recorded in can't be deleted (`takt.deployments.hooks`), which would take them with it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from takt.deployments.hooks import EnvironmentDeleting, environment_deleting
from takt.incidents import service


async def keep_environment_with_incidents(
    session: AsyncSession, change: EnvironmentDeleting
) -> None:
    await service.refuse_deleting_environment(session, change.environment)


def connect() -> None:
    environment_deleting.subscribe(keep_environment_with_incidents)
