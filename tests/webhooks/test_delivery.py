"""Sending deliveries: signed per Standard Webhooks (checked with the reference library), logged
attempt by attempt, retried on the schedule, and disabling endpoints that are gone or keep
failing; the SSRF guard again at send time, connecting to the address it checked."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select, update
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from takt.config import Settings
from takt.core.crypto import SecretBox
from takt.core.db import Database
from takt.core.events import Event
from takt.core.jobs import Job, JobContext
from takt.core.netguard import Target
from takt.core.time import utcnow
from takt.projects.models import Project
from takt.webhooks import delivery as delivery_module
from takt.webhooks.delivery import deliver
from takt.webhooks.jobs import JITTER, MAX_ATTEMPTS, RETRY_SCHEDULE, delivery_job_key
from takt.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery
from takt.webhooks.sender import destination, request_head
from takt.webhooks.service import WebhookConfig
from takt.webhooks.slack import slack_message
from tests.support import Account, new_item, team
from tests.webhooks.receiver import (
    Receiver,
    add_webhook,
    due_now,
    engine_settings,
    relay_all,
    run_deliveries,
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def engine(settings: Settings, db: Database) -> JobContext:
    return JobContext(database=db, settings=engine_settings(settings), worker_id="test-worker")


async def project_id(db: Database, key: str = "API") -> str:
    async with db.transaction(write=False) as session:
        found = await session.scalar(select(Project.id).where(Project.key == key))
    assert found is not None
    return found


async def deliveries(db: Database, webhook_id: str) -> list[WebhookDelivery]:
    async with db.transaction(write=False) as session:
        rows = await session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .order_by(WebhookDelivery.created_at)
        )
        return list(rows)


async def attempts(db: Database, delivery_id: str) -> list[WebhookAttempt]:
    async with db.transaction(write=False) as session:
        rows = await session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.attempted_at)
        )
        return list(rows)


async def webhook_row(db: Database, webhook_id: str) -> Webhook:
    async with db.transaction(write=False) as session:
        found = await session.get(Webhook, webhook_id)
    assert found is not None
    return found


async def job_of(db: Database, delivery_id: str) -> Job | None:
    async with db.transaction(write=False) as session:
        return await session.scalar(
            select(Job).where(Job.dedupe_key == delivery_job_key(delivery_id))
        )


async def one_delivery(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    path: str = "/hook",
    **webhook: Any,
) -> tuple[dict[str, Account], str, str, WebhookDelivery]:
    """A team, a webhook on `path` for item.created, one item created through the API and its
    delivery relayed: (people, webhook id, secret, the delivery)."""
    people = await team(app, db)
    webhook_id, secret = await add_webhook(
        db,
        settings,
        await project_id(db),
        receiver.url(path),
        event_types=webhook.pop("event_types", ["item.created"]),
        **webhook,
    )
    await new_item(client, people["ada"], title="Ship it")
    await relay_all(db)
    (delivery,) = await deliveries(db, webhook_id)
    return people, webhook_id, secret, delivery


# Signed deliveries ------------------------------------------------------------------------------


async def test_a_delivery_verifies_with_the_reference_library_and_carries_the_event(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    people, webhook_id, secret, delivery = await one_delivery(app, db, client, settings, receiver)

    ran = await run_deliveries(engine)

    assert [r.retry for r in ran] == [None]
    (request,) = receiver.received("/hook")
    body = Verifier(secret).verify(request.body, request.headers)
    log = await client.get("/api/v1/projects/API/events", headers=people["ada"].headers)
    (created,) = [e for e in log.json()["data"] if e["type"] == "item.created"]
    assert request.headers["webhook-id"] == created["id"] == delivery.event_id
    assert set(body) == {"type", "timestamp", "data"}
    assert body["type"] == "item.created"
    assert body["data"] == created
    assert body["data"]["actor"]["username"] == "ada"
    assert body["timestamp"].endswith("Z")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("Takt-Webhooks/")
    assert request.headers["webhook-signature"].startswith("v1,")
    (sent,) = await deliveries(db, webhook_id)
    assert (sent.state, sent.attempts, sent.last_status) == ("succeeded", 1, 200)
    assert sent.delivered_at is not None
    assert sent.next_attempt_at is None
    (attempt,) = await attempts(db, delivery.id)
    assert (attempt.status_code, attempt.response_excerpt, attempt.error) == (200, "ok", None)
    assert await job_of(db, delivery.id) is None


async def test_a_signature_made_with_another_secret_does_not_verify(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    """The check above can fail: a receiver with the wrong secret rejects the delivery."""
    await one_delivery(app, db, client, settings, receiver)
    await run_deliveries(engine)
    (request,) = receiver.received()
    with pytest.raises(WebhookVerificationError):
        Verifier("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)


async def test_a_retry_keeps_the_webhook_id_and_signs_again(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    receiver.answer("/hook", 503)
    _, webhook_id, secret, delivery = await one_delivery(app, db, client, settings, receiver)
    await run_deliveries(engine)
    receiver.answer("/hook", 204, body=b"")
    await due_now(db, delivery.id)
    await run_deliveries(engine)

    first, second = receiver.received("/hook")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.event_id
    assert Verifier(secret).verify(first.body, first.headers) is not None
    assert Verifier(secret).verify(second.body, second.headers) is not None
    (sent,) = await deliveries(db, webhook_id)
    assert (sent.state, sent.attempts, sent.last_status) == ("succeeded", 2, 204)
    assert [a.status_code for a in await attempts(db, delivery.id)] == [503, 204]


# Retries ----------------------------------------------------------------------------------------


async def test_a_failing_endpoint_is_retried_on_the_schedule_until_the_delivery_fails(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    receiver.answer("/hook", 500, body=b"down")
    _, webhook_id, _, delivery = await one_delivery(app, db, client, settings, receiver)

    for attempt in range(1, MAX_ATTEMPTS + 1):
        if attempt > 1:
            await due_now(db, delivery.id)
        (ran,) = await run_deliveries(engine)
        assert ran.retry is not None
        (current,) = await deliveries(db, webhook_id)
        last = (await attempts(db, delivery.id))[-1]
        job = await job_of(db, delivery.id)
        assert job is not None
        assert (current.attempts, current.last_status, last.status_code) == (attempt, 500, 500)
        if attempt < MAX_ATTEMPTS:
            # After attempt n fails, the next comes RETRY_SCHEDULE[n] later, jittered (counted
            # from when the failure was logged, the delivery's `updated_at`).
            assert current.state == "pending"
            assert current.next_attempt_at is not None
            delay = (current.next_attempt_at - current.updated_at).total_seconds()
            expected = RETRY_SCHEDULE[attempt]
            assert expected * (1 - JITTER) - 1 <= delay <= expected * (1 + JITTER) + 1
            assert ran.retry.at == current.next_attempt_at
            assert (job.state, job.run_at) == ("ready", current.next_attempt_at)
        else:
            assert ran.retry.at is None
            assert (current.state, current.next_attempt_at) == ("failed", None)
            assert job.state == "dead"
    assert len(receiver.received("/hook")) == MAX_ATTEMPTS
    assert (await webhook_row(db, webhook_id)).enabled  # failing for minutes, not 5 days


async def test_a_redirect_is_a_failure_and_its_target_is_never_called(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    receiver.redirect("/hook", receiver.url("/elsewhere"))
    _, webhook_id, _, delivery = await one_delivery(app, db, client, settings, receiver)

    (ran,) = await run_deliveries(engine)

    assert ran.retry is not None
    assert ran.retry.at is not None
    assert receiver.received("/elsewhere") == []
    (current,) = await deliveries(db, webhook_id)
    assert (current.state, current.last_status) == ("pending", 302)
    (attempt,) = await attempts(db, delivery.id)
    assert attempt.status_code == 302
    assert attempt.error is not None
    assert "redirect" in attempt.error


async def test_410_disables_the_webhook_at_once_and_tells_the_project(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    receiver.answer("/hook", 410, body=b"gone")
    people, webhook_id, _, delivery = await one_delivery(app, db, client, settings, receiver)
    await new_item(client, people["ada"], title="Another")
    await relay_all(db)
    (other,) = [d for d in await deliveries(db, webhook_id) if d.id != delivery.id]
    async with db.transaction() as session:  # its retry is hours away
        await session.execute(
            update(Job)
            .where(Job.dedupe_key == delivery_job_key(other.id))
            .values(run_at=utcnow() + timedelta(hours=5))
        )

    (ran,) = await run_deliveries(engine)

    assert ran.job.payload["delivery_id"] == delivery.id
    assert ran.retry is None
    webhook = await webhook_row(db, webhook_id)
    assert webhook.enabled is False
    assert webhook.disabled_reason is not None
    assert "410" in webhook.disabled_reason
    assert webhook.disabled_at is not None
    states = {d.id: (d.state, d.attempts) for d in await deliveries(db, webhook_id)}
    # The other delivery is closed at once, without a call: enabling the webhook again before
    # its retry time doesn't send it.
    assert states == {delivery.id: ("cancelled", 1), other.id: ("cancelled", 0)}
    assert len(receiver.received("/hook")) == 1
    async with db.transaction(write=False) as session:
        (disabled,) = await session.scalars(select(Event).where(Event.type == "webhook.disabled"))
    assert disabled.data["id"] == webhook_id
    assert disabled.data["reason"] == webhook.disabled_reason
    assert disabled.actor_id is None
    assert await job_of(db, delivery.id) is None


async def test_an_endpoint_failing_for_5_days_is_disabled(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    receiver.answer("/hook", 500)
    _, webhook_id, _, _delivery = await one_delivery(app, db, client, settings, receiver)
    async with db.transaction() as session:
        await session.execute(
            update(Webhook)
            .where(Webhook.id == webhook_id)
            .values(failing_since=utcnow() - timedelta(days=5, minutes=1))
        )

    (ran,) = await run_deliveries(engine)

    assert ran.retry is None
    webhook = await webhook_row(db, webhook_id)
    assert (webhook.enabled, webhook.disabled_reason) == (False, "failing for 5 days")
    (current,) = await deliveries(db, webhook_id)
    assert current.state == "cancelled"
    async with db.transaction(write=False) as session:
        types = list(await session.scalars(select(Event.type).where(Event.type.like("webhook.%"))))
    assert types == ["webhook.disabled"]


async def test_a_first_failure_marks_the_endpoint_failing_and_a_success_clears_it(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    receiver.answer("/hook", 500)
    _, webhook_id, _, delivery = await one_delivery(app, db, client, settings, receiver)
    before = utcnow()
    await run_deliveries(engine)
    failing_since = (await webhook_row(db, webhook_id)).failing_since
    assert failing_since is not None
    assert failing_since >= before
    await due_now(db, delivery.id)
    await run_deliveries(engine)
    assert (await webhook_row(db, webhook_id)).failing_since == failing_since  # kept, not moved

    receiver.answer("/hook", 200)
    await due_now(db, delivery.id)
    await run_deliveries(engine)

    webhook = await webhook_row(db, webhook_id)
    assert (webhook.failing_since, webhook.enabled) == (None, True)


async def test_a_timeout_is_a_failed_attempt_with_its_error(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
) -> None:
    receiver.answer("/hook", 200, delay=3)
    _, webhook_id, _, delivery = await one_delivery(app, db, client, settings, receiver)
    impatient = JobContext(
        database=db,
        settings=engine_settings(settings, webhook_timeout_seconds=0.3),
        worker_id="test-worker",
    )

    (ran,) = await run_deliveries(impatient)

    assert ran.retry is not None
    assert ran.retry.at is not None
    (attempt,) = await attempts(db, delivery.id)
    assert attempt.status_code is None
    assert attempt.error == "timed out after 0.3 s"
    (current,) = await deliveries(db, webhook_id)
    assert (current.state, current.last_error) == ("pending", "timed out after 0.3 s")


async def test_the_response_excerpt_keeps_the_first_4_kib(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    receiver.answer("/hook", 200, body=b"x" * 4000 + "é".encode() * 3000)
    _, _, _, delivery = await one_delivery(app, db, client, settings, receiver)

    await run_deliveries(engine)

    (attempt,) = await attempts(db, delivery.id)
    assert attempt.response_excerpt is not None
    assert len(attempt.response_excerpt.encode()) <= 4096
    # 4000 bytes of x, then 48 whole two-byte characters: the 49th would pass 4096.
    assert attempt.response_excerpt == "x" * 4000 + "é" * 48


# Secrets ---------------------------------------------------------------------------------------


async def test_during_a_rotation_both_secrets_sign_and_each_verifies(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    _, webhook_id, old_secret, delivery = await one_delivery(app, db, client, settings, receiver)
    box = SecretBox(settings.resolved_secret_key())
    new_secret = "whsec_" + "B" * 43 + "="
    async with db.transaction() as session:
        await session.execute(
            update(Webhook)
            .where(Webhook.id == webhook_id)
            .values(
                secret_encrypted=box.seal(new_secret),
                previous_secret_encrypted=box.seal(old_secret),
                previous_secret_expires_at=utcnow() + timedelta(hours=1),
            )
        )

    await run_deliveries(engine)

    (request,) = receiver.received()
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert all(s.startswith("v1,") for s in signatures)
    assert Verifier(new_secret).verify(request.body, request.headers) is not None
    assert Verifier(old_secret).verify(request.body, request.headers) is not None
    assert delivery.state == "pending"


async def test_after_the_overlap_only_the_new_secret_signs(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    _, webhook_id, old_secret, _ = await one_delivery(app, db, client, settings, receiver)
    box = SecretBox(settings.resolved_secret_key())
    new_secret = "whsec_" + "C" * 43 + "="
    async with db.transaction() as session:
        await session.execute(
            update(Webhook)
            .where(Webhook.id == webhook_id)
            .values(
                secret_encrypted=box.seal(new_secret),
                previous_secret_encrypted=box.seal(old_secret),
                previous_secret_expires_at=utcnow() - timedelta(seconds=1),
            )
        )

    await run_deliveries(engine)

    (request,) = receiver.received()
    assert " " not in request.headers["webhook-signature"]
    assert Verifier(new_secret).verify(request.body, request.headers) is not None
    with pytest.raises(WebhookVerificationError):
        Verifier(old_secret).verify(request.body, request.headers)


# The SSRF guard at send time --------------------------------------------------------------------


async def test_a_private_target_allowed_at_creation_is_refused_at_send_time(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
) -> None:
    _, _webhook_id, _, delivery = await one_delivery(app, db, client, settings, receiver)
    guarded = JobContext(database=db, settings=settings, worker_id="test-worker")
    assert settings.webhook_allow_private is False

    (ran,) = await run_deliveries(guarded)

    assert receiver.received() == []
    assert ran.retry is not None
    assert ran.retry.at is not None
    (attempt,) = await attempts(db, delivery.id)
    assert attempt.status_code is None
    assert attempt.error is not None
    assert attempt.error.startswith("refused:")
    assert "loopback" in attempt.error


async def test_the_call_goes_to_the_checked_address_and_names_the_host(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    people = await team(app, db)
    url = receiver.url("/named", host="localhost")
    _webhook_id, secret = await add_webhook(db, settings, await project_id(db), url)
    await new_item(client, people["ada"])
    await relay_all(db)

    await run_deliveries(engine)

    (request,) = receiver.received("/named")
    assert request.headers["host"] == f"localhost:{receiver.port}"
    assert request.local_address == "127.0.0.1"
    assert Verifier(secret).verify(request.body, request.headers) is not None


def test_the_request_names_the_address_and_keeps_the_host_for_http_and_tls() -> None:
    plain = Target(
        url=httpx.URL("http://hooks.example.com:8080/in?x=1"),
        host="hooks.example.com",
        port=8080,
        addresses=("93.184.216.34",),
    )
    # Connect to the checked address and port, no TLS name, `Host` names the host again.
    assert destination(plain, "93.184.216.34") == (
        "93.184.216.34",
        8080,
        None,
        "hooks.example.com:8080",
    )
    head = request_head(plain, {"content-type": "application/json"}, b"{}")
    assert head.target == b"/in?x=1"
    assert (b"host", b"hooks.example.com:8080") in head.headers
    assert (b"content-length", b"2") in head.headers

    tls = Target(
        url=httpx.URL("https://hooks.example.com/in"),
        host="hooks.example.com",
        port=443,
        addresses=("2606:2800:220:1::1", "93.184.216.34"),
    )
    # Over TLS the certificate is checked against the host name (SNI), not the address.
    assert destination(tls, "2606:2800:220:1::1") == (
        "2606:2800:220:1::1",
        443,
        "hooks.example.com",
        "hooks.example.com",
    )


def _certificates(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A test CA and a certificate it signed for `localhost` only (no IP address in it): the
    server's TLS context and a client context that trusts the CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    now = utcnow()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Takt test CA"))
        .issuer_name(name("Takt test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (directory / "leaf.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(directory / "leaf.pem", directory / "leaf.key")
    trusting = ssl.create_default_context(cafile=str(directory / "ca.pem"))
    return server, trusting


async def test_over_tls_the_pinned_call_verifies_the_host_name(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    engine: JobContext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The certificate names `localhost` and no address: the call to 127.0.0.1 verifies only
    because TLS was asked for (SNI) and checked against the host name of the URL."""
    server_tls, trusting = _certificates(tmp_path)
    # Trust the test CA instead of the public ones; nothing else about the call changes.
    monkeypatch.setattr(delivery_module, "_tls", lambda: trusting)
    people = await team(app, db)
    with Receiver(tls=server_tls) as receiver:
        url = receiver.url("/tls", host="localhost")
        _webhook_id, secret = await add_webhook(db, settings, await project_id(db), url)
        await new_item(client, people["ada"])
        await relay_all(db)

        (ran,) = await run_deliveries(engine)

        (request,) = receiver.received("/tls")
    assert ran.retry is None
    assert request.sni == "localhost"
    assert request.local_address == "127.0.0.1"
    assert request.headers["host"] == f"localhost:{receiver.port}"
    assert Verifier(secret).verify(request.body, request.headers) is not None


async def test_over_tls_a_certificate_for_another_name_fails_the_attempt(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    engine: JobContext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same server called by its address: the certificate doesn't name 127.0.0.1."""
    server_tls, trusting = _certificates(tmp_path)
    monkeypatch.setattr(delivery_module, "_tls", lambda: trusting)
    people = await team(app, db)
    with Receiver(tls=server_tls) as receiver:
        await add_webhook(db, settings, await project_id(db), receiver.url("/tls"))
        await new_item(client, people["ada"])
        await relay_all(db)

        (ran,) = await run_deliveries(engine)

        assert receiver.received() == []
    assert ran.retry is not None
    (delivery,) = await deliveries_of_project(db)
    (attempt,) = await attempts(db, delivery.id)
    assert attempt.error is not None
    assert "certificate" in attempt.error.lower()


async def deliveries_of_project(db: Database) -> list[WebhookDelivery]:
    async with db.transaction(write=False) as session:
        return list(await session.scalars(select(WebhookDelivery)))


# Closing without a call ------------------------------------------------------------------------


async def test_a_disabled_webhook_closes_its_pending_delivery_without_a_call(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    _, webhook_id, _, delivery = await one_delivery(app, db, client, settings, receiver)
    async with db.transaction() as session:
        await session.execute(update(Webhook).where(Webhook.id == webhook_id).values(enabled=False))

    (ran,) = await run_deliveries(engine)

    assert ran.retry is None
    assert receiver.received() == []
    (current,) = await deliveries(db, webhook_id)
    assert (current.state, current.attempts) == ("cancelled", 0)
    assert await attempts(db, delivery.id) == []
    assert await job_of(db, delivery.id) is None


async def test_a_delivery_that_succeeded_is_not_sent_again(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    """A job run twice (a worker died after the call, before completing the job) sends once
    more at most: here the delivery is already logged as succeeded, so not at all."""
    _, _, _, _delivery = await one_delivery(app, db, client, settings, receiver)
    (ran,) = await run_deliveries(engine)
    await deliver(engine, ran.job)
    assert len(receiver.received()) == 1


# Through the API ---------------------------------------------------------------------------------


async def test_a_webhook_made_through_the_api_gets_verifiable_deliveries(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole path a user takes: create the webhook, change things, receive and verify."""
    monkeypatch.setattr(
        app.state, "webhook_config", WebhookConfig.from_settings(engine.settings), raising=False
    )
    people = await team(app, db)
    made = await client.post(
        "/api/v1/projects/API/webhooks",
        json={"url": receiver.url("/api"), "event_types": ["item.*"]},
        headers=people["ada"].headers,
    )
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]
    item = await new_item(client, people["bob"], title="First")
    changed = await client.patch(
        f"/api/v1/items/{item['key']}", json={"priority": "high"}, headers=people["bob"].headers
    )
    assert changed.status_code == 200, changed.text

    await relay_all(db)
    await run_deliveries(engine)

    # Deliveries carry no order of their own (a receiver orders by the envelope if it must).
    bodies = {
        body["type"]: body
        for body in (Verifier(secret).verify(r.body, r.headers) for r in receiver.received("/api"))
    }
    assert sorted(bodies) == ["item.created", "item.updated"]
    assert all(b["data"]["project_key"] == "API" for b in bodies.values())
    assert bodies["item.updated"]["data"]["changes"]["priority"][1] == "high"
    listed = await client.get(
        f"/api/v1/webhooks/{made.json()['id']}/deliveries", headers=people["ada"].headers
    )
    assert {d["state"] for d in listed.json()["data"]} == {"succeeded"}


async def test_a_test_ping_is_signed_with_its_own_id(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    people = await team(app, db)
    webhook_id, secret = await add_webhook(db, settings, await project_id(db), receiver.url())
    ping = await client.post(f"/api/v1/webhooks/{webhook_id}/test", headers=people["ada"].headers)
    assert ping.status_code == 202, ping.text

    (ran,) = await run_deliveries(engine)

    assert ran.retry is None
    (request,) = receiver.received()
    body = Verifier(secret).verify(request.body, request.headers)
    assert request.headers["webhook-id"] == ping.json()["id"]
    assert body["type"] == "webhook.test"
    assert body["data"]["project_key"] == "API"
    assert body["timestamp"].endswith("Z")


# Slack ------------------------------------------------------------------------------------------


async def test_a_slack_webhook_is_posted_the_slack_message_of_the_event(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    people = await team(app, db)
    webhook_id, _ = await add_webhook(
        db, settings, await project_id(db), receiver.url("/slack"), kind="slack"
    )
    await new_item(client, people["ada"], title="Fix login", assignee="bob")
    await relay_all(db)

    (ran,) = await run_deliveries(engine)

    assert ran.retry is None
    (request,) = receiver.received("/slack")
    log = await client.get("/api/v1/projects/API/events", headers=people["ada"].headers)
    (created,) = [e for e in log.json()["data"] if e["type"] == "item.created"]
    assert request.json() == slack_message(created, public_url=settings.public_url)
    assert "Fix login" in request.body.decode()
    assert request.headers["content-type"] == "application/json"
    # The Slack URL is the credential: no Standard Webhooks signature.
    assert "webhook-signature" not in request.headers
    (current,) = await deliveries(db, webhook_id)
    assert current.state == "succeeded"


async def test_an_event_slack_has_no_message_for_is_closed_without_a_call(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    receiver: Receiver,
    engine: JobContext,
) -> None:
    people = await team(app, db)
    webhook_id, _ = await add_webhook(
        db, settings, await project_id(db), receiver.url("/slack"), kind="slack"
    )
    await new_item(client, people["ada"], title="Nobody's yet")  # unassigned: no message
    await relay_all(db)

    (ran,) = await run_deliveries(engine)

    assert ran.retry is None
    assert receiver.received() == []
    (current,) = await deliveries(db, webhook_id)
    assert (current.state, current.last_error, current.attempts) == (
        "succeeded",
        "not sent to Slack",
        0,
    )
