"""The `webhook.deliver` job: one signed POST of a delivery to its endpoint, logged as an attempt
and retried on Standard Webhooks' schedule; an endpoint that answers 410 Gone, or has failed
for 5 days, is disabled.

The call happens outside any transaction: a short one reads what to send, another logs what
happened. The URL is resolved and checked again right before the call (`core.netguard`), and the
connection goes to the address that was checked, with the host name kept for the `Host` header
and TLS, so a DNS answer that changed since (rebinding) can't move the call elsewhere.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import certifi
import httpx
import orjson

from takt.config import Settings
from takt.core import netguard
from takt.core.crypto import SealedSecretUnreadable, SecretBox
from takt.core.jobs import Job, JobContext, RetryJob
from takt.core.time import utcnow
from takt.webhooks import repository as repo
from takt.webhooks import service
from takt.webhooks.jobs import MAX_ATTEMPTS, retry_delay
from takt.webhooks.signing import USER_AGENT, signed_headers
from takt.webhooks.slack import slack_message

EXCERPT_BYTES = 4096
FAILING_LIMIT = timedelta(days=5)
GONE = "the endpoint answered 410 Gone"
FAILING_TOO_LONG = "failing for 5 days"
NOT_FOR_SLACK = "not sent to Slack"
_ERROR_LENGTH = 500  # webhook_attempts.error, webhook_deliveries.last_error


@dataclass(frozen=True)
class _Delivery:
    """What one attempt sends, read in the first transaction."""

    id: str
    webhook_id: str
    msg_id: str
    type: str
    kind: str
    # The event envelope, or a test ping's body.
    envelope: dict[str, Any]
    ping: bool
    url: str | None
    secrets: tuple[str, ...]
    # Why nothing can be sent at all (the sealed URL or secret doesn't open).
    unreadable: str | None


@dataclass(frozen=True)
class _Outcome:
    status: int | None
    duration_ms: int
    excerpt: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


async def deliver(ctx: JobContext, job: Job) -> None:
    """The job's run: prepare, call, log. Raises `RetryJob` with the next attempt's time (or
    None after the last attempt) when the attempt failed."""
    delivery_id = str(job.payload["delivery_id"])
    delivery = await _prepare(ctx, delivery_id)
    if delivery is None:
        return
    attempted_at = utcnow()
    body = _body(delivery, attempted_at, ctx.settings)
    if body is None:
        await _end(ctx, delivery_id, "succeeded", NOT_FOR_SLACK)
        return
    if delivery.unreadable is not None:
        outcome = _Outcome(status=None, duration_ms=0, excerpt=None, error=delivery.unreadable)
    else:
        outcome = await _send(ctx.settings, delivery, body, attempted_at)
    retry = await _record(ctx, delivery, job.attempts, attempted_at, outcome)
    if retry is not None:
        raise retry


# 1. What to send ------------------------------------------------------------------------------


async def _prepare(ctx: JobContext, delivery_id: str) -> _Delivery | None:
    """The delivery to send now, or None when there is none (it ended, or it was just closed
    because its webhook is disabled or gone, or its event is gone)."""
    async with ctx.database.transaction(write=False) as session:
        found = await repo.delivery_to_send(session, delivery_id)
    if found is None or found.delivery.state in ("succeeded", "cancelled"):
        return None
    delivery, webhook = found.delivery, found.webhook
    # A test ping carries its body; an event's delivery sends the event as it is now logged.
    envelope = delivery.payload if delivery.payload is not None else found.envelope
    if webhook is None or not webhook.enabled:
        await _end(ctx, delivery_id, "cancelled", "the webhook is disabled")
        return None
    if envelope is None:
        await _end(ctx, delivery_id, "cancelled", "the event no longer exists")
        return None
    url: str | None = None
    secrets: tuple[str, ...] = ()
    unreadable = None
    try:
        box = _box(ctx.settings.resolved_secret_key())
        url = box.open(webhook.url_encrypted)
        secrets = (box.open(webhook.secret_encrypted),)
        expires = webhook.previous_secret_expires_at
        if webhook.previous_secret_encrypted and expires and expires > utcnow():
            # A rotation's overlap: receivers still on the previous secret verify its signature.
            secrets += (box.open(webhook.previous_secret_encrypted),)
    except SealedSecretUnreadable:
        unreadable = "the webhook's URL or secret can't be read with this TAKT_SECRET_KEY"
    return _Delivery(
        id=delivery.id,
        webhook_id=webhook.id,
        msg_id=delivery.event_id,
        type=delivery.event_type,
        kind=webhook.kind,
        envelope=envelope,
        ping=delivery.payload is not None,
        url=url,
        secrets=secrets,
        unreadable=unreadable,
    )


@cache
def _box(secret_key: str) -> SecretBox:
    return SecretBox(secret_key)


def _body(delivery: _Delivery, attempted_at: datetime, settings: Settings) -> bytes | None:
    """The JSON body: `{"type", "timestamp", "data"}` with the envelope as `data` (a test ping
    keeps its own), or for Slack the message (None: Slack isn't sent this event)."""
    envelope = delivery.envelope
    if delivery.kind == "slack":
        # As a receiver would read it (timestamps as text), test pings and events alike.
        readable = orjson.loads(orjson.dumps(envelope, option=orjson.OPT_UTC_Z))
        message = slack_message(readable, public_url=settings.public_url)
        return None if message is None else orjson.dumps(message)
    data = envelope.get("data", {}) if delivery.ping else envelope
    body = {"type": delivery.type, "timestamp": attempted_at, "data": data}
    return orjson.dumps(body, option=orjson.OPT_UTC_Z)


# 2. The call -----------------------------------------------------------------------------------


@cache
def _tls() -> ssl.SSLContext:
    # Loading the CA bundle is the expensive part of a client: done once per process.
    return ssl.create_default_context(cafile=certifi.where())


async def _send(
    settings: Settings, delivery: _Delivery, body: bytes, attempted_at: datetime
) -> _Outcome:
    """POST `body` to the endpoint, at the address checked just now; never raises."""
    assert delivery.url is not None
    started = time.perf_counter()

    def outcome(status: int | None, excerpt: str | None, error: str | None) -> _Outcome:
        elapsed = round((time.perf_counter() - started) * 1000)
        return _Outcome(status, elapsed, excerpt, error and error[:_ERROR_LENGTH])

    try:
        target = await netguard.resolve(delivery.url, allow_private=settings.webhook_allow_private)
    except netguard.UnsafeTarget as exc:
        return outcome(None, None, f"refused: {exc}")
    if delivery.kind == "slack":
        signed = {"content-type": "application/json", "user-agent": USER_AGENT}
    else:
        signed = signed_headers(delivery.secrets, delivery.msg_id, attempted_at, body)
    timeout = settings.webhook_timeout_seconds
    try:
        # httpx's timeout bounds each read and write; this bounds the whole call, so an endpoint
        # that trickles its answer a byte at a time can't hold the job longer.
        async with asyncio.timeout(timeout), _client(timeout) as client:
            status, excerpt = await _post(client, target, signed, body)
    except (TimeoutError, httpx.TimeoutException):
        return outcome(None, None, f"timed out after {timeout:g} s")
    except (httpx.HTTPError, OSError) as exc:
        return outcome(None, None, _describe(exc))
    if 300 <= status < 400:
        return outcome(status, excerpt, "redirected: redirects are not followed")
    return outcome(status, excerpt, None)


async def _post(
    client: httpx.AsyncClient, target: netguard.Target, headers: dict[str, str], body: bytes
) -> tuple[int, str | None]:
    """POST to the checked addresses in turn until one takes the connection (a host with an
    IPv6 address this machine can't reach may have an IPv4 one that works); nothing was sent
    to an address that refused it, so trying the next can't deliver twice."""
    last = len(target.addresses) - 1
    for index, address in enumerate(target.addresses):
        url, host, extensions = pinned_request(target, address)
        request = client.build_request(
            "POST",
            url,
            content=body,
            # Uncompressed: only the excerpt is read, and decompressing could blow a few
            # bytes up into a lot.
            headers={**headers, **host, "accept-encoding": "identity"},
            extensions=extensions,
        )
        try:
            response = await client.send(request, stream=True)
        except httpx.ConnectError:
            if index < last:
                continue
            raise
        try:
            return response.status_code, await _excerpt(response)
        finally:
            await response.aclose()
    raise httpx.ConnectError("the host resolved to no address")


def pinned_request(
    target: netguard.Target, address: str | None = None
) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
    """The URL to call (a checked address, the first by default, in place of the host name),
    the `Host` header that names the host again, and for https the name TLS must verify (SNI).
    """
    url = target.url.copy_with(host=address or target.addresses[0])
    headers = {"host": target.url.netloc.decode("ascii")}
    extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    return url, headers, extensions


def _client(timeout: float) -> httpx.AsyncClient:
    """A client for one call. Not shared: a pooled connection is keyed by the address alone, so
    a second host on the same address could reuse a TLS connection verified for the first
    host's name. Redirects are failures; proxy variables are ignored (a proxy would make the
    call somewhere other than the checked address)."""
    return httpx.AsyncClient(
        verify=_tls(), follow_redirects=False, timeout=timeout, trust_env=False
    )


async def _excerpt(response: httpx.Response) -> str | None:
    """The start of the body, at most 4 KiB of it, read as far as that and no further (raw:
    the request asked for no compression)."""
    read = bytearray()
    async for chunk in response.aiter_raw():
        read += chunk
        if len(read) >= EXCERPT_BYTES:
            break
    # Bytes that aren't UTF-8 (a character cut at the 4 KiB mark, a binary body) are dropped;
    # so is NUL, which PostgreSQL text can't hold.
    text = bytes(read[:EXCERPT_BYTES]).decode("utf-8", "ignore").replace("\x00", "")
    return text or None


def _describe(exc: Exception) -> str:
    kind = "could not connect" if isinstance(exc, httpx.ConnectError) else "request failed"
    detail = str(exc) or type(exc).__name__
    return f"{kind}: {detail}"


# 3. What happened -------------------------------------------------------------------------------


async def _end(ctx: JobContext, delivery_id: str, state: str, reason: str) -> None:
    async with ctx.database.transaction() as session:
        await repo.end_delivery(session, delivery_id, state, reason)


async def _record(
    ctx: JobContext, delivery: _Delivery, attempt: int, attempted_at: datetime, outcome: _Outcome
) -> RetryJob | None:
    """Log the attempt and settle the delivery and its webhook in one transaction; the retry to
    raise once it has committed, if the delivery goes on."""
    attempt_row = {
        "attempted_at": attempted_at,
        "status_code": outcome.status,
        "duration_ms": outcome.duration_ms,
        "response_excerpt": outcome.excerpt,
        "error": outcome.error,
    }
    failure = outcome.error or f"the endpoint answered {outcome.status}"
    async with ctx.database.transaction() as session:
        # The webhook's row before the delivery's, on every path, so two transactions never
        # wait for each other the other way round.
        if outcome.ok:
            await repo.clear_failing(session, delivery.webhook_id)
            await repo.record_attempt(
                session,
                delivery.id,
                attempt_row,
                state="succeeded",
                last_status=outcome.status,
                last_error=None,
                next_attempt_at=None,
                delivered_at=utcnow(),
            )
            return None
        webhook = await repo.lock_webhook(session, delivery.webhook_id)
        if webhook is None:
            return None  # deleted, with its deliveries, during the call
        now = utcnow()
        if webhook.failing_since is None:
            webhook.failing_since = now
        reason = None
        if outcome.status == 410:
            reason = GONE
        elif now - webhook.failing_since >= FAILING_LIMIT:
            reason = FAILING_TOO_LONG
        retry_at = None
        if reason is None and attempt < MAX_ATTEMPTS:
            retry_at = now + timedelta(seconds=retry_delay(attempt))
        state = "cancelled" if reason else ("pending" if retry_at else "failed")
        recorded = await repo.record_attempt(
            session,
            delivery.id,
            attempt_row,
            state=state,
            last_status=outcome.status,
            last_error=failure[:_ERROR_LENGTH],
            next_attempt_at=retry_at,
        )
        if reason is not None:
            if await service.disable(session, webhook, reason):
                await repo.cancel_pending(
                    session, webhook.id, f"the webhook was disabled: {reason}"
                )
            return None
    if not recorded:
        return None
    return RetryJob(f"attempt {attempt} of {MAX_ATTEMPTS} failed: {failure}", at=retry_at)
