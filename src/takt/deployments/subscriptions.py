"""How deployments join lower domains at start-up: a new project gets its promotion path
(development, staging, production) in its creation's transaction
(`takt.projects.hooks.project_created`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from takt.deployments import drafts, environments
from takt.projects.hooks import project_created
from takt.projects.policies import ProjectAccess
from takt.standups.drafts import register_source


async def create_default_environments(session: AsyncSession, created: ProjectAccess) -> None:
    await environments.create_default_environments(session, created.project)


def connect() -> None:
    project_created.subscribe(create_default_environments)
    register_source(drafts.SOURCE)  # deployments in stand-up drafts (deployments.drafts)
