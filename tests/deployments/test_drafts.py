"""Stand-up drafts gain a deployment source: the deployments that shipped the member's changes
(commits they authored, or items of their pull requests) in the draft's window, failed ones
first, and a failed deployment whose service is not restored as a suggested blocker."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.auth.principal import Principal
from takt.core.db import Database
from takt.core.time import clock_at
from takt.delivery import ingest
from takt.delivery import service as delivery
from takt.delivery.facts import (
    CommitFacts,
    Person,
    PullRequestChange,
    PullRequestFacts,
    PushFacts,
)
from takt.delivery.models import Repository
from takt.delivery.schemas import RepositoryCreate
from takt.deployments import drafts
from takt.deployments import service as deployments
from takt.deployments.facts import DeploymentReport
from takt.incidents import service as incidents
from takt.incidents.schemas import IncidentCreate
from takt.projects import service as project_service
from takt.standups.drafts import DraftWindow
from tests.support import (
    CLIENT,
    Account,
    QueryCounter,
    add_member,
    make_user,
    new_item,
    team,
)

KINDS = ("deployed", "deployment_failed", "deployment")
DAY = "2026-11-18"  # a Wednesday; the deployments happen the day before


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def sha(n: int) -> str:
    return f"{n:x}" * 40


@dataclass
class History:
    """Project API's code and deployments, recorded through the services at their moments."""

    app: FastAPI
    db: Database
    lead: Account
    repository: Repository | None = None
    deployments: dict[str, str] = field(default_factory=dict)
    incidents: dict[str, str] = field(default_factory=dict)  # by the deployment that caused it

    async def _access(self, session: Any) -> Any:
        return await project_service.access(session, Principal.of(self.lead.user), "API")

    async def code(self, people: dict[str, Account], keys: list[str]) -> None:
        """bob's and ada's GitHub logins, the repository, a pull request of bob's naming the
        first item and four commits on main."""
        with clock_at(at(16, 9)):
            async with self.db.transaction() as session:
                access = await self._access(session)
                config = delivery.DeliveryConfig.from_settings(self.app.state.settings)
                self.repository, _ = await delivery.create_repository(
                    session,
                    access,
                    RepositoryCreate(provider="github", full_name="acme/api"),
                    config=config,
                    client=CLIENT,
                )
                for name in ("ada", "bob"):
                    principal = Principal.of(people[name].user)
                    await delivery.link_identity(session, principal, "github", f"{name}-gh")
        assert self.repository is not None
        with clock_at(at(17, 7)):
            async with self.db.transaction() as session:
                access = await self._access(session)
                facts = PullRequestFacts(
                    number=5,
                    title=f"{keys[0]} Refund endpoint",
                    state="open",
                    draft=False,
                    created_at=at(17, 7),
                    author=Person(login="bob-gh"),
                )
                await ingest.apply_pull_request(
                    session,
                    self.repository,
                    access.project,
                    PullRequestChange(facts, "opened", at(17, 7)),
                )
        commits = (
            (1, "bob-gh", f"{keys[1]} vault keys", at(17, 8)),
            (2, "ada-gh", f"{keys[2]} export as CSV", at(17, 8, 30)),
            (3, "ada-gh", f"{keys[0]} wire refunds", at(17, 8, 45)),
            (4, "bob-gh", "Tidy the logging", at(17, 8, 50)),
        )
        push = PushFacts(
            ref="refs/heads/main",
            branch="main",
            pushed_at=at(17, 9),
            commits=tuple(
                CommitFacts(
                    sha=sha(n),
                    message=message,
                    author_name=login,
                    author_login=login,
                    committed_at=moment,
                )
                for n, login, message, moment in commits
            ),
        )
        with clock_at(at(17, 9)):
            async with self.db.transaction() as session:
                access = await self._access(session)
                await ingest.apply_push(session, self.repository, access.project, push)

    async def deploy(
        self,
        name: str,
        environment: str,
        start: datetime,
        end: datetime,
        *,
        state: str = "success",
        commits: tuple[int, ...] | None = None,
        head: int | None = None,
        fixes: str | None = None,
    ) -> str:
        report = DeploymentReport(
            environment=environment,
            state=state,  # type: ignore[arg-type]
            pipeline_id=f"pipeline-{name}",
            sequence=1,
            sha=sha(head) if head else None,
            version=name,
            started_at=start,
            finished_at=end,
            is_rollback=fixes is not None,
            fixes_deployment_id=self.deployments.get(fixes or ""),
            commits=None if commits is None else tuple(sha(n) for n in commits),
        )
        with clock_at(end):
            async with self.db.transaction() as session:
                access = await self._access(session)
                deployment = await deployments.record_deployment(
                    session,
                    access.project,
                    report,
                    actor=Principal.of(self.lead.user),
                    repository=self.repository,
                )
        self.deployments[name] = deployment.id
        return deployment.id

    async def incident(self, caused_by: str, opened: datetime) -> None:
        with clock_at(opened):
            async with self.db.transaction() as session:
                access = await self._access(session)
                shown = await incidents.create_incident(
                    session,
                    access,
                    IncidentCreate(
                        title="Vault refuses keys",
                        severity="sev2",
                        caused_by_deployment_id=self.deployments[caused_by],
                        opened_at=opened,
                    ),
                )
        self.incidents[caused_by] = shown.incident.id


async def _story(client: AsyncClient, app: FastAPI, db: Database) -> tuple[History, dict[str, Any]]:
    people = await team(app, db)
    ada = people["ada"]
    with clock_at(at(16, 8)):
        keys = [
            (await new_item(client, ada, title=title))["key"]
            for title in ("Refund endpoint", "Card vault", "Settlement export")
        ]
    history = History(app, db, ada)
    await history.code(people, keys)
    # Last week's deployment of bob's commit is not yesterday's news.
    await history.deploy("v0", "production", at(10, 9), at(10, 9, 5), commits=(4,))
    # Yesterday's deployments.
    await history.deploy("v1", "staging", at(17, 10), at(17, 10, 5), commits=(1, 2))
    await history.deploy("v2", "production", at(17, 11), at(17, 11, 10), commits=(3,))
    await history.deploy("v3", "production", at(17, 12), at(17, 12, 5), commits=(), fixes="v2")
    await history.deploy("v4", "production", at(17, 13), at(17, 13, 10), commits=(1, 4))
    await history.incident("v4", at(17, 14))
    await history.deploy("v5", "staging", at(17, 15), at(17, 15, 2), state="failure", head=1)
    await history.deploy("v6", "development", at(17, 16), at(17, 16, 5), commits=(2,))
    return history, {"people": people, "keys": keys}


async def _draft(client: AsyncClient, who: Account) -> dict[str, Any]:
    with clock_at(at(18, 9)):
        response = await client.get(
            f"/api/v1/projects/API/standups/{DAY}/draft", headers=who.headers
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _mine(draft: dict[str, Any]) -> list[tuple[str, str, str | None, str]]:
    return [
        (line["section"], line["kind"], line["item_key"], line["text"])
        for line in draft["lines"]
        if line["kind"] in KINDS
    ]


async def test_the_draft_lists_the_deployments_of_the_members_changes(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    history, story = await _story(client, app, db)
    refunds, vault, export = story["keys"]
    bob, ada = story["people"]["bob"], story["people"]["ada"]

    draft = await _draft(client, bob)

    assert _mine(draft) == [
        ("yesterday", "deployed", vault, f"{vault} Card vault: deployed to staging (v1)"),
        (
            "yesterday",
            "deployment_failed",
            refunds,
            f"{refunds} Refund endpoint: deployment to production failed (v2): rolled back",
        ),
        (
            "yesterday",
            "deployment_failed",
            vault,
            f"{vault} Card vault: deployment to production failed (v4): it caused an incident",
        ),
        (
            "yesterday",
            "deployment_failed",
            vault,
            f"{vault} Card vault: deployment to staging failed (v5)",
        ),
        (
            "blockers",
            "deployment",
            vault,
            f"{vault} Card vault: deployment to production failed (v4), service not restored",
        ),
    ]
    (suggested,) = [s for s in draft["suggested_blockers"] if s["source"] == "deployment"]
    assert suggested["source"] == "deployment"
    assert suggested["item_key"] == vault
    assert suggested["reason"] == (
        "Deployment v4 to production failed (it caused an incident) on 2026-11-17 14:00 UTC "
        "and service is not restored yet."
    )
    assert draft["blocked"] is True
    assert "deployment to production failed (v4)" in draft["answers"]["blockers"]
    lines = {line["detail"]["version"]: line for line in draft["lines"] if line["kind"] in KINDS}
    assert lines["v4"]["detail"] | {"deployment_id": None, "url": None} == {
        "deployment_id": None,
        "environment": "production",
        "environment_type": "production",
        "state": "success",
        "version": "v4",
        "sha": None,
        "url": None,
        "commits": 2,
        "item_keys": [vault],
    }
    assert lines["v1"]["detail"]["deployment_id"] == history.deployments["v1"]
    assert lines["v1"]["occurred_at"].startswith("2026-11-17T10:05:00")

    # ada's commits went out in v1, v2 (rolled back) and v6; bob's lines are not hers.
    theirs = await _draft(client, ada)
    assert [(kind, key, text.split(": ", 1)[1]) for _, kind, key, text in _mine(theirs)] == [
        ("deployed", export, "deployed to staging (v1)"),
        ("deployment_failed", refunds, "deployment to production failed (v2): rolled back"),
        ("deployed", export, "deployed to development (v6)"),
    ]
    assert [s["source"] for s in theirs["suggested_blockers"]] == []


async def test_every_line_names_the_event_it_came_from(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    history, story = await _story(client, app, db)
    bob = story["people"]["bob"]
    with clock_at(at(18, 9)):
        log = await client.get("/api/v1/projects/API/events?limit=100", headers=bob.headers)
    events = {event["id"]: event for event in log.json()["data"]}

    for line in (await _draft(client, bob))["lines"]:
        if line["kind"] not in KINDS:
            continue
        event = events[line["event_id"]]
        assert event["data"]["id"] == line["detail"]["deployment_id"]
        expected = "deployment.succeeded" if line["kind"] == "deployed" else "deployment.failed"
        assert event["type"] == expected
    reasons = {
        events[line["event_id"]]["data"]["version"]: events[line["event_id"]]["data"]["reason"]
        for line in (await _draft(client, bob))["lines"]
        if line["kind"] == "deployment_failed"
    }
    assert reasons == {"v2": "rolled_back", "v4": "incident", "v5": "failure"}
    assert history.deployments["v0"] not in {
        line["detail"].get("deployment_id") for line in (await _draft(client, bob))["lines"]
    }


async def test_a_long_window_keeps_the_failed_deployments_first(
    client: AsyncClient, app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, story = await _story(client, app, db)
    monkeypatch.setattr(drafts, "MAX_LINES_PER_SOURCE", 2)

    draft = await _draft(client, story["people"]["bob"])

    assert [(kind, text.rsplit("(", 1)[-1]) for _, kind, _, text in _mine(draft)] == [
        ("deployment_failed", "v4): it caused an incident"),
        ("deployment_failed", "v5)"),
        ("deployment", "v4), service not restored"),
    ]


async def test_a_resolved_incident_leaves_no_suggested_blocker(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    history, story = await _story(client, app, db)
    bob = story["people"]["bob"]
    # The hotfix for v4 goes out this morning, and the incident v4 caused is resolved by it:
    # service is back (the hotfix alone restores nothing while the incident is open).
    with clock_at(at(18, 8, 30)):
        async with db.transaction() as session:
            access = await project_service.access(session, Principal.of(bob.user), "API")
            hotfix = await deployments.record_deployment(
                session,
                access.project,
                DeploymentReport(
                    environment="production",
                    state="success",
                    pipeline_id="hotfix",
                    sequence=1,
                    version="v4.1",
                    started_at=at(18, 8),
                    finished_at=at(18, 8, 20),
                    is_hotfix=True,
                    fixes_deployment_id=history.deployments["v4"],
                    commits=(),
                ),
                actor=Principal.of(bob.user),
            )
        assert [kind for _, kind, _, _ in _mine(await _draft(client, bob))].count(
            "deployment"
        ) == 1, "an open incident keeps v4 unrestored"
        resolved = await client.patch(
            f"/api/v1/incidents/{history.incidents['v4']}",
            json={"state": "resolved", "fixed_by_deployment_id": hotfix.id},
            headers=bob.headers,
        )
        assert resolved.status_code == 200, resolved.text

    draft = await _draft(client, bob)

    assert [kind for _, kind, _, _ in _mine(draft)].count("deployment") == 0
    assert "deployment" not in [s["source"] for s in draft["suggested_blockers"]]


async def test_a_member_without_linked_logins_has_no_deployment_lines(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    _, story = await _story(client, app, db)
    cid = await make_user(app, db, "cid")  # a member with no GitHub login
    async with db.transaction(write=False) as session:
        ada = Principal.of(story["people"]["ada"].user)
        access = await project_service.access(session, ada, "API")
    await add_member(db, access.project.id, cid, "member")

    assert _mine(await _draft(client, cid)) == []


async def test_the_source_reads_in_three_statements(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    _, story = await _story(client, app, db)
    bob = story["people"]["bob"]
    async with db.transaction(write=False) as session:
        access = await project_service.access(session, Principal.of(bob.user), "API")
        window = DraftWindow(
            project_id=access.project.id,
            project_key="API",
            user_id=bob.id,
            day=at(18, 0).date(),
            since=at(16, 0),
            until=at(18, 9),
        )
        with QueryCounter(db) as counter:
            lines = await drafts.deployment_lines(session, window)
    assert len(lines) == 5
    assert counter.count == 3
