"""Webhooks attacked: host names that crash URL parsing, credentials in a URL's userinfo read by
people who may not see the webhook, and a project multiplying its events by any number of
webhooks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.config import Settings
from takt.core.audit import AuditEntry
from takt.core.crypto import SecretBox
from takt.core.db import Database
from takt.core.events import Event
from takt.core.jobs import JobContext
from takt.projects.models import Project
from takt.webhooks.models import Webhook, WebhookAttempt
from takt.webhooks.service import MAX_WEBHOOKS_PER_PROJECT
from tests.support import new_item, team
from tests.webhooks.receiver import add_webhook, engine_settings, relay_all, run_deliveries

PUBLIC_URL = "https://8.8.8.8/hooks/takt"  # an address literal: nothing is resolved, nothing sent
CREDENTIALS_URL = "https://hook:s3cret-pass@8.8.8.8/hooks/takt?x=1"
# Host names IDNA can't encode: refused before any DNS query is made.
UNENCODABLE_URLS = [
    "https://xn--a/hook",  # a malformed A-label (httpx raises while reading the host)
    "https://a..example/hook",  # an empty label (the resolver's IDNA codec raises)
    f"https://{'a' * 64}.example/hook",  # a label over 63 characters (likewise)
]


async def _webhook_count(db: Database) -> int:
    async with db.transaction(write=False) as session:
        return await session.scalar(select(func.count()).select_from(Webhook)) or 0


# Crafted URLs: a 422 at /url, never a 500


@pytest.mark.parametrize("url", UNENCODABLE_URLS)
async def test_a_host_name_idna_cannot_encode_is_refused_at_url_not_a_500(
    url: str, client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    refused = await client.post(
        "/api/v1/projects/API/webhooks",
        json={"url": url, "event_types": ["*"]},
        headers=ada.headers,
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    (error,) = refused.json()["errors"]
    assert error["pointer"] == "/url"
    assert "not a valid host name" in error["message"]
    assert await _webhook_count(db) == 0


@pytest.mark.parametrize("url", UNENCODABLE_URLS)
async def test_changing_the_url_to_a_host_idna_cannot_encode_is_refused_not_a_500(
    url: str, client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    made = await client.post(
        "/api/v1/projects/API/webhooks",
        json={"url": PUBLIC_URL, "event_types": ["*"]},
        headers=ada.headers,
    )
    refused = await client.patch(
        f"/api/v1/webhooks/{made.json()['id']}", json={"url": url}, headers=ada.headers
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["pointer"] == "/url"
    unchanged = await client.get(f"/api/v1/webhooks/{made.json()['id']}", headers=ada.headers)
    assert unchanged.json()["url"] == PUBLIC_URL
    assert unchanged.json()["version"] == 1


async def test_a_stored_url_idna_cannot_encode_fails_its_attempt_as_refused(
    client: AsyncClient, app: FastAPI, db: Database, settings: Settings
) -> None:
    """A URL stored before the check refused it (or written around the API) makes a logged,
    refused attempt, not a job that crashes without a trace in the delivery log."""
    people = await team(app, db)
    async with db.transaction(write=False) as session:
        project_id = await session.scalar(select(Project.id).where(Project.key == "API"))
    assert project_id is not None
    await add_webhook(db, settings, project_id, UNENCODABLE_URLS[1], event_types=["item.created"])
    await new_item(client, people["ada"])
    await relay_all(db)
    engine = JobContext(database=db, settings=engine_settings(settings), worker_id="attack")
    (ran,) = await run_deliveries(engine)
    assert ran.retry is not None  # failed, to be tried again on the schedule
    async with db.transaction(write=False) as session:
        (attempt,) = (await session.scalars(select(WebhookAttempt))).all()
    assert attempt.status_code is None
    assert attempt.error is not None
    assert attempt.error.startswith("refused:")


# Credentials in a URL's userinfo


async def _texts_a_viewer_and_the_audit_log_hold(
    client: AsyncClient, db: Database, viewer_headers: dict[str, str]
) -> list[str]:
    log = await client.get("/api/v1/projects/API/events", headers=viewer_headers)
    assert log.status_code == 200
    async with db.transaction(write=False) as session:
        audit = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action.startswith("webhook."))
            )
        ).all()
        events = (
            await session.scalars(select(Event).where(Event.type.startswith("webhook.")))
        ).all()
    return (
        [log.text] + [repr(a.details) for a in audit] + [repr((e.data, e.changes)) for e in events]
    )


async def test_credentials_in_the_url_are_masked_in_answers_events_and_the_audit_log(
    client: AsyncClient, app: FastAPI, db: Database, settings: Settings
) -> None:
    """They are sent as basic auth, so they are a secret like the signing secret: the viewers
    who read the project's events (and the live stream, and other webhooks with `webhook.*`)
    must not learn them, nor the admins who read the webhook after it was made."""
    people = await team(app, db)
    ada, vic = people["ada"], people["vic"]
    made = await client.post(
        "/api/v1/projects/API/webhooks",
        json={"url": CREDENTIALS_URL, "event_types": ["*"]},
        headers=ada.headers,
    )
    assert made.status_code == 201, made.text
    masked = "https://***@8.8.8.8/hooks/takt?x=1"
    assert made.json()["url"] == masked
    webhook_id = made.json()["id"]
    read = await client.get(f"/api/v1/webhooks/{webhook_id}", headers=ada.headers)
    assert read.json()["url"] == masked
    listed = await client.get("/api/v1/projects/API/webhooks", headers=ada.headers)
    assert [w["url"] for w in listed.json()["data"]] == [masked]
    # A new password: recorded as a change, without either password.
    changed = await client.patch(
        f"/api/v1/webhooks/{webhook_id}",
        json={"url": CREDENTIALS_URL.replace("s3cret-pass", "n3w-pass")},
        headers=ada.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["url"] == masked
    assert changed.json()["version"] == 2
    texts = await _texts_a_viewer_and_the_audit_log_hold(client, db, vic.headers)
    assert any("webhook.created" in text for text in texts)
    for text in texts:
        assert "s3cret-pass" not in text
        assert "n3w-pass" not in text
    # What is sent keeps them (basic auth): the sealed URL is the one given.
    async with db.transaction(write=False) as session:
        row = await session.get(Webhook, webhook_id)
    assert row is not None
    box = SecretBox(settings.resolved_secret_key())
    assert box.open(row.url_encrypted) == CREDENTIALS_URL.replace("s3cret-pass", "n3w-pass")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://t0ken-only@8.8.8.8/hook", "https://***@8.8.8.8/hook"),
        ("https://:pw-only@8.8.8.8/hook", "https://***@8.8.8.8/hook"),
        # The key as the user name (Stripe, GitHub tokens): masked too.
        ("https://sk_live_SECRET:@8.8.8.8/hook", "https://***@8.8.8.8/hook"),
        ("https://ghp_TOKEN:x-oauth-basic@8.8.8.8/hook", "https://***@8.8.8.8/hook"),
        # httpx (the sender) reads the userinfo up to the last `@`: all of it is masked.
        ("https://8.8.8.8%2f@8.8.4.4/hook", "https://***@8.8.4.4/hook"),
    ],
)
async def test_every_form_of_userinfo_is_masked(
    url: str, shown: str, client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    made = await client.post(
        "/api/v1/projects/API/webhooks",
        json={"url": url, "event_types": ["*"]},
        headers=ada.headers,
    )
    assert made.status_code == 201, made.text
    assert made.json()["url"] == shown


# How many webhooks a project may have


async def test_a_project_has_at_most_twenty_webhooks(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Each event becomes one delivery per webhook, in the one relay every project shares: the
    21st webhook is refused with nothing written, and deleting one makes room again."""
    ada = (await team(app, db))["ada"]
    body: dict[str, Any] = {"url": PUBLIC_URL, "event_types": ["*"]}
    made = []
    for _ in range(MAX_WEBHOOKS_PER_PROJECT):
        created = await client.post("/api/v1/projects/API/webhooks", json=body, headers=ada.headers)
        assert created.status_code == 201, created.text
        made.append(created.json()["id"])
    refused = await client.post("/api/v1/projects/API/webhooks", json=body, headers=ada.headers)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "too-many-webhooks"
    assert "secret" not in refused.text
    assert await _webhook_count(db) == MAX_WEBHOOKS_PER_PROJECT
    async with db.transaction(write=False) as session:
        created_events = await session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "webhook.created")
        )
    assert created_events == MAX_WEBHOOKS_PER_PROJECT
    deleted = await client.delete(f"/api/v1/webhooks/{made[0]}", headers=ada.headers)
    assert deleted.status_code == 204
    again = await client.post("/api/v1/projects/API/webhooks", json=body, headers=ada.headers)
    assert again.status_code == 201, again.text


async def test_concurrent_creates_never_pass_the_limit(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Six creates at once into a project with 18 webhooks: exactly two get in."""
    ada = (await team(app, db))["ada"]
    body: dict[str, Any] = {"url": PUBLIC_URL, "event_types": ["*"]}
    for _ in range(MAX_WEBHOOKS_PER_PROJECT - 2):
        created = await client.post("/api/v1/projects/API/webhooks", json=body, headers=ada.headers)
        assert created.status_code == 201, created.text
    answers = await asyncio.gather(
        *(
            client.post("/api/v1/projects/API/webhooks", json=body, headers=ada.headers)
            for _ in range(6)
        )
    )
    assert sorted(answer.status_code for answer in answers) == [201, 201, 409, 409, 409, 409]
    assert await _webhook_count(db) == MAX_WEBHOOKS_PER_PROJECT


async def test_the_limit_is_per_project(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await team(app, db)
    ada = people["ada"]
    body: dict[str, Any] = {"url": PUBLIC_URL, "event_types": ["*"]}
    for _ in range(MAX_WEBHOOKS_PER_PROJECT):
        created = await client.post("/api/v1/projects/API/webhooks", json=body, headers=ada.headers)
        assert created.status_code == 201
    other = await client.post(
        "/api/v1/projects", json={"key": "WEB", "name": "Web"}, headers=ada.headers
    )
    assert other.status_code == 201, other.text
    elsewhere = await client.post("/api/v1/projects/WEB/webhooks", json=body, headers=ada.headers)
    assert elsewhere.status_code == 201, elsewhere.text
