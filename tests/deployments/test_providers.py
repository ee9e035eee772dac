"""Reports from GitHub and GitLab (through `record_deployment`, as `takt.integrations` calls it):
recognised again by the provider's id, and an environment the project lacks is added at the end
of the promotion path."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.auth.principal import Principal
from takt.core.db import Database
from takt.deployments import environments, service
from takt.deployments.facts import DeploymentReport
from takt.projects import service as project_service
from tests.deployments.kit import ENVIRONMENTS, sha
from tests.support import team


async def test_provider_reports_are_recognised_by_their_id_and_add_environments(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ids = []
    for state, environment in (("in_progress", "Prod-EU"), ("success", "prod-eu")):
        async with db.transaction() as session:
            access = await project_service.access(session, Principal.of(people["ada"].user), "API")
            deployment = await service.record_deployment(
                session,
                access.project,
                DeploymentReport(
                    environment=environment,
                    state=state,  # type: ignore[arg-type]
                    source="github",
                    external_id="1234567",
                    sha=sha(1),
                    ref="main",
                ),
                actor=None,
            )
            ids.append(deployment.id)
    assert ids[0] == ids[1]
    envs = (await client.get(ENVIRONMENTS.format(key="API"), headers=people["vic"].headers)).json()
    assert [(e["name"], e["type"], e["position"]) for e in envs["data"]][-1] == (
        "Prod-EU",
        "production",
        3,
    )
    shown = (
        await client.get(f"/api/v1/deployments/{ids[0]}", headers=people["vic"].headers)
    ).json()
    assert (shown["source"], shown["external_id"], shown["state"]) == (
        "github",
        "1234567",
        "success",
    )
    assert shown["reported_by"] is None
    for name, expected in (("uat", "staging"), ("qa-2", "testing"), ("sandbox", "development")):
        assert environments.guess_type(name) == expected
