"""Webhooks through the API: project admins create, change, rotate and delete endpoints, read the
delivery log, ping and redeliver; the secret is handed out once and a Slack URL never again."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import standardwebhooks
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select, update

from takt.config import Settings
from takt.core.audit import AuditEntry
from takt.core.crypto import SecretBox
from takt.core.db import Database
from takt.core.events import Event
from takt.core.jobs import Job
from takt.main import create_app
from takt.webhooks.jobs import DELIVER, delivery_job_key
from takt.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery
from tests.conftest import TEST_SECRET
from tests.support import Account, QueryCounter, make_project, team

PUBLIC_URL = "https://8.8.8.8/hooks/takt"  # an address literal: nothing is resolved, nothing sent


async def _create(
    client: AsyncClient, who: Account, key: str = "API", **fields: Any
) -> dict[str, Any]:
    body = {"url": PUBLIC_URL, "event_types": ["item.*"], **fields}
    made = await client.post(f"/api/v1/projects/{key}/webhooks", json=body, headers=who.headers)
    assert made.status_code == 201, made.text
    created: dict[str, Any] = made.json()
    return created


async def _row(db: Database, webhook_id: str) -> Webhook:
    async with db.transaction(write=False) as session:
        found = await session.get(Webhook, webhook_id)
    assert found is not None
    return found


async def _events(db: Database, prefix: str = "webhook.") -> list[Event]:
    async with db.transaction(write=False) as session:
        rows = await session.scalars(
            select(Event).where(Event.type.startswith(prefix)).order_by(Event.seq)
        )
        return list(rows)


async def _audit(db: Database) -> list[AuditEntry]:
    async with db.transaction(write=False) as session:
        # In the order they happened: without an ORDER BY, PostgreSQL may return any order.
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.startswith("webhook."))
            .order_by(AuditEntry.occurred_at)
        )
        return list(rows)


@pytest.fixture
async def private_client(settings: Settings, db: Database) -> AsyncIterator[AsyncClient]:
    """A client of an app that allows loopback and private targets (a self-hosted install)."""
    app = create_app(settings.model_copy(update={"webhook_allow_private": True}), database=db)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as c:
        yield c


# Creating, and the secret shown once


async def test_an_admin_creates_a_webhook_and_gets_its_secret_once(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    made = await client.post(
        "/api/v1/projects/API/webhooks",
        json={"url": PUBLIC_URL, "event_types": ["item.*", "sprint.started"], "description": "CI"},
        headers=ada.headers,
    )
    assert made.status_code == 201, made.text
    created = made.json()
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert made.headers["Location"] == f"/api/v1/webhooks/{created['id']}"
    assert made.headers["ETag"] == '"v1"'
    assert created | {"id": None, "created_at": None, "updated_at": None, "secret": None} == {
        "id": None,
        "project_key": "API",
        "kind": "standard",
        "url": PUBLIC_URL,
        "description": "CI",
        "event_types": ["item.*", "sprint.started"],
        "enabled": True,
        "disabled_reason": None,
        "disabled_at": None,
        "failing_since": None,
        "previous_secret_valid_until": None,
        "created_at": None,
        "updated_at": None,
        "version": 1,
        "secret": None,
    }
    one = await client.get(f"/api/v1/webhooks/{created['id']}", headers=ada.headers)
    listed = await client.get("/api/v1/projects/API/webhooks", headers=ada.headers)
    assert one.status_code == listed.status_code == 200
    assert "secret" not in one.json()
    assert [w["id"] for w in listed.json()["data"]] == [created["id"]]
    for answer in (one, listed):
        assert secret not in answer.text
        assert "whsec_" not in answer.text
    # Stored sealed, never as given.
    row = await _row(db, created["id"])
    box = SecretBox(TEST_SECRET)
    assert row.secret_encrypted != secret
    assert box.open(row.secret_encrypted) == secret
    assert row.url_encrypted != PUBLIC_URL
    assert box.open(row.url_encrypted) == PUBLIC_URL
    events = await _events(db)
    assert [e.type for e in events] == ["webhook.created"]
    assert events[0].data == {
        "id": created["id"],
        "kind": "standard",
        "url": PUBLIC_URL,
        "event_types": ["item.*", "sprint.started"],
    }
    entries = await _audit(db)
    assert [(e.action, e.actor_username, e.target_id) for e in entries] == [
        ("webhook.created", "ada", created["id"])
    ]
    assert secret not in json.dumps(entries[0].details)


async def test_the_secret_signs_and_verifies_with_the_reference_library(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    secret = (await _create(client, ada))["secret"]
    signer = standardwebhooks.Webhook(secret)
    body = '{"type": "item.created"}'
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signer.sign("evt_1", now, body),
    }
    assert standardwebhooks.Webhook(secret).verify(body, headers) == {"type": "item.created"}


async def test_a_create_replayed_with_its_idempotency_key_never_hands_the_secret_out_again(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    headers = {**ada.headers, "Idempotency-Key": "make-hook-1"}
    body = {"url": PUBLIC_URL, "event_types": ["*"]}
    first = await client.post("/api/v1/projects/API/webhooks", json=body, headers=headers)
    again = await client.post("/api/v1/projects/API/webhooks", json=body, headers=headers)
    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/idempotency-response-withheld"
    assert first.json()["secret"] not in again.text
    listed = await client.get("/api/v1/projects/API/webhooks", headers=ada.headers)
    assert len(listed.json()["data"]) == 1


async def test_a_slack_webhook_shows_only_the_scheme_and_host_of_its_url(
    private_client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    url = "http://127.0.0.1:9/services/T000/B000/sl4ckT0ken"
    created = await _create(private_client, ada, url=url, kind="slack", event_types=["sprint.*"])
    assert created["kind"] == "slack"
    assert created["url"] == "http://127.0.0.1:9"
    changed = await private_client.patch(
        f"/api/v1/webhooks/{created['id']}",
        json={"url": "http://127.0.0.1:9/services/T000/B000/n3wT0ken"},
        headers=ada.headers,
    )
    assert changed.status_code == 200
    one = await private_client.get(f"/api/v1/webhooks/{created['id']}", headers=ada.headers)
    listed = await private_client.get("/api/v1/projects/API/webhooks", headers=ada.headers)
    stored = [json.dumps([e.data, e.changes]) for e in await _events(db)]
    stored += [json.dumps(e.details) for e in await _audit(db)]
    for text in (created["url"], changed.text, one.text, listed.text, *stored):
        assert "T0ken" not in text
        assert "/services/" not in text
    row = await _row(db, created["id"])
    assert SecretBox(TEST_SECRET).open(row.url_encrypted).endswith("n3wT0ken")


# What a webhook may listen to


async def test_event_filters_take_catalogue_types_families_and_everything(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    created = await _create(
        client, ada, event_types=["item.created", "sprint.*", "*", "item.created"]
    )
    assert created["event_types"] == ["item.created", "sprint.*", "*"]


@pytest.mark.parametrize(
    ("event_types", "pointers"),
    [
        (["item.created", "item.exploded"], ["/event_types/1"]),
        (["nope.*", "item.*", "*.*"], ["/event_types/0", "/event_types/2"]),
        (["item"], ["/event_types/0"]),
        (["webhook.test"], ["/event_types/0"]),
        ([], ["/event_types"]),
        (["item.*"] * 101, ["/event_types"]),
        (["x" * 65], ["/event_types/0"]),
    ],
)
async def test_unknown_event_filters_are_refused_at_their_place(
    event_types: list[str], pointers: list[str], client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    refused = await client.post(
        "/api/v1/projects/API/webhooks",
        json={"url": PUBLIC_URL, "event_types": event_types},
        headers=ada.headers,
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert [e["pointer"] for e in refused.json()["errors"]] == pointers
    assert await _events(db) == []


# Where Takt may send requests (SSRF)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.1/hook", "private"),
        ("http://192.168.1.20:8080/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        # (netguard names ::1 "reserved", since Python files ::/8 as reserved before loopback)
        ("http://[::1]/hook", "resolves to a"),
        ("http://127.0.0.1:8000/", "loopback"),
        ("http://localhost:1/", "loopback"),
        ("http://[fe80::1]/", "link-local"),
        ("http://0.0.0.0/", "reserved"),
        ("http://no-such-host.invalid/", "does not resolve"),
        ("ftp://8.8.8.8/", "pattern"),
        ("javascript:alert(1)", "pattern"),
        ("https://" + "a" * 2048, "2048"),
    ],
)
async def test_urls_takt_must_not_call_are_refused_at_url(
    url: str, reason: str, client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    refused = await client.post(
        "/api/v1/projects/API/webhooks",
        json={"url": url, "event_types": ["*"]},
        headers=ada.headers,
    )
    assert refused.status_code == 422, refused.text
    (error,) = refused.json()["errors"]
    assert error["pointer"] == "/url"
    assert reason in error["message"]
    async with db.transaction(write=False) as session:
        assert await session.scalar(select(Webhook.id)) is None


async def test_a_private_install_may_call_loopback_but_never_metadata(
    private_client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    for url in ("http://localhost:1/", "http://127.0.0.1:9/hook", "http://10.0.0.1/"):
        await _create(private_client, ada, url=url)
    for url in ("http://169.254.169.254/", "http://[fe80::1]/"):
        refused = await private_client.post(
            "/api/v1/projects/API/webhooks",
            json={"url": url, "event_types": ["*"]},
            headers=ada.headers,
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["pointer"] == "/url"


async def test_a_changed_url_is_checked_as_on_creation(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    created = await _create(client, ada)
    refused = await client.patch(
        f"/api/v1/webhooks/{created['id']}",
        json={"url": "http://169.254.169.254/", "event_types": ["bogus.type"]},
        headers=ada.headers,
    )
    assert refused.status_code == 422
    assert sorted(e["pointer"] for e in refused.json()["errors"]) == ["/event_types/0", "/url"]
    assert (await _row(db, created["id"])).url_display == PUBLIC_URL


# Who may


async def test_only_project_and_instance_admins_manage_webhooks(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    created = await _create(client, people["ada"])
    ping = await client.post(
        f"/api/v1/webhooks/{created['id']}/test", headers=people["ada"].headers
    )
    delivery_id = ping.json()["id"]
    reads = [
        "/api/v1/projects/API/webhooks",
        f"/api/v1/webhooks/{created['id']}",
        f"/api/v1/webhooks/{created['id']}/deliveries",
        f"/api/v1/deliveries/{delivery_id}",
    ]
    writes = [
        ("POST", "/api/v1/projects/API/webhooks", {"url": PUBLIC_URL, "event_types": ["*"]}),
        ("PATCH", f"/api/v1/webhooks/{created['id']}", {"enabled": False}),
        ("POST", f"/api/v1/webhooks/{created['id']}/rotate-secret", {}),
        ("POST", f"/api/v1/webhooks/{created['id']}/test", None),
        ("POST", f"/api/v1/deliveries/{delivery_id}/retry", None),
        ("DELETE", f"/api/v1/webhooks/{created['id']}", None),
    ]
    for name, expected in (("bob", 403), ("vic", 403), ("sam", 404)):
        headers = people[name].headers
        for path in reads:
            assert (await client.get(path, headers=headers)).status_code == expected, (name, path)
        for method, path, body in writes:
            answer = await client.request(method, path, json=body, headers=headers)
            assert answer.status_code == expected, (name, method, path, answer.text)
    assert [e.type for e in await _events(db)] == ["webhook.created"]
    boss = await _admin(app, db)
    assert (await client.get(reads[1], headers=boss.headers)).status_code == 200
    removed = await client.delete(reads[1], headers=boss.headers)
    assert removed.status_code == 204


async def _admin(app: FastAPI, db: Database) -> Account:
    from tests.support import make_user

    return await make_user(app, db, "root", admin=True)


async def test_a_webhook_of_another_project_answers_like_an_unknown_one(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await make_project(db, people["sam"], "OPS")
    theirs = await _create(client, people["sam"], "OPS")
    unknown = await client.get("/api/v1/webhooks/no-such-webhook", headers=people["ada"].headers)
    hidden = await client.get(f"/api/v1/webhooks/{theirs['id']}", headers=people["ada"].headers)
    assert unknown.status_code == hidden.status_code == 404
    assert unknown.json()["detail"] == hidden.json()["detail"]
    gone = await client.get("/api/v1/deliveries/no-such-delivery", headers=people["ada"].headers)
    assert gone.status_code == 404


# Changing, deleting


async def test_patch_changes_what_was_sent_and_records_the_changes(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    created = await _create(client, ada, description="old")
    path = f"/api/v1/webhooks/{created['id']}"
    changed = await client.patch(
        path,
        json={"event_types": ["sprint.*"], "description": None, "url": "https://8.8.4.4/h"},
        headers={**ada.headers, "If-Match": '"v1"'},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["event_types"], body["description"], body["url"]) == (
        ["sprint.*"],
        None,
        "https://8.8.4.4/h",
    )
    assert changed.headers["ETag"] == '"v2"'
    assert body["version"] == 2
    same = await client.patch(path, json={"event_types": ["sprint.*"]}, headers=ada.headers)
    assert same.json()["version"] == 2  # nothing changed, nothing recorded
    updated = (await _events(db))[-1]
    assert updated.type == "webhook.updated"
    assert updated.changes == {
        "url": [PUBLIC_URL, "https://8.8.4.4/h"],
        "event_types": [["item.*"], ["sprint.*"]],
        "description": ["old", None],
    }
    assert [e.action for e in await _audit(db)] == ["webhook.created", "webhook.updated"]


async def test_a_stale_if_match_changes_nothing(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    created = await _create(client, ada)
    path = f"/api/v1/webhooks/{created['id']}"
    first = await client.patch(path, json={"enabled": False}, headers=ada.headers)
    assert first.status_code == 200
    body: dict[str, Any] | None
    for method, body in (("PATCH", {"enabled": True}), ("DELETE", None)):
        stale = await client.request(
            method, path, json=body, headers={**ada.headers, "If-Match": '"v1"'}
        )
        assert stale.status_code == 412, stale.text
    rotated = await client.post(
        f"{path}/rotate-secret", json={}, headers={**ada.headers, "If-Match": '"v1"'}
    )
    assert rotated.status_code == 412
    assert (await _row(db, created["id"])).enabled is False
    cached = await client.get(path, headers={**ada.headers, "If-None-Match": '"v2"'})
    assert cached.status_code == 304


async def test_switching_off_and_on_again_forgets_why_it_was_off(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    created = await _create(client, ada)
    path = f"/api/v1/webhooks/{created['id']}"
    off = (await client.patch(path, json={"enabled": False}, headers=ada.headers)).json()
    assert off["enabled"] is False
    assert off["disabled_reason"] == "disabled by ada"
    assert off["disabled_at"] is not None
    async with db.transaction() as session:
        await session.execute(
            update(Webhook).values(failing_since=datetime.now(UTC) - timedelta(days=2))
        )
    on = (await client.patch(path, json={"enabled": True}, headers=ada.headers)).json()
    assert (on["enabled"], on["disabled_reason"], on["disabled_at"], on["failing_since"]) == (
        True,
        None,
        None,
        None,
    )
    assert [e.changes for e in (await _events(db))[1:]] == [
        {"enabled": [True, False]},
        {"enabled": [False, True]},
    ]


async def test_null_is_refused_for_fields_that_cannot_be_cleared(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    created = await _create(client, ada)
    for body in ({"url": None}, {"event_types": None}, {"enabled": None}, {"secret": "x"}):
        refused = await client.patch(
            f"/api/v1/webhooks/{created['id']}", json=body, headers=ada.headers
        )
        assert refused.status_code == 422, body


async def test_delete_removes_the_webhook_and_its_delivery_log(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    created = await _create(client, ada)
    ping = await client.post(f"/api/v1/webhooks/{created['id']}/test", headers=ada.headers)
    removed = await client.delete(
        f"/api/v1/webhooks/{created['id']}", headers={**ada.headers, "If-Match": '"v1"'}
    )
    assert removed.status_code == 204
    assert (
        await client.get(f"/api/v1/webhooks/{created['id']}", headers=ada.headers)
    ).status_code == 404
    gone = await client.get(f"/api/v1/deliveries/{ping.json()['id']}", headers=ada.headers)
    assert gone.status_code == 404
    deleted = (await _events(db))[-1]
    assert (deleted.type, deleted.data["id"]) == ("webhook.deleted", created["id"])


# Rotating the secret


async def test_rotation_hands_out_a_new_secret_and_keeps_the_old_one_for_the_overlap(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    created = await _create(client, ada)
    path = f"/api/v1/webhooks/{created['id']}/rotate-secret"
    before = datetime.now(UTC)
    rotated = await client.post(path, json={"overlap_seconds": 3600}, headers=ada.headers)
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert body["secret"].startswith("whsec_")
    assert body["secret"] != created["secret"]
    until = datetime.fromisoformat(body["previous_secret_valid_until"])
    assert before + timedelta(seconds=3590) < until < datetime.now(UTC) + timedelta(seconds=3610)
    row = await _row(db, created["id"])
    box = SecretBox(TEST_SECRET)
    assert box.open(row.secret_encrypted) == body["secret"]
    assert row.previous_secret_encrypted is not None
    assert box.open(row.previous_secret_encrypted) == created["secret"]
    event = (await _events(db))[-1]
    assert event.type == "webhook.secret_rotated"
    assert event.data["previous_valid_until"] is not None
    for text in (json.dumps(event.data), json.dumps([e.details for e in await _audit(db)])):
        assert created["secret"] not in text
        assert body["secret"] not in text
    shown = await client.get(f"/api/v1/webhooks/{created['id']}", headers=ada.headers)
    assert "whsec_" not in shown.text


async def test_rotation_without_overlap_drops_the_old_secret_at_once(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    created = await _create(client, ada)
    path = f"/api/v1/webhooks/{created['id']}/rotate-secret"
    await client.post(path, headers=ada.headers)  # no body: a day of overlap
    row = await _row(db, created["id"])
    assert row.previous_secret_expires_at is not None
    left = row.previous_secret_expires_at - datetime.now(UTC)
    assert timedelta(hours=23) < left <= timedelta(days=1)
    now = await client.post(path, json={"overlap_seconds": 0}, headers=ada.headers)
    assert now.json()["previous_secret_valid_until"] is None
    row = await _row(db, created["id"])
    assert row.previous_secret_encrypted is None
    assert row.previous_secret_expires_at is None
    for overlap in (-1, 604801, "x", None):
        refused = await client.post(path, json={"overlap_seconds": overlap}, headers=ada.headers)
        assert refused.status_code == 422


# The test ping, the delivery log and retries


async def _job(db: Database, delivery_id: str) -> Job | None:
    async with db.transaction(write=False) as session:
        found: Job | None = await session.scalar(
            select(Job).where(Job.dedupe_key == delivery_job_key(delivery_id))
        )
        return found


async def test_a_ping_queues_a_signed_test_delivery(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    created = await _create(client, ada)
    ping = await client.post(f"/api/v1/webhooks/{created['id']}/test", headers=ada.headers)
    assert ping.status_code == 202, ping.text
    delivery = ping.json()
    assert delivery["state"] == "pending"
    assert delivery["event_type"] == "webhook.test"
    assert delivery["event_id"] == delivery["id"]
    assert (delivery["attempt_count"], delivery["attempts"]) == (0, [])
    job = await _job(db, delivery["id"])
    assert job is not None
    assert (job.kind, job.state, job.group_key) == (DELIVER, "ready", created["id"])
    assert job.payload == {"delivery_id": delivery["id"]}
    async with db.transaction(write=False) as session:
        row = await session.get(WebhookDelivery, delivery["id"])
    assert row is not None
    assert row.payload is not None
    assert row.payload["type"] == "webhook.test"
    assert datetime.fromisoformat(row.payload["timestamp"]).tzinfo is not None
    assert row.payload["data"]["webhook_id"] == created["id"]
    assert row.payload["data"]["project_key"] == "API"
    listed = await client.get(f"/api/v1/webhooks/{created['id']}/deliveries", headers=ada.headers)
    assert [d["id"] for d in listed.json()["data"]] == [delivery["id"]]
    one = await client.get(f"/api/v1/deliveries/{delivery['id']}", headers=ada.headers)
    assert one.json() == delivery


async def test_a_disabled_webhook_is_neither_pinged_nor_retried(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    created = await _create(client, ada)
    ping = await client.post(f"/api/v1/webhooks/{created['id']}/test", headers=ada.headers)
    await client.patch(
        f"/api/v1/webhooks/{created['id']}", json={"enabled": False}, headers=ada.headers
    )
    again = await client.post(f"/api/v1/webhooks/{created['id']}/test", headers=ada.headers)
    retried = await client.post(
        f"/api/v1/deliveries/{ping.json()['id']}/retry", headers=ada.headers
    )
    for answer in (again, retried):
        assert answer.status_code == 409
        assert answer.json()["type"] == "/problems/webhook-disabled"


async def _failed_delivery(client: AsyncClient, db: Database, ada: Account) -> tuple[str, str]:
    """A webhook and a ping delivery that failed for good (its job dead), with two attempts."""
    created = await _create(client, ada)
    delivery_id = (
        await client.post(f"/api/v1/webhooks/{created['id']}/test", headers=ada.headers)
    ).json()["id"]
    async with db.transaction() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(state="failed", attempts=2, last_status=500, next_attempt_at=None)
        )
        await session.execute(
            update(Job)
            .where(Job.dedupe_key == delivery_job_key(delivery_id))
            .values(state="dead", attempts=8)
        )
        start = datetime.now(UTC) - timedelta(minutes=5)
        for n in range(2):
            session.add(
                WebhookAttempt(
                    delivery_id=delivery_id,
                    attempted_at=start + timedelta(seconds=n),
                    status_code=500,
                    duration_ms=12,
                    response_excerpt="oops",
                )
            )
    return created["id"], delivery_id


async def test_a_retry_requeues_a_failed_delivery_now(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    _, delivery_id = await _failed_delivery(client, db, ada)
    retried = await client.post(f"/api/v1/deliveries/{delivery_id}/retry", headers=ada.headers)
    assert retried.status_code == 202, retried.text
    body = retried.json()
    assert body["state"] == "pending"
    assert body["next_attempt_at"] is not None
    assert [a["status_code"] for a in body["attempts"]] == [500, 500]
    job = await _job(db, delivery_id)
    assert job is not None
    assert (job.state, job.attempts) == ("ready", 0)
    assert job.run_at <= datetime.now(UTC)


async def test_a_retry_queues_a_new_job_when_the_old_one_is_gone(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    _, delivery_id = await _failed_delivery(client, db, ada)
    async with db.transaction() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(state="succeeded", delivered_at=datetime.now(UTC))
        )
        job = await session.scalar(
            select(Job).where(Job.dedupe_key == delivery_job_key(delivery_id))
        )
        assert job is not None
        await session.delete(job)
    retried = await client.post(f"/api/v1/deliveries/{delivery_id}/retry", headers=ada.headers)
    assert retried.status_code == 202
    assert retried.json()["state"] == "pending"
    requeued = await _job(db, delivery_id)
    assert requeued is not None
    assert requeued.state == "ready"


async def test_a_retry_of_a_delivery_being_sent_is_a_conflict(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    _, delivery_id = await _failed_delivery(client, db, ada)
    async with db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.dedupe_key == delivery_job_key(delivery_id))
            .values(state="running", locked_by="worker-1")
        )
    retried = await client.post(f"/api/v1/deliveries/{delivery_id}/retry", headers=ada.headers)
    assert retried.status_code == 409
    assert retried.json()["type"] == "/problems/delivery-in-progress"
    async with db.transaction(write=False) as session:
        row = await session.get(WebhookDelivery, delivery_id)
    assert row is not None
    assert row.state == "failed"


async def test_the_delivery_log_pages_newest_first_and_filters_by_state(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    webhook_id, failed_id = await _failed_delivery(client, db, ada)
    pings = [
        (await client.post(f"/api/v1/webhooks/{webhook_id}/test", headers=ada.headers)).json()["id"]
        for _ in range(3)
    ]
    path = f"/api/v1/webhooks/{webhook_id}/deliveries"
    first = (await client.get(path, params={"limit": 2}, headers=ada.headers)).json()
    rest = (
        await client.get(
            path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=ada.headers
        )
    ).json()
    assert [d["id"] for d in first["data"] + rest["data"]] == [*reversed(pings), failed_id]
    assert rest["next_cursor"] is None
    failed = (await client.get(path, params={"state": "failed"}, headers=ada.headers)).json()
    assert [d["id"] for d in failed["data"]] == [failed_id]
    assert failed["data"][0]["attempts"][0] == {
        "attempted_at": failed["data"][0]["attempts"][0]["attempted_at"],
        "status_code": 500,
        "duration_ms": 12,
        "response_excerpt": "oops",
        "error": None,
    }
    bad = await client.get(path, params={"state": "exploded"}, headers=ada.headers)
    assert bad.status_code == 422


async def test_a_page_of_deliveries_reads_their_attempts_in_one_statement(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    webhook_id, _ = await _failed_delivery(client, db, ada)
    path = f"/api/v1/webhooks/{webhook_id}/deliveries"
    await client.get(path, headers=ada.headers)  # warms the caller's principal
    with QueryCounter(db) as counter:
        await client.get(path, headers=ada.headers)
    one = counter.count
    for _ in range(4):
        _, delivery_id = await _failed_delivery(client, db, ada)
        async with db.transaction() as session:
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id)
                .values(webhook_id=webhook_id)
            )
    with QueryCounter(db) as counter:
        many = await client.get(path, headers=ada.headers)
    assert len(many.json()["data"]) == 5
    assert all(len(d["attempts"]) == 2 for d in many.json()["data"])
    assert counter.count == one, counter.statements


async def test_a_delivery_shows_its_latest_attempts_oldest_first(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    _, delivery_id = await _failed_delivery(client, db, ada)
    start = datetime.now(UTC)
    async with db.transaction() as session:
        for n in range(30):
            session.add(
                WebhookAttempt(
                    delivery_id=delivery_id,
                    attempted_at=start + timedelta(seconds=n),
                    status_code=400 + n,
                    duration_ms=1,
                )
            )
    shown = (await client.get(f"/api/v1/deliveries/{delivery_id}", headers=ada.headers)).json()
    assert [a["status_code"] for a in shown["attempts"]] == list(range(405, 430))


# Events and bad input


async def test_webhook_events_are_in_the_catalogue(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    served = await client.get("/api/v1/event-types", headers=ada.headers)
    types = {t["type"] for t in served.json()["data"]}
    assert {
        "webhook.created",
        "webhook.updated",
        "webhook.deleted",
        "webhook.secret_rotated",
        "webhook.disabled",
    } <= types


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"url": PUBLIC_URL},
        {"event_types": ["*"]},
        {"url": PUBLIC_URL, "event_types": "*"},
        {"url": PUBLIC_URL, "event_types": [1]},
        {"url": PUBLIC_URL, "event_types": ["*"], "kind": "teams"},
        {"url": PUBLIC_URL, "event_types": ["*"], "secret": "whsec_mine"},
        {"url": PUBLIC_URL, "event_types": ["*"], "description": "x" * 256},
        {"url": PUBLIC_URL, "event_types": ["*\u0000"]},
        {"url": "http://[::1", "event_types": ["*"]},
        {"url": "https://8.8.8.8:99999/", "event_types": ["*"]},
        {"url": "https:///path-only", "event_types": ["*"]},
        {"url": 7, "event_types": ["*"]},
        [],
    ],
)
async def test_bad_input_is_a_problem_never_a_server_error(
    body: Any, client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    refused = await client.post("/api/v1/projects/API/webhooks", json=body, headers=ada.headers)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    async with db.transaction(write=False) as session:
        assert await session.scalar(select(Webhook.id)) is None
