"""Reports from GitHub and GitLab (through `record_deployment`, as `takt.integrations` calls it):
recognised again by the provider's id, and an environment the project lacks is added at the end
of the promotion path."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.auth.principal import Principal
from takt.core.db import Database
from takt.deployments import environments, service
from takt.deployments.facts import DeploymentReport
from takt.deployments.models import Deployment
from takt.projects import service as project_service
from tests.deployments.kit import ENVIRONMENTS, sha
from tests.support import team


async def provider_report(
    db: Database,
    people: dict[str, Any],
    environment: str,
    *,
    external_id: str,
    state: str = "success",
    source: str = "gitlab",
) -> Deployment:
    """`record_deployment` as takt.integrations calls it for a provider's delivery."""
    async with db.transaction() as session:
        access = await project_service.access(session, Principal.of(people["ada"].user), "API")
        return await service.record_deployment(
            session,
            access.project,
            DeploymentReport(
                environment=environment,
                state=state,  # type: ignore[arg-type]
                source=source,  # type: ignore[arg-type]
                external_id=external_id,
                sha=sha(int(external_id) % 1000),
                ref="main",
            ),
            actor=None,
        )


async def _provider_report(
    db: Database, app: FastAPI, people: dict[str, Any], environment: str, n: int
) -> str:
    return (await provider_report(db, people, environment, external_id=str(n))).environment_id


async def test_provider_reports_are_recognised_by_their_id_and_add_environments(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ids = [
        (
            await provider_report(
                db, people, environment, external_id="1234567", state=state, source="github"
            )
        ).id
        for state, environment in (("in_progress", "Prod-EU"), ("success", "prod-eu"))
    ]
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


async def test_a_provider_name_with_control_characters_becomes_a_valid_name(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    first = await _provider_report(db, app, people, "prod\u0007\n  eu\t", 1)
    again = await _provider_report(db, app, people, "Prod EU", 2)
    long_name = "review/" + "x" * 80
    long_first = await _provider_report(db, app, people, long_name, 3)
    long_again = await _provider_report(db, app, people, long_name, 4)
    assert (first, long_first) == (again, long_again)
    envs = (await client.get(ENVIRONMENTS.format(key="API"), headers=people["vic"].headers)).json()
    names = [e["name"] for e in envs["data"]]
    assert names[3:] == ["prod eu", long_name[:64]]


async def test_a_provider_cant_add_environments_past_the_limit(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    for n in range(environments.MAX_ENVIRONMENTS - 3):  # the project has 3 already
        await _provider_report(db, app, people, f"review/feature-{n}", n + 1)
    with pytest.raises(environments.TooManyEnvironments):
        await _provider_report(db, app, people, "review/one-too-many", 99)
    envs = (await client.get(ENVIRONMENTS.format(key="API"), headers=people["vic"].headers)).json()
    assert len(envs["data"]) == environments.MAX_ENVIRONMENTS
    # An environment the project has still takes reports.
    await _provider_report(db, app, people, "review/feature-0", 100)
