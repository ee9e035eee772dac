"""Helpers of the deployment tests (report through the API as a CI does, push commits through
delivery's ingest as a webhook would), and the seed the authorization matrix and the contract
test use: a linked repository with pushed commits and a successful production deployment."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response

from takt.auth.principal import Principal
from takt.core.db import Database
from takt.delivery import ingest
from takt.delivery import service as delivery
from takt.delivery.facts import CommitFacts, PushFacts
from takt.delivery.schemas import RepositoryCreate
from takt.deployments import repository as deployments_repo
from takt.deployments import service as deployments
from takt.deployments.facts import DeploymentReport
from takt.projects import service as project_service
from tests.support import CLIENT, Account

ENVIRONMENTS = "/api/v1/projects/{key}/environments"
DEPLOYMENTS = "/api/v1/projects/{key}/deployments"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
_pipelines = itertools.count(1)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def sha(n: int) -> str:
    """A commit SHA of its own for each n."""
    return hashlib.sha1(str(n).encode()).hexdigest()


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def report(
    client: AsyncClient, who: Account | dict[str, str], key: str = "API", **fields: Any
) -> Response:
    """POST a deployment as a CI job does (a new pipeline unless one is given)."""
    body: dict[str, Any] = {
        "environment": "production",
        "state": "success",
        "pipeline_id": f"run-{next(_pipelines)}",
        "sequence": 1,
        **fields,
    }
    body = {k: v for k, v in body.items() if v is not None}
    headers = who.headers if isinstance(who, Account) else who
    return await client.post(DEPLOYMENTS.format(key=key), json=body, headers=headers)


async def deployed(client: AsyncClient, who: Account, key: str = "API", **fields: Any) -> Any:
    response = await report(client, who, key, **fields)
    assert response.status_code == 201, response.text
    return response.json()


async def link_repository(
    app: FastAPI, db: Database, admin: Account, key: str = "API", name: str = "acme/api"
) -> str:
    config = delivery.DeliveryConfig.from_settings(app.state.settings)
    async with db.transaction() as session:
        access = await project_service.access(session, Principal.of(admin.user), key)
        repository, _ = await delivery.create_repository(
            session,
            access,
            RepositoryCreate(provider="github", full_name=name),
            config=config,
            client=CLIENT,
        )
    return repository.id


async def push(
    db: Database,
    admin: Account,
    repository_id: str,
    commits: list[tuple[str, datetime, str]],
    *,
    branch: str = "main",
    key: str = "API",
) -> None:
    """Record a push of (sha, committed_at, message) to `branch`, as a push delivery would."""
    from takt.delivery.models import Repository

    async with db.transaction() as session:
        access = await project_service.access(session, Principal.of(admin.user), key)
        repository = await session.get(Repository, repository_id)
        assert repository is not None
        await ingest.apply_push(
            session,
            repository,
            access.project,
            PushFacts(
                ref=f"refs/heads/{branch}",
                branch=branch,
                pushed_at=max(c[1] for c in commits),
                commits=tuple(
                    CommitFacts(
                        sha=s,
                        message=message,
                        author_name="Ada",
                        author_login="ada-gh",
                        committed_at=when,
                    )
                    for s, when, message in commits
                ),
            ),
        )


async def seed_deployments(
    app: FastAPI, db: Database, admin: Account, key: str, item_key: str
) -> dict[str, str]:
    """A linked repository, two commits on main (the second names `item_key`) and a successful
    production deployment of the second; placeholders for the matrix."""
    repository_id = await link_repository(app, db, admin, key, f"acme/{key.lower()}-deploys")
    await push(
        db,
        admin,
        repository_id,
        [(sha(1), at(0), "Start"), (sha(2), at(1), f"{item_key} ship it")],
        key=key,
    )
    async with db.transaction() as session:
        access = await project_service.access(session, Principal.of(admin.user), key)
        first = await deployments.record_deployment(
            session,
            access.project,
            DeploymentReport(
                environment="production",
                state="success",
                pipeline_id="seed",
                sequence=1,
                sha=sha(1),
                ref="main",
                started_at=at(0.5),
                finished_at=at(0.6),
            ),
            actor=Principal.of(admin.user),
        )
        second = await deployments.record_deployment(
            session,
            access.project,
            DeploymentReport(
                environment="production",
                state="success",
                pipeline_id="seed",
                sequence=2,
                sha=sha(2),
                ref="main",
                started_at=at(2),
                finished_at=at(2.1),
            ),
            actor=Principal.of(admin.user),
        )
        envs = {
            e.name: e.id
            for e in await deployments_repo.environments_in_order(session, access.project.id)
        }
    return {
        "deployment_id": second.id,
        "first_deployment_id": first.id,
        "environment_id": envs["development"],
        "deploy_repository_id": repository_id,
    }


async def merged_pull_request(
    db: Database,
    admin: Account,
    repository_id: str,
    *,
    number: int,
    title: str,
    head: str,
    merged: datetime,
    target: str = "main",
    key: str = "API",
) -> None:
    """Record a pull request merged into `target` at `merged`, as its deliveries would."""
    from takt.delivery.facts import PullRequestChange, PullRequestFacts
    from takt.delivery.models import Repository

    async with db.transaction() as session:
        access = await project_service.access(session, Principal.of(admin.user), key)
        repository = await session.get(Repository, repository_id)
        assert repository is not None
        facts = PullRequestFacts(
            number=number,
            title=title,
            state="merged",
            draft=False,
            created_at=merged - timedelta(hours=1),
            source_branch=f"feature-{number}",
            target_branch=target,
            head_sha=head,
            merged_at=merged,
            closed_at=merged,
        )
        await ingest.apply_pull_request(
            session, repository, access.project, PullRequestChange(facts, "closed", merged)
        )
