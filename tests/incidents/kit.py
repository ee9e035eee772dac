"""Helpers of the incident tests, and the seed the authorization matrix and the contract test
use: environments (the project's defaults), a production deployment and an open incident it
caused."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.auth.principal import Principal
from takt.core.db import Database
from takt.deployments import environments as deployment_environments
from takt.deployments import repository as deployments_repo
from takt.deployments import service as deployments
from takt.deployments.facts import DeploymentReport, DeploymentState
from takt.deployments.models import Deployment
from takt.projects import service as project_service
from tests.support import Account

INCIDENTS = "/api/v1/projects/{key}/incidents"
_pipelines = itertools.count(1)


async def environments(db: Database, owner: Account, key: str = "API") -> dict[str, str]:
    """The project's environments, name → id (its defaults: development, staging, production)."""
    async with db.transaction() as session:
        access = await project_service.access(session, Principal.of(owner.user), key)
        found = await deployments_repo.environments_in_order(session, access.project.id)
        if not found:  # projects made before the defaults were wired in
            await deployment_environments.create_default_environments(session, access.project)
            found = await deployments_repo.environments_in_order(session, access.project.id)
    return {env.name: env.id for env in found}


async def deploy(
    db: Database,
    owner: Account,
    key: str = "API",
    *,
    environment: str = "production",
    state: DeploymentState = "success",
    at: datetime | None = None,
) -> str:
    """A deployment reported as a CI would report it; its id."""
    await environments(db, owner, key)
    pipeline = next(_pipelines)
    async with db.transaction() as session:
        access = await project_service.access(session, Principal.of(owner.user), key)
        deployment = await deployments.record_deployment(
            session,
            access.project,
            DeploymentReport(
                environment=environment,
                state=state,
                pipeline_id=f"pipeline-{pipeline}",
                sequence=1,
                sha=f"{pipeline:040x}",
                version=f"v1.0.{pipeline}",
                started_at=at,
                finished_at=at,
            ),
            actor=Principal.of(owner.user),
        )
    return deployment.id


async def deployment_row(db: Database, deployment_id: str) -> Deployment:
    async with db.transaction(write=False) as session:
        found = await session.get(Deployment, deployment_id)
    assert found is not None
    return found


async def open_incident(
    client: AsyncClient, who: Account, key: str = "API", **fields: Any
) -> dict[str, Any]:
    """Open an incident through the API; its JSON answer."""
    body = {"title": "Checkout returns 500", "severity": "sev2", **fields}
    if "caused_by_deployment_id" not in fields:
        body.setdefault("environment", "production")
    response = await client.post(INCIDENTS.format(key=key), json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def seed_incidents(app: FastAPI, db: Database, admin: Account, key: str) -> dict[str, str]:
    """A production deployment and an open incident it caused (placeholders `incident_id`,
    `incident_deployment_id`)."""
    from takt.incidents import service as incidents
    from takt.incidents.schemas import IncidentCreate

    deployment_id = await deploy(db, admin, key)
    async with db.transaction() as session:
        access = await project_service.access(session, Principal.of(admin.user), key)
        shown = await incidents.create_incident(
            session,
            access,
            IncidentCreate(
                title="Seeded incident", severity="sev2", caused_by_deployment_id=deployment_id
            ),
        )
    return {"incident_id": shown.incident.id, "incident_deployment_id": deployment_id}
