"""Helpers for readiness tests: a linked repository, pushes and pull requests recorded through
delivery's ingest (as the webhooks feed it), deployments and incidents through their HTTP APIs,
and the seed the authorization matrix and the contract test use."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select

from takt.auth.principal import Principal
from takt.core.db import Database
from takt.delivery import ingest
from takt.delivery import repository as delivery_repo
from takt.delivery import service as delivery
from takt.delivery.facts import (
    CommitFacts,
    Person,
    PullRequestChange,
    PullRequestFacts,
    PushFacts,
    ReviewFacts,
)
from takt.delivery.models import PullRequest
from takt.delivery.schemas import RepositoryCreate
from takt.projects import service as project_service
from takt.projects.models import Project
from tests.support import CLIENT, Account

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()  # a made-up commit id


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def link_repository(db: Database, app: Any, admin: Account, key: str = "API") -> str:
    config = delivery.DeliveryConfig.from_settings(app.state.settings)
    async with db.transaction() as session:
        access = await project_service.access(session, Principal.of(admin.user), key)
        repository, _ = await delivery.create_repository(
            session,
            access,
            RepositoryCreate(provider="github", full_name=f"acme/{key.lower()}"),
            config=config,
            client=CLIENT,
        )
    return repository.id


async def push(
    db: Database, repository_id: str, branch: str, commits: list[tuple[str, str, datetime]]
) -> None:
    """Record a push of (sha, message, committed at) to `branch`."""
    async with db.transaction() as session:
        found = await delivery_repo.repository_for_hook(session, repository_id, "github")
        assert found is not None
        repository, project = found
        await ingest.apply_push(
            session,
            repository,
            project,
            PushFacts(
                ref=f"refs/heads/{branch}",
                branch=branch,
                pushed_at=max(c[2] for c in commits),
                commits=tuple(
                    CommitFacts(
                        sha=s, message=m, author_name="Dev", author_login="dev", committed_at=t
                    )
                    for s, m, t in commits
                ),
            ),
        )


async def pull_request(
    db: Database,
    repository_id: str,
    number: int,
    *,
    title: str,
    branch: str,
    head_sha: str | None,
    opened: datetime,
    review: tuple[str, datetime] | None = None,
    merged: datetime | None = None,
    closed: datetime | None = None,
    draft: bool = False,
) -> str:
    """A pull request's life: opened, perhaps reviewed (`(verdict, when)`), merged or closed;
    its id."""
    author = Person(login="dev", external_id="1")

    def facts(moment: datetime, **changes: Any) -> PullRequestFacts:
        values: dict[str, Any] = {
            "number": number,
            "title": title,
            "state": "open",
            "draft": draft,
            "created_at": opened,
            "author": author,
            "source_branch": branch,
            "target_branch": "main",
            "head_sha": head_sha,
            "updated_at": moment,
            **changes,
        }
        return PullRequestFacts(**values)

    changes = [PullRequestChange(facts(opened), "opened", opened, author)]
    if review is not None:
        verdict, when = review
        changes.append(
            PullRequestChange(
                facts(when),
                "review",
                when,
                Person(login="rev", external_id="2"),
                review=ReviewFacts(
                    external_id=f"r{number}",
                    reviewer=Person(login="rev", external_id="2"),
                    state=verdict,  # type: ignore[arg-type]
                    submitted_at=when,
                ),
            )
        )
    if merged is not None:
        changes.append(
            PullRequestChange(
                facts(merged, state="merged", merged_at=merged, closed_at=merged),
                "closed",
                merged,
                author,
            )
        )
    elif closed is not None:
        changes.append(
            PullRequestChange(facts(closed, state="closed", closed_at=closed), "closed", closed)
        )
    async with db.transaction() as session:
        found = await delivery_repo.repository_for_hook(session, repository_id, "github")
        assert found is not None
        repository, project = found
        for change in changes:
            await ingest.apply_pull_request(session, repository, project, change)
        pr_id: str = (
            await session.scalars(
                select(PullRequest.id).where(
                    PullRequest.repository_id == repository_id, PullRequest.number == number
                )
            )
        ).one()
    return pr_id


async def deploy(
    client: AsyncClient,
    who: Account,
    environment: str,
    commit: str,
    *,
    when: datetime,
    commits: list[str] | None = None,
    state: str = "success",
    key: str = "API",
    **extra: Any,
) -> dict[str, Any]:
    """Report a deployment of `commit` through the API, finished at `when`."""
    body: dict[str, Any] = {
        "environment": environment,
        "state": state,
        "sha": commit,
        "started_at": iso(when - timedelta(minutes=5)),
        **extra,
    }
    if state in ("success", "failure"):
        body["finished_at"] = iso(when)
    if commits is not None:
        body["commits"] = commits
    response = await client.post(
        f"/api/v1/projects/{key}/deployments", json=body, headers=who.headers
    )
    assert response.status_code in (200, 201), response.text
    deployment: dict[str, Any] = response.json()
    return deployment


async def open_incident(
    client: AsyncClient, who: Account, environment: str, severity: str, key: str = "API"
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/projects/{key}/incidents",
        json={"title": f"Errors ({severity})", "severity": severity, "environment": environment},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    incident: dict[str, Any] = response.json()
    return incident


async def set_status(client: AsyncClient, who: Account, item_key: str, status: str) -> None:
    response = await client.patch(
        f"/api/v1/items/{item_key}", json={"status": status}, headers=who.headers
    )
    assert response.status_code == 200, response.text


async def seed_readiness(db: Database, key: str) -> dict[str, str]:
    """The placeholders readiness's operations need in the authorization matrix and the contract
    test: the pull request `seed_delivery` made."""
    async with db.transaction(write=False) as session:
        pr_id: str = (
            await session.scalars(
                select(PullRequest.id)
                .join(Project, Project.id == PullRequest.project_id)
                .where(Project.key == key)
                .order_by(PullRequest.number)
                .limit(1)
            )
        ).one()
    return {"pull_request_id": pr_id}
