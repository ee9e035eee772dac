"""The real worker runs the inbox: `integrations.process` is one of its kinds, and a burst of
deliveries about one pull request, processed concurrently, ends as one pull request with every
review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.config import Settings
from takt.core.db import Database
from takt.delivery.models import PullRequest, Review
from takt.integrations.jobs import PROCESS
from takt.worker.kinds import job_kinds
from takt.worker.runner import Worker
from tests.delivery.support import github_pr, github_review, inbox, link_repository, send_github
from tests.support import team
from tests.worker.helpers import eventually

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_the_worker_knows_the_inbox_kind() -> None:
    assert PROCESS in {kind.name for kind in job_kinds()}


async def test_the_worker_processes_a_burst_about_one_pull_request(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    sent = [("pull_request", github_pr("opened", opened=T0))]
    sent += [
        (
            "pull_request_review",
            github_review(
                "commented",
                review_id=n,
                reviewer=f"reviewer-{n}",
                at=T0 + timedelta(minutes=n),
                opened=T0,
            ),
        )
        for n in range(1, 12)
    ]
    worker = Worker(
        db,
        settings.model_copy(update={"worker_poll_seconds": 0.1}),
        pumps=[],
        sweeps=[],
        grace_seconds=0.5,
    )
    worker.start()
    try:
        for event, payload in sent:
            assert (await send_github(client, repository, event, payload)).status_code == 202

        async def all_processed() -> bool:
            states = [d.state for d in await inbox(db)]
            return len(states) == len(sent) and set(states) == {"processed"}

        await eventually(all_processed, within=30)
    finally:
        await worker.stop()
    async with db.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(PullRequest)) == 1
        assert await session.scalar(select(func.count()).select_from(Review)) == 11
        first = await session.scalar(select(PullRequest.first_review_at))
    assert first == T0 + timedelta(minutes=1)
