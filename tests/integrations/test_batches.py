"""The worker processes the inbox in batches (`integrations.process` is a `JobBatch`): the
deliveries of a claim are parsed outside any transaction and recorded together. What must
still hold: one bad delivery fails alone and visibly, a parser's crash is a retry and not a
lost delivery, and deliveries about one pull request recorded in one batch give what they give
one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.config import Settings
from takt.core.db import Database
from takt.core.jobs import Job
from takt.delivery.models import PullRequest
from takt.integrations.models import InboundDelivery
from takt.worker.runner import Worker
from tests.delivery.support import (
    github_pr,
    github_review,
    inbox,
    link_repository,
    process_inbox,
    send_github,
)
from tests.support import team
from tests.worker.helpers import eventually

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


async def by_number(db: Database) -> dict[int, InboundDelivery]:
    """The inbox's deliveries by the number of the pull request they are about."""
    import json

    return {json.loads(d.body)["pull_request"]["number"]: d for d in await inbox(db)}


async def test_a_batch_with_one_bad_delivery_fails_only_that_one(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    monkeypatch: Any,
) -> None:
    from takt.delivery import ingest

    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    for number in (2, 3, 4):
        payload = github_pr("opened", number=number, opened=at(0))
        assert (await send_github(client, repository, "pull_request", payload)).status_code == 202
    original = ingest.apply_pull_request

    async def broken_for_3(*args: Any, **kwargs: Any) -> None:
        if args[3].pull_request.number == 3:
            raise RuntimeError("pull request 3 can't be recorded")
        await original(*args, **kwargs)

    monkeypatch.setattr(ingest, "apply_pull_request", broken_for_3)
    # Sent before the worker starts: its first claim takes all three as one batch.
    worker = Worker(
        db,
        settings.model_copy(update={"worker_poll_seconds": 0.1}),
        pumps=[],
        sweeps=[],
        grace_seconds=0.5,
    )
    worker.start()
    try:

        async def settled() -> bool:
            states = {n: d.state for n, d in (await by_number(db)).items()}
            return states == {2: "processed", 3: "retrying", 4: "processed"}

        await eventually(settled, within=30)
    finally:
        await worker.stop()
    found = await by_number(db)
    assert "pull request 3 can't be recorded" in (found[3].reason or "")
    assert found[3].attempts >= 1
    assert found[2].reason is None
    assert found[2].attempts == 1
    async with db.transaction(write=False) as session:
        numbers = set(await session.scalars(select(PullRequest.number)))
        left = list(await session.scalars(select(Job)))
    assert numbers == {2, 4}
    # The failed one's job waits for its retry; the others' are done.
    assert [(job.state, job.payload["delivery_id"]) for job in left] == [("ready", found[3].id)]


async def test_a_parser_crash_is_a_visible_retry(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    monkeypatch: Any,
) -> None:
    from takt.integrations import github

    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    for number in (2, 3):
        payload = github_pr("opened", number=number, opened=at(0))
        assert (await send_github(client, repository, "pull_request", payload)).status_code == 202
    original = github.parse

    def crashing_for_3(event: str, payload: Any, received_at: datetime) -> Any:
        if payload["pull_request"]["number"] == 3:
            raise KeyError("a parser's bug")
        return original(event, payload, received_at)

    monkeypatch.setattr(github, "parse", crashing_for_3)
    assert await process_inbox(db, settings) == 2
    found = await by_number(db)
    assert found[2].state == "processed"
    assert found[3].state == "retrying"
    assert "KeyError" in (found[3].reason or "")
    assert found[3].attempts == 1
    monkeypatch.setattr(github, "parse", original)
    again = await client.post(
        f"/api/v1/repositories/{repository['id']}/deliveries/{found[3].id}/redeliver",
        headers=people["ada"].headers,
    )
    assert again.status_code == 202
    await process_inbox(db, settings)
    assert (await by_number(db))[3].state == "processed"


async def test_a_pull_requests_deliveries_in_one_batch_give_what_they_give_one_by_one(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    keys = []
    for title in ("One", "Two"):
        created = await client.post(
            "/api/v1/projects/API/items", json={"title": title}, headers=people["ada"].headers
        )
        keys.append(created.json()["key"])
    repository = await link_repository(client, people["ada"])

    def story(number: int) -> list[tuple[str, dict[str, Any]]]:
        """Opened naming one item, renamed to name the other, reviewed twice, merged."""
        first, renamed = f"{keys[0]} refunds", f"{keys[1]} refunds"
        return [
            ("pull_request", github_pr("opened", number=number, opened=at(0), title=first)),
            (
                "pull_request_review",
                github_review(
                    "changes_requested",
                    review_id=number * 10 + 1,
                    reviewer="octocat",
                    at=at(1),
                    number=number,
                    opened=at(0),
                    title=first,
                ),
            ),
            (
                "pull_request",
                github_pr("edited", number=number, opened=at(0), updated=at(2), title=renamed),
            ),
            (
                "pull_request",
                github_pr(
                    "review_requested",
                    number=number,
                    opened=at(0),
                    updated=at(3),
                    title=renamed,
                    requested="octocat",
                ),
            ),
            (
                "pull_request_review",
                github_review(
                    "approved",
                    review_id=number * 10 + 2,
                    reviewer="octocat",
                    at=at(4),
                    number=number,
                    opened=at(0),
                    title=renamed,
                ),
            ),
            (
                "pull_request",
                github_pr(
                    "closed",
                    number=number,
                    opened=at(0),
                    updated=at(5),
                    merged_at=at(5),
                    title=renamed,
                ),
            ),
        ]

    for event, payload in story(2):
        assert (await send_github(client, repository, event, payload)).status_code == 202
    assert await process_inbox(db, settings, batched=True) == 6
    for event, payload in story(3):
        assert (await send_github(client, repository, event, payload)).status_code == 202
    assert await process_inbox(db, settings, batched=False) == 6
    assert {d.state for d in await inbox(db)} == {"processed"}

    listed = await client.get("/api/v1/projects/API/pull-requests", headers=people["ada"].headers)
    by = {pr["number"]: pr for pr in listed.json()["data"]}
    batched, alone = by[2], by[3]
    for field in (
        "state",
        "item_keys",
        "opened_at",
        "ready_at",
        "first_review_at",
        "approved_at",
        "merged_at",
        "closed_at",
        "waiting_since",
        "review_rounds",
        "reviewers",
        "size",
    ):
        assert batched[field] == alone[field], field
    assert batched["state"] == "merged"
    assert batched["item_keys"] == sorted(keys)
    assert batched["review_rounds"] == 1
    # The same events in the items' history for both.
    for key in keys:
        history = await client.get(f"/api/v1/items/{key}/history", headers=people["ada"].headers)
        assert history.status_code == 200, history.text
        types: dict[int, list[str]] = {2: [], 3: []}
        for event in history.json()["data"]:
            if event["type"].startswith("pull_request."):
                types[event["data"]["number"]].append(event["type"])
        assert sorted(types[2]) == sorted(types[3]), key
    async with db.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(PullRequest)) == 2


async def test_deliveries_arriving_together_are_accepted_in_one_commit_each_once(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    """The endpoints' `InboxWriter` commits deliveries that arrive together in one transaction:
    each still gets its own answer, copies of one delivery in the same group are duplicates,
    and every new one has one job."""
    import asyncio
    import uuid

    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    commits = 0

    def counted(_info: dict[str, Any]) -> None:
        nonlocal commits
        commits += 1

    db.commit_listeners.append(counted)
    try:
        ids = [str(uuid.uuid4()) for _ in range(12)]
        sends = [
            send_github(
                client,
                repository,
                "pull_request",
                github_pr("opened", number=n, opened=at(0)),
                delivery=ids[n % 8],  # deliveries 8..11 are copies of 0..3
            )
            for n in range(12)
        ]
        answers = await asyncio.gather(*sends)
    finally:
        db.commit_listeners.remove(counted)
    assert [a.status_code for a in answers] == [202] * 12
    assert sorted(a.json()["duplicate"] for a in answers) == [False] * 8 + [True] * 4
    for n in range(8, 12):
        assert answers[n].json()["id"] == answers[n - 8].json()["id"]
    assert len(await inbox(db)) == 8
    async with db.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 8
    # Fewer commits than deliveries: they went in groups.
    assert commits < 12
    assert await process_inbox(db, settings) == 8


async def test_a_group_whose_transaction_fails_is_written_one_by_one(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    """One delivery that can't be written (its repository went away after its check) fails
    alone; the others of its group are in the inbox."""
    import asyncio
    import uuid

    from takt.core.time import utcnow
    from takt.integrations.service import InboxWriter

    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    writer = InboxWriter()

    def row(repository_id: str) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "repository_id": repository_id,
            "provider": "github",
            "delivery_key": str(uuid.uuid4()),
            "event": "ping",
            "body": b"{}",
            "size_bytes": 2,
            "state": "received",
            "attempts": 0,
            "received_at": utcnow(),
            "updated_at": utcnow(),
        }

    outcomes = await asyncio.gather(
        writer.put(db, row(repository["id"])),
        writer.put(db, row("no-such-repository")),
        writer.put(db, row(repository["id"])),
        return_exceptions=True,
    )
    assert not isinstance(outcomes[0], BaseException)
    assert not isinstance(outcomes[2], BaseException)
    assert isinstance(outcomes[1], Exception)
    assert len(await inbox(db)) == 2
