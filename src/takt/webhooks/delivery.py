"""The `webhook.deliver` job: one signed POST of a delivery to its endpoint, logged as an attempt
and retried on Standard Webhooks' schedule; an endpoint that answers 410 Gone, or has failed
for 5 days, is disabled.

The worker runs it as a batch (`core.jobs.JobBatch`, registered in `webhooks.jobs`): `load`
reads what the claimed deliveries send, in the claim's transaction; `run` makes each call outside
any transaction (concurrently, each endpoint within its group's limit); `settle` logs every
attempt that finished since the last one and settles the deliveries and their webhooks in the
one transaction where the worker completes or fails their jobs. `deliver` runs one job the
same way by itself.

The URL is resolved and checked again right before the call (`core.netguard`), and the
connection goes to the address that was checked, with the host name kept for the `Host` header
and TLS, so a DNS answer that changed since (rebinding) can't move the call elsewhere.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import certifi
import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from takt.config import Settings
from takt.core import netguard
from takt.core.crypto import SealedSecretUnreadable, SecretBox
from takt.core.jobs import Attempted, Failed, Job, JobContext, RetryJob, Verdict
from takt.core.time import utcnow
from takt.webhooks import repository as repo
from takt.webhooks import service
from takt.webhooks.jobs import MAX_ATTEMPTS, retry_delay
from takt.webhooks.models import Webhook
from takt.webhooks.sender import Answer, CallFailed, Sender
from takt.webhooks.signing import USER_AGENT, signed_headers
from takt.webhooks.slack import slack_message

FAILING_LIMIT = timedelta(days=5)
GONE = "the endpoint answered 410 Gone"
FAILING_TOO_LONG = "failing for 5 days"
NOT_FOR_SLACK = "not sent to Slack"
_ERROR_LENGTH = 500  # webhook_attempts.error, webhook_deliveries.last_error


@dataclass(frozen=True)
class _Delivery:
    """What one attempt sends, read with the job's claim."""

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
class _End:
    """A delivery to close without a call: its webhook is disabled or gone, its event is gone,
    or Slack has no message for it."""

    delivery_id: str
    # Its webhook, when there still is one (settle locks it before closing the delivery).
    webhook_id: str | None
    state: str
    reason: str


@dataclass(frozen=True)
class _Outcome:
    status: int | None
    duration_ms: int
    excerpt: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class _Sent:
    """An attempt made: when, and what came of it."""

    attempted_at: datetime
    outcome: _Outcome


# What `load` prepares for a job (None: nothing to do, the delivery has ended or is gone) and
# what `run` returns (None likewise).
Prepared = _Delivery | _End | None
Result = _Sent | _End | None


async def deliver(ctx: JobContext, job: Job) -> None:
    """One job by itself (the worker runs them in batches): read, call, log, each step as the
    batch does it. Raises `RetryJob` with the next attempt's time (or None after the last
    attempt) when the attempt failed."""
    async with ctx.database.transaction(write=False) as session:
        prepared = (await load(session, ctx, [job])).get(job.id)
    # A connection of its own, closed after the call.
    sender = Sender(_tls(), keep=1)
    try:
        result = await _attempt(ctx, sender, prepared)
    finally:
        await sender.aclose()
    async with ctx.database.transaction() as session:
        verdicts = await settle(session, ctx, [Attempted(job, prepared, result)])
    verdict = verdicts.get(job.id)
    if verdict is not None:
        raise RetryJob(verdict.error, at=verdict.retry_at)


# 1. What to send ------------------------------------------------------------------------------


async def load(session: AsyncSession, ctx: JobContext, jobs: Sequence[Job]) -> dict[str, Prepared]:
    """What each job's delivery sends now, in one query for the batch (by job id): the
    delivery to call, one to close without a call (its webhook is disabled or gone, or its
    event is gone), or None when it has ended or is gone."""
    delivery_of = {
        job.id: delivery_id
        for job in jobs
        if isinstance(delivery_id := job.payload.get("delivery_id"), str)
    }
    found = await repo.deliveries_to_send(session, list(delivery_of.values()))
    secret_key = ctx.settings.resolved_secret_key()
    opened: dict[str, tuple[str | None, tuple[str, ...], str | None]] = {}
    prepared: dict[str, Prepared] = {}
    for job_id, delivery_id in delivery_of.items():
        to_send = found.get(delivery_id)
        if to_send is None or to_send.delivery.state in ("succeeded", "cancelled"):
            prepared[job_id] = None
            continue
        delivery, webhook = to_send.delivery, to_send.webhook
        # A test ping carries its body; an event's delivery sends the event as it is now logged.
        envelope = delivery.payload if delivery.payload is not None else to_send.envelope
        if webhook is None or not webhook.enabled:
            webhook_id = None if webhook is None else webhook.id
            reason = "the webhook is disabled"
            prepared[job_id] = _End(delivery.id, webhook_id, "cancelled", reason)
            continue
        if envelope is None:
            reason = "the event no longer exists"
            prepared[job_id] = _End(delivery.id, webhook.id, "cancelled", reason)
            continue
        if webhook.id not in opened:
            opened[webhook.id] = _open(webhook, secret_key)
        url, secrets, unreadable = opened[webhook.id]
        prepared[job_id] = _Delivery(
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
    return prepared


def _open(webhook: Webhook, secret_key: str) -> tuple[str | None, tuple[str, ...], str | None]:
    """The webhook's URL and the secrets that sign now (two during a rotation's overlap), or
    why they can't be read."""
    try:
        box = _box(secret_key)
        url = box.open(webhook.url_encrypted)
        secrets: tuple[str, ...] = (box.open(webhook.secret_encrypted),)
        expires = webhook.previous_secret_expires_at
        if webhook.previous_secret_encrypted and expires and expires > utcnow():
            # A rotation's overlap: receivers still on the previous secret verify its signature.
            secrets += (box.open(webhook.previous_secret_encrypted),)
    except SealedSecretUnreadable:
        return None, (), "the webhook's URL or secret can't be read with this TAKT_SECRET_KEY"
    return url, secrets, None


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


async def run(ctx: JobContext, job: Job, prepared: Prepared) -> Result:
    """The job's attempt, outside any transaction: the signed POST (never raises) over the
    worker's kept-alive connections, or the delivery to close without one."""
    return await _attempt(ctx, _worker_sender(ctx), prepared)


async def _attempt(ctx: JobContext, sender: Sender, prepared: Prepared) -> Result:
    if prepared is None or isinstance(prepared, _End):
        return prepared
    attempted_at = utcnow()
    body = _body(prepared, attempted_at, ctx.settings)
    if body is None:
        return _End(prepared.id, prepared.webhook_id, "succeeded", NOT_FOR_SLACK)
    if prepared.unreadable is not None:
        outcome = _Outcome(status=None, duration_ms=0, excerpt=None, error=prepared.unreadable)
    else:
        outcome = await _send(ctx.settings, sender, prepared, body, attempted_at)
    return _Sent(attempted_at, outcome)


@cache
def _tls() -> ssl.SSLContext:
    # Loading the CA bundle is the expensive part of a client: done once per process.
    return ssl.create_default_context(cafile=certifi.where())


# Each worker's sender (by worker id) with its kept-alive connections: made at its first call,
# closed when the worker stops (`close`).
_senders: dict[str, Sender] = {}


def _worker_sender(ctx: JobContext) -> Sender:
    found = _senders.get(ctx.worker_id)
    if found is None:
        found = _senders[ctx.worker_id] = Sender(_tls(), keep=ctx.settings.worker_group_concurrency)
    return found


async def close(ctx: JobContext) -> None:
    """The worker stops: its connections close."""
    found = _senders.pop(ctx.worker_id, None)
    if found is not None:
        await found.aclose()


async def _send(
    settings: Settings, sender: Sender, delivery: _Delivery, body: bytes, attempted_at: datetime
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
        # Bounds the whole call, so an endpoint that trickles its answer a byte at a time can't
        # hold the job longer.
        async with asyncio.timeout(timeout):
            answer = await _post(sender, target, signed, body)
    except TimeoutError:
        return outcome(None, None, f"timed out after {timeout:g} s")
    except CallFailed as exc:
        return outcome(None, None, str(exc))
    if 300 <= answer.status < 400:
        return outcome(answer.status, answer.excerpt, "redirected: redirects are not followed")
    return outcome(answer.status, answer.excerpt, None)


async def _post(
    sender: Sender, target: netguard.Target, headers: dict[str, str], body: bytes
) -> Answer:
    """POST to the checked addresses in turn until one takes the connection (a host with an
    IPv6 address this machine can't reach may have an IPv4 one that works); nothing was sent
    to an address that refused it, so trying the next can't deliver twice."""
    for index, address in enumerate(target.addresses):
        try:
            return await sender.post(target, address, headers, body)
        except CallFailed as exc:
            if not exc.connecting or index == len(target.addresses) - 1:
                raise
    raise CallFailed("could not connect: the host resolved to no address", connecting=True)


# 3. What happened -------------------------------------------------------------------------------


async def settle(
    session: AsyncSession, _ctx: JobContext, attempted: Sequence[Attempted[Prepared, Result]]
) -> dict[str, Verdict]:
    """Log the batch's attempts and settle its deliveries and their webhooks; a `Failed` verdict
    for each job whose delivery goes on (its next attempt's time) or has failed for good (None).

    Each webhook is settled with its attempts in the order they finished: a success clears its
    failing streak, a failure starts one (or, 5 days on, disables it), and a 410 disables it at
    once. A webhook disabled here has its pending deliveries cancelled, those of this batch with
    them, whose jobs then end. Statements: the batch's webhooks locked in one, its deliveries
    settled in one and its attempts logged in one (more only to close deliveries without a call
    or to disable a webhook)."""
    verdicts: dict[str, Verdict] = {}
    sent: list[tuple[Job, _Sent, _Delivery]] = []
    ends: list[_End] = []
    for entry in attempted:
        result = entry.result
        if isinstance(result, _End):
            ends.append(result)
        elif isinstance(result, _Sent):
            assert isinstance(entry.prepared, _Delivery)
            sent.append((entry.job, result, entry.prepared))
    # The webhooks before their deliveries, as everywhere (a webhook's disabling locks it, then
    # its deliveries), and each table's rows in id order: two transactions never wait for each
    # other in a circle.
    touched = [d.webhook_id for _job, _result, d in sent]
    touched += [end.webhook_id for end in ends if end.webhook_id is not None]
    webhooks = await repo.lock_webhooks(session, touched)
    for end in sorted(ends, key=lambda end: end.delivery_id):
        await repo.end_delivery(session, end.delivery_id, end.state, end.reason)
    if not sent:
        return verdicts
    now = utcnow()
    settled: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    failed: list[tuple[Job, str, datetime | None, str]] = []
    disabled: dict[str, str] = {}
    for job, result, delivery in sent:
        webhook = webhooks.get(delivery.webhook_id)
        if webhook is None:
            continue  # deleted, with its deliveries, during the call
        delivery_id = delivery.id
        outcome = result.outcome
        attempts.append(
            {
                "delivery_id": delivery_id,
                "attempted_at": result.attempted_at,
                "status_code": outcome.status,
                "duration_ms": outcome.duration_ms,
                "response_excerpt": outcome.excerpt,
                "error": outcome.error,
            }
        )
        row = {"delivery_id": delivery_id, "status": outcome.status, "now": now}
        if outcome.ok:
            webhook.failing_since = None
            settled.append(
                {**row, "new_state": "succeeded", "error": None, "next_at": None, "delivered": now}
            )
            continue
        failure = (outcome.error or f"the endpoint answered {outcome.status}")[:_ERROR_LENGTH]
        if webhook.failing_since is None:
            webhook.failing_since = now
        reason = None
        if outcome.status == 410:
            reason = GONE
        elif now - webhook.failing_since >= FAILING_LIMIT:
            reason = FAILING_TOO_LONG
        if reason is not None and webhook.id not in disabled:
            disabled[webhook.id] = reason
        retry_at = None
        if reason is None and job.attempts < MAX_ATTEMPTS:
            retry_at = now + timedelta(seconds=retry_delay(job.attempts))
        state = "cancelled" if reason else ("pending" if retry_at else "failed")
        settled.append(
            {**row, "new_state": state, "error": failure, "next_at": retry_at, "delivered": None}
        )
        failed.append((job, failure, retry_at, webhook.id))
    settled.sort(key=lambda row: row["delivery_id"])
    await repo.record_attempts(session, settled, attempts)
    for webhook_id, reason in disabled.items():
        if await service.disable(session, webhooks[webhook_id], reason):
            await repo.cancel_pending(session, webhook_id, f"the webhook was disabled: {reason}")
    for job, failure, retry_at, webhook_id in failed:
        if webhook_id in disabled:
            continue  # its deliveries are closed: the job ends
        message = f"attempt {job.attempts} of {MAX_ATTEMPTS} failed: {failure}"
        verdicts[job.id] = Failed(message, retry_at)
    return verdicts
