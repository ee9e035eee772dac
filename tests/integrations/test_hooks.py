"""The inbound endpoints: signatures checked before anything, one answer for a bad signature
and an unknown repository, deduplication (also of concurrent copies), 202 at once, unknown
events ignored, wrong shapes failed with a reason, 5 MiB bodies, redelivery from the inbox."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.config import Settings
from takt.core.db import Database
from takt.core.events import Event
from takt.core.jobs import Job
from takt.delivery.models import PullRequest
from takt.integrations.service import MAX_HOOK_BYTES
from tests.delivery.support import (
    fixture,
    hook_path,
    inbox,
    link_repository,
    process_inbox,
    send_github,
    send_gitlab,
)
from tests.support import team


def volatile(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("request_id", "instance")}


async def count(db: Database, model: type[Any]) -> int:
    async with db.transaction(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_bad_signature_and_an_unknown_repository_get_the_same_401(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    ping = fixture("github", "ping.json")
    wrong = await send_github(client, repository, "ping", ping, secret="not-the-secret")
    unknown = await send_github(
        client, {**repository, "id": str(uuid.uuid4())}, "ping", ping, secret=repository["secret"]
    )
    missing = await client.post(
        hook_path(repository),
        content=json.dumps(ping).encode(),
        headers={"X-GitHub-Event": "ping", "X-GitHub-Delivery": "x"},
    )
    # The other provider's endpoint for this repository is "no such repository" too.
    other_provider = await send_gitlab(
        client, {**repository, "provider": "gitlab"}, "Push Hook", ping
    )
    for response in (wrong, unknown, missing, other_provider):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert volatile(response.json()) == volatile(wrong.json())
    assert wrong.json()["code"] == "invalid-signature"
    assert await count(db, Job) == 0
    assert await inbox(db) == []


async def test_the_signature_is_checked_on_the_raw_bytes(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    """Re-serialised JSON (other spacing) is another body: its signature doesn't match."""
    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    raw = b'{"zen":  "Keep it logically awesome.",\n "hook_id": 1}'
    signed = await send_github(client, repository, "ping", raw)
    assert signed.status_code == 202
    from takt.integrations.signatures import github_signature

    reformatted = json.dumps(json.loads(raw)).encode()
    tampered = await client.post(
        hook_path(repository),
        content=reformatted,
        headers={
            "X-GitHub-Event": "ping",
            "X-GitHub-Delivery": "d-2",
            "X-Hub-Signature-256": github_signature(repository["secret"], raw),
        },
    )
    assert tampered.status_code == 401


async def test_a_gitlab_token_is_checked(app: FastAPI, db: Database, client: AsyncClient) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"], "gitlab", "mike/diaspora")
    push = fixture("gitlab", "push.json")
    assert (
        await send_gitlab(client, repository, "Push Hook", push, token="nope")
    ).status_code == 401
    accepted = await send_gitlab(client, repository, "Push Hook", push)
    assert accepted.status_code == 202
    assert accepted.json()["duplicate"] is False


async def test_a_delivery_is_accepted_then_processed_by_the_worker(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    accepted = await send_github(
        client, repository, "pull_request", fixture("github", "pull_request.opened.json")
    )
    assert accepted.status_code == 202
    (queued,) = await inbox(db)
    assert queued.state == "received"
    assert queued.id == accepted.json()["id"]
    assert await count(db, PullRequest) == 0  # nothing done before the worker runs
    assert await process_inbox(db, settings) == 1
    (done,) = await inbox(db)
    assert done.state == "processed"
    assert done.action == "opened"
    assert done.attempts == 1
    assert await count(db, PullRequest) == 1
    listed = await client.get(
        f"/api/v1/repositories/{repository['id']}/deliveries", headers=people["ada"].headers
    )
    assert listed.status_code == 200
    (shown,) = listed.json()["data"]
    assert shown["state"] == "processed"
    assert shown["event"] == "pull_request"
    assert shown["delivery_id"] == done.delivery_key
    forbidden = await client.get(
        f"/api/v1/repositories/{repository['id']}/deliveries", headers=people["bob"].headers
    )
    assert forbidden.status_code == 403


async def test_the_same_delivery_twice_is_taken_once(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    payload = fixture("github", "pull_request.opened.json")
    first = await send_github(client, repository, "pull_request", payload, delivery="abc")
    again = await send_github(client, repository, "pull_request", payload, delivery="abc")
    assert first.status_code == again.status_code == 202
    assert again.json() == {"id": first.json()["id"], "duplicate": True}
    assert await process_inbox(db, settings) == 1
    third = await send_github(client, repository, "pull_request", payload, delivery="abc")
    assert third.json()["duplicate"] is True
    assert await process_inbox(db, settings) == 0


async def test_ten_concurrent_copies_have_their_effects_once(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    payload = fixture("github", "pull_request.opened.json")
    payload["pull_request"]["title"] = "API-1 Refunds"
    await client.post(
        "/api/v1/projects/API/items", json={"title": "Refunds"}, headers=people["ada"].headers
    )
    delivery = str(uuid.uuid4())
    answers = await asyncio.gather(
        *(
            send_github(client, repository, "pull_request", payload, delivery=delivery)
            for _ in range(10)
        )
    )
    assert [a.status_code for a in answers] == [202] * 10
    assert len({a.json()["id"] for a in answers}) == 1
    assert sorted(a.json()["duplicate"] for a in answers) == [False] + [True] * 9
    assert len(await inbox(db)) == 1
    assert await count(db, Job) == 1
    await process_inbox(db, settings)
    async with db.transaction(write=False) as session:
        opened = await session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "pull_request.opened")
        )
    assert opened == 1
    assert await count(db, PullRequest) == 1


async def test_unknown_events_and_actions_are_accepted_and_ignored(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    labeled = fixture("github", "pull_request.opened.json")
    labeled["action"] = "labeled"
    for event, payload in (("star", {"action": "created"}), ("pull_request", labeled)):
        assert (await send_github(client, repository, event, payload)).status_code == 202
    await process_inbox(db, settings)
    reasons = sorted((d.state, d.reason or "") for d in await inbox(db))
    assert reasons == [
        ("ignored", "event `star` is not used"),
        ("ignored", "pull_request action `labeled` is not used"),
    ]
    assert await count(db, PullRequest) == 0


async def test_json_of_the_wrong_shape_fails_with_a_reason_never_a_500(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    no_number = fixture("github", "pull_request.opened.json")
    no_number["pull_request"]["number"] = "two"
    cases: list[tuple[str, dict[str, Any] | bytes]] = [
        ("pull_request", no_number),
        ("pull_request", {"action": "opened", "pull_request": []}),
        ("pull_request_review", {"action": "submitted", "review": {"state": 5}}),
        ("push", {"ref": 7}),
        ("push", [1, 2, 3]),  # type: ignore[list-item]
        ("push", b"not json at all"),
    ]
    for event, payload in cases:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        response = await send_github(client, repository, event, body)
        assert response.status_code == 202
    await process_inbox(db, settings)
    found = await inbox(db)
    assert [d.state for d in found] == ["failed"] * len(cases)
    assert all(d.reason for d in found)
    assert "pull_request.number" in (found[0].reason or "")
    assert "not JSON" in (found[-1].reason or "")
    async with db.transaction(write=False) as session:
        jobs_left = await session.scalar(select(func.count()).select_from(Job))
    assert jobs_left == 0  # a wrong shape is not retried: it would fail the same way


async def test_a_delivery_about_another_repository_is_ignored(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"], "github", "acme/api")
    response = await send_github(
        client, repository, "pull_request", fixture("github", "pull_request.opened.json")
    )
    assert response.status_code == 202
    await process_inbox(db, settings)
    (found,) = await inbox(db)
    assert found.state == "ignored"
    assert "Codertocat/Hello-World" in (found.reason or "")
    # Renamed in Takt, then redelivered from the inbox: processed.
    await client.patch(
        f"/api/v1/repositories/{repository['id']}",
        json={"full_name": "Codertocat/Hello-World"},
        headers=people["ada"].headers,
    )
    again = await client.post(
        f"/api/v1/repositories/{repository['id']}/deliveries/{found.id}/redeliver",
        headers=people["ada"].headers,
    )
    assert again.status_code == 202
    assert again.json()["state"] == "received"
    await process_inbox(db, settings)
    (found,) = await inbox(db)
    assert found.state == "processed"
    assert await count(db, PullRequest) == 1
    twice = await client.post(
        f"/api/v1/repositories/{repository['id']}/deliveries/{found.id}/redeliver",
        headers=people["ada"].headers,
    )
    assert twice.status_code == 409
    assert twice.json()["code"] == "inbound-delivery-processed"


async def test_bodies_up_to_5_mib_are_taken_and_larger_ones_refused(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    payload = fixture("github", "pull_request.opened.json")
    payload["pull_request"]["body"] = ""
    base = len(json.dumps(payload).encode())
    payload["pull_request"]["body"] = "x" * (MAX_HOOK_BYTES - base - 100)
    big = json.dumps(payload).encode()
    assert 4 * 1024 * 1024 < len(big) <= MAX_HOOK_BYTES
    assert (await send_github(client, repository, "pull_request", big)).status_code == 202
    too_big = big + b" " * (MAX_HOOK_BYTES - len(big) + 1)
    refused = await send_github(client, repository, "pull_request", too_big)
    assert refused.status_code == 413
    await process_inbox(db, settings)
    (found,) = await inbox(db)
    assert found.state == "processed"
    assert found.size_bytes == len(big)
    # Elsewhere the 1 MiB limit still holds.
    item = await client.post(
        "/api/v1/projects/API/items",
        json={"title": "t", "description": "x" * (1024 * 1024)},
        headers=people["ada"].headers,
    )
    assert item.status_code == 413


async def test_a_failing_attempt_is_retried_and_visible(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings, monkeypatch: Any
) -> None:
    from takt.delivery import ingest

    people = await team(app, db)
    repository = await link_repository(client, people["ada"])
    await send_github(
        client, repository, "pull_request", fixture("github", "pull_request.opened.json")
    )
    original = ingest.apply_pull_request

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(ingest, "apply_pull_request", broken)
    await process_inbox(db, settings)
    (found,) = await inbox(db)
    assert found.state == "retrying"
    assert "database went away" in (found.reason or "")
    assert found.attempts == 1
    async with db.transaction(write=False) as session:
        job = await session.scalar(select(Job))
    assert job is not None
    assert job.state == "ready"
    assert job.attempts == 1
    # An admin redelivers now instead of waiting for the retry; it works this time.
    monkeypatch.setattr(ingest, "apply_pull_request", original)
    again = await client.post(
        f"/api/v1/repositories/{repository['id']}/deliveries/{found.id}/redeliver",
        headers=people["ada"].headers,
    )
    assert again.status_code == 202
    await process_inbox(db, settings)
    (found,) = await inbox(db)
    assert found.state == "processed"
    assert found.attempts == 2
    assert found.reason is None
