"""Evidence cards from delivery: a retro on a sprint shows the review wait of the pull requests
first reviewed during the sprint and the deployments that failed during it, numbers worked by
hand, each saying where it comes from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.auth.principal import Principal
from takt.core.db import Database
from takt.core.time import clock_at
from takt.delivery import ingest
from takt.delivery import service as delivery
from takt.delivery.facts import Person, PullRequestChange, PullRequestFacts, ReviewFacts
from takt.delivery.models import Repository
from takt.delivery.schemas import RepositoryCreate
from takt.deployments import service as deployments
from takt.deployments.facts import DeploymentReport
from takt.incidents import service as incidents
from takt.incidents.schemas import IncidentCreate
from takt.projects import service as project_service
from tests.retros.kit import new_retro, started_sprint
from tests.support import CLIENT, Account, team

# The sprint starts on Monday 2 November 2026 at 09:00 UTC.
START = datetime(2026, 11, 2, 9, tzinfo=UTC)


def hours(n: float) -> datetime:
    return START + timedelta(hours=n)


class Delivery:
    """Project API's pull requests, deployments and incidents, recorded through the services at
    their moments."""

    def __init__(self, app: FastAPI, db: Database, lead: Account) -> None:
        self.app, self.db, self.lead = app, db, lead
        self.ids: dict[str, str] = {}
        self.repository: Repository | None = None

    async def _access(self, session: Any) -> Any:
        return await project_service.access(session, Principal.of(self.lead.user), "API")

    async def link_repository(self) -> None:
        with clock_at(hours(-100)):
            async with self.db.transaction() as session:
                self.repository, _ = await delivery.create_repository(
                    session,
                    await self._access(session),
                    RepositoryCreate(provider="github", full_name="acme/api"),
                    config=delivery.DeliveryConfig.from_settings(self.app.state.settings),
                    client=CLIENT,
                )

    async def pull_request(self, number: int, ready: float, reviewed: float | None) -> None:
        assert self.repository is not None
        facts = PullRequestFacts(
            number=number,
            title=f"Change {number}",
            state="open",
            draft=False,
            created_at=hours(ready),
            author=Person(login="leo"),
        )
        changes = [PullRequestChange(facts, "opened", hours(ready))]
        if reviewed is not None:
            review = ReviewFacts(
                external_id=f"r{number}",
                reviewer=Person(login="maya"),
                state="approved",
                submitted_at=hours(reviewed),
            )
            changes.append(PullRequestChange(facts, "review", hours(reviewed), review=review))
        for change in changes:
            with clock_at(change.at):
                async with self.db.transaction() as session:
                    access = await self._access(session)
                    await ingest.apply_pull_request(
                        session, self.repository, access.project, change
                    )

    async def deploy(
        self,
        name: str,
        start: float,
        end: float | None = None,
        *,
        environment: str = "production",
        state: str = "success",
        fixes: str | None = None,
        hotfix: bool = False,
    ) -> None:
        report = DeploymentReport(
            environment=environment,
            state=state,  # type: ignore[arg-type]
            pipeline_id=name,
            sequence=1,
            version=name,
            started_at=hours(start),
            finished_at=hours(end) if end is not None else None,
            is_hotfix=hotfix,
            is_rollback=fixes is not None and not hotfix,
            fixes_deployment_id=self.ids[fixes] if fixes else None,
            commits=(),
        )
        with clock_at(hours(end if end is not None else start)):
            async with self.db.transaction() as session:
                found = await deployments.record_deployment(
                    session,
                    (await self._access(session)).project,
                    report,
                    actor=Principal.of(self.lead.user),
                )
        self.ids[name] = found.id

    async def incident(
        self, title: str, caused_by: str, opened: float, resolved: float | None = None
    ) -> None:
        """An incident the deployment caused; one that is over is recorded resolved."""
        with clock_at(hours(resolved if resolved is not None else opened)):
            async with self.db.transaction() as session:
                await incidents.create_incident(
                    session,
                    await self._access(session),
                    IncidentCreate(
                        title=title,
                        severity="sev2",
                        caused_by_deployment_id=self.ids[caused_by],
                        opened_at=hours(opened),
                        state="resolved" if resolved is not None else None,
                        resolved_at=hours(resolved) if resolved is not None else None,
                    ),
                )


async def _sprint_with_delivery(
    client: AsyncClient, app: FastAPI, db: Database
) -> tuple[Account, dict[str, Any], Delivery]:
    ada = (await team(app, db))["ada"]
    with clock_at(START):
        sprint = await started_sprint(client, ada, [(3, True), (5, False)])
    work = Delivery(app, db, ada)
    await work.link_repository()
    # Ready to first review: 2 h, 10 h and 1 h during the sprint; one reviewed before it
    # started, one not reviewed yet.
    await work.pull_request(1, ready=-48, reviewed=-40)
    await work.pull_request(2, ready=1, reviewed=3)
    await work.pull_request(3, ready=2, reviewed=12)
    await work.pull_request(4, ready=4, reviewed=5)
    await work.pull_request(5, ready=6, reviewed=None)
    # A failure before the sprint, then four during it (and a deployment that merely failed).
    await work.deploy("v0.9", -30, -29.5)
    await work.incident("Old outage", "v0.9", -29, -28)
    await work.deploy("v1.0", 24, 24.2)
    await work.incident("Checkout returns 500", "v1.0", 25, 27)
    await work.deploy("v1.1", 48, 48.2)
    await work.deploy("v1.0-rollback", 48.5, 48 + 40 / 60, fixes="v1.1")
    await work.deploy("v1.2", 72, 72.1, environment="staging")
    await work.deploy(
        "v1.2.1", 74, hotfix=True, fixes="v1.2", state="in_progress", environment="staging"
    )
    await work.deploy("v1.3", 90, 90.5, state="failure")
    await work.deploy("v1.4", 96, 96.2)
    await work.incident("Slow search", "v1.4", 97)
    return ada, sprint, work


def _cards(retro: dict[str, Any], metric: str) -> list[dict[str, Any]]:
    return [
        card
        for card in retro["cards"]
        if card["kind"] == "evidence" and card["evidence"]["metric"] == metric
    ]


async def test_a_sprint_shows_its_review_wait_and_failed_deployments(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada, sprint, work = await _sprint_with_delivery(client, app, db)
    with clock_at(hours(120)):
        retro = await new_retro(client, ada, sprint_id=sprint["id"])

    (wait,) = _cards(retro, "review_wait")
    # Waits 1, 2, 10 h: nearest-rank P50 is the 2nd, P85 the 3rd.
    assert wait["evidence"]["value"] == 2.0
    assert wait["text"] == (
        "Review wait: half the pull requests waited 2.0 h or less for a first review, 85 % "
        "waited 10.0 h or less (3 pull requests first reviewed during the sprint)."
    )
    assert (
        "first reviewed from 2026-11-02 09:00 to 2026-11-07 09:00 UTC"
        in (wait["evidence"]["source"])
    )
    assert "docs/metrics.md, Code review" in wait["evidence"]["source"]

    failed = _cards(retro, "failed_deployment")
    assert [card["evidence"]["value"] for card in failed] == [2.0, 0.17, None]
    assert [card["text"] for card in failed] == [
        "Deployment v1.0 to production failed 2026-11-03 10:00 UTC (incident INC-2 Checkout "
        "returns 500); restored after 2 h.",
        "Deployment v1.1 to production failed 2026-11-04 09:30 UTC (rolled back); restored "
        "after 0.17 h.",
        "Deployment v1.2 to staging failed 2026-11-05 11:00 UTC (hotfixed); not restored yet. "
        "1 more failed during the sprint.",
    ]
    assert failed[0]["evidence"]["source"].startswith(
        f"Deployment {work.ids['v1.0']} (GET /api/v1/deployments/{work.ids['v1.0']})"
    )
    # The evidence comes after the sprint's rates, in the order it was computed.
    metrics = [c["evidence"]["metric"] for c in retro["cards"] if c["kind"] == "evidence"]
    assert metrics == [
        "carry_over_rate",
        "scope_change",
        "review_wait",
        "failed_deployment",
        "failed_deployment",
        "failed_deployment",
    ]


async def test_a_completed_sprint_counts_up_to_its_completion(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada, sprint, _ = await _sprint_with_delivery(client, app, db)
    with clock_at(hours(80)):
        done = await client.post(
            f"/api/v1/sprints/{sprint['id']}/complete", json={}, headers=ada.headers
        )
    assert done.status_code == 200, done.text
    with clock_at(hours(120)):
        retro = await new_retro(client, ada, sprint_id=sprint["id"])

    failed = _cards(retro, "failed_deployment")
    assert [card["text"].split(" failed ")[0] for card in failed] == [
        "Deployment v1.0 to production",
        "Deployment v1.1 to production",
        "Deployment v1.2 to staging",
    ]
    assert "more failed" not in failed[-1]["text"]
    (wait,) = _cards(retro, "review_wait")
    assert "to 2026-11-05 17:00 UTC" in wait["evidence"]["source"]


async def test_a_project_without_repositories_or_failures_shows_neither(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    with clock_at(START):
        sprint = await started_sprint(client, ada, [(3, False)])
    with clock_at(hours(24)):
        retro = await new_retro(client, ada, sprint_id=sprint["id"])
    assert _cards(retro, "review_wait") == []
    assert _cards(retro, "failed_deployment") == []

    work = Delivery(app, db, ada)
    await work.link_repository()
    with clock_at(hours(48)):
        retro = await new_retro(client, ada, sprint_id=sprint["id"])
    (wait,) = _cards(retro, "review_wait")
    assert wait["evidence"]["value"] is None
    assert wait["text"] == "Review wait: no pull request was first reviewed during the sprint."
