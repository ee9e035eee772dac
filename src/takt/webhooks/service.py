"""Webhook endpoints for project admins: create, change, rotate the signing secret, delete; the
delivery log, a test ping and manual redelivery. Sending is the delivery engine's
(`takt.webhooks.delivery`); this module only queues work for it.

Secrets Takt must use again (the signing secret, the URL, which for Slack is itself a
credential) are stored sealed (`core.crypto.SecretBox`); the secret is handed out once, when
made, and no read, event or audit entry carries it, a Slack webhook's full URL or the
credentials in a URL's userinfo.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.principal import Principal
from takt.config import Settings
from takt.core import jobs as job_queue
from takt.core import netguard
from takt.core.audit import ClientContext
from takt.core.audit import record_by as audit_by
from takt.core.concurrency import check_if_match
from takt.core.crypto import SealedSecretUnreadable, SecretBox
from takt.core.errors import Conflict, ValidationFailed
from takt.core.events import EVENT_TYPES, emit
from takt.core.locks import hold_transaction_lock
from takt.core.models import new_id
from takt.core.pagination import PageRequest, SortKey
from takt.core.time import utcnow
from takt.projects.policies import ProjectAccess
from takt.webhooks import jobs as webhook_jobs
from takt.webhooks import repository as repo
from takt.webhooks.events import (
    WebhookChanges,
    WebhookCreated,
    WebhookDeleted,
    WebhookDisabled,
    WebhookSecretRotated,
    WebhookUpdated,
)
from takt.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery
from takt.webhooks.schemas import (
    MAX_ATTEMPTS_SHOWN,
    DeliveryFilters,
    WebhookCreate,
    WebhookUpdate,
)

TEST_EVENT_TYPE = "webhook.test"
# Standard Webhooks: a secret is `whsec_` and the base64 of 24 to 64 random bytes.
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
# Every event of a project is turned into one delivery per webhook that wants it, by one relay
# for the whole instance: without a bound, one project's webhooks could multiply each of its
# events into any number of calls and hold the relay up for every other project. GitHub's
# limit per repository and event.
MAX_WEBHOOKS_PER_PROJECT = 20
# What the API shows in place of the credentials of a URL's userinfo.
MASK = "***"


class EndpointDisabled(Conflict):
    """The webhook is disabled, so nothing is sent to it: not a test ping, not a retry. Read its
    `disabled_reason`, fix the endpoint, then enable it with `PATCH /webhooks/{id}`
    `{"enabled": true}`."""

    code = "webhook-disabled"
    title = "Webhook disabled"


class TooManyWebhooks(Conflict):
    """The project has as many webhooks as it may have (20). Delete one it no longer needs, or
    widen the event filter of an existing one to the events the new one was for."""

    code = "too-many-webhooks"
    title = "Too many webhooks"


class DeliveryInProgress(Conflict):
    """A worker is sending this delivery right now. Wait for the attempt to finish (the delivery
    log shows it), then retry if it failed."""

    code = "delivery-in-progress"
    title = "Delivery in progress"


@dataclass(frozen=True)
class WebhookConfig:
    """What the webhook service takes from the settings: the box that seals secrets and URLs,
    and whether URLs may point at loopback and private networks."""

    box: SecretBox
    allow_private: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookConfig:
        return cls(
            box=SecretBox(settings.resolved_secret_key()),
            allow_private=settings.webhook_allow_private,
        )


@dataclass(frozen=True)
class WebhookContext:
    access: ProjectAccess
    webhook: Webhook


@dataclass(frozen=True)
class DeliveryContext:
    access: ProjectAccess
    delivery: WebhookDelivery
    webhook: Webhook


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _catalogue_types() -> set[str]:
    """Every event type Takt declares. The app imports the catalogue (`takt.events`) when it
    assembles its routers, so every domain's types are registered by the time a request asks;
    types a test declares for itself are left out, as the catalogue leaves them out."""
    return {
        name for name, declared in EVENT_TYPES.items() if declared.__module__.startswith("takt.")
    }


def _filter_problems(filters: list[str]) -> list[tuple[str, str]]:
    known = _catalogue_types()
    families = {name.split(".", 1)[0] for name in known}
    problems = []
    for index, wanted in enumerate(filters):
        if wanted == "*" or wanted in known:
            continue
        if wanted.endswith(".*") and wanted[:-2] in families:
            continue
        problems.append(
            (
                f"/event_types/{index}",
                f"{wanted!r} is not an event type of the catalogue (GET /api/v1/event-types), "
                "a family such as 'item.*', or '*'",
            )
        )
    return problems


async def _url_problems(url: str, config: WebhookConfig) -> list[tuple[str, str]]:
    try:
        target = await netguard.resolve(url, allow_private=config.allow_private)
    except netguard.UnsafeTarget as refused:
        return [("/url", f"Takt won't call this URL: {refused}")]
    if not 0 < target.port < 65536:  # httpx parses any number as a port
        return [("/url", f"Takt won't call this URL: there is no port {target.port}")]
    return []


async def _check(config: WebhookConfig, *, url: str | None, event_types: list[str] | None) -> None:
    """Every problem of the URL and the event filter in one 422."""
    problems = _filter_problems(event_types) if event_types is not None else []
    if url is not None:
        problems += await _url_problems(url, config)
    if problems:
        raise ValidationFailed.at_each(problems)


def url_display(kind: str, url: str) -> str:
    """What the API shows of a URL (a checked one): all of it but its userinfo, sent as basic
    auth and shown as `***@` whole (many services take the key as the user name:
    `sk_live_…:@`, `ghp_…:x-oauth-basic@`); for Slack, whose incoming-webhook URL is a
    credential (anyone who has it can post to the channel), only its scheme and host. Events
    and the audit log carry the same, and a project's viewers read its events."""
    parsed = netguard.parse_target(url)
    if kind != "slack":
        if not parsed.userinfo:
            return url
        # As httpx reads the URL, so what is masked is what the sender sends as basic auth.
        return str(parsed.copy_with(userinfo=MASK.encode()))
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{host}{port}"


def _touch(webhook: Webhook) -> None:
    webhook.version += 1
    webhook.updated_at = utcnow()


# Reads


async def list_webhooks(
    session: AsyncSession, access: ProjectAccess, *, page: PageRequest
) -> tuple[list[Webhook], str | None]:
    """One page of the project's webhooks, oldest first."""
    access.require_admin("Reading webhooks")
    return await page.fetch(
        session,
        repo.webhooks_of(access.project.id),
        keys=[SortKey(Webhook.created_at), SortKey(Webhook.id)],
        key_of=lambda w: (w.created_at, w.id),
        sort_name="webhooks",
    )


def get_webhook(ctx: WebhookContext) -> Webhook:
    ctx.access.require_admin("Reading webhooks")
    return ctx.webhook


async def list_deliveries(
    session: AsyncSession, ctx: WebhookContext, *, filters: DeliveryFilters, page: PageRequest
) -> tuple[list[tuple[WebhookDelivery, list[WebhookAttempt]]], str | None]:
    """One page of the webhook's deliveries, newest first, each with its latest attempts (read
    for the whole page at once)."""
    ctx.access.require_admin("Reading the delivery log")
    rows, next_cursor = await page.fetch(
        session,
        repo.deliveries_of(ctx.webhook.id, filters.state),
        keys=[
            SortKey(WebhookDelivery.created_at, descending=True),
            SortKey(WebhookDelivery.id, descending=True),
        ],
        key_of=lambda d: (d.created_at, d.id),
        sort_name="deliveries",
    )
    attempts = await repo.attempts_of(session, [d.id for d in rows], latest=MAX_ATTEMPTS_SHOWN)
    return [(d, attempts[d.id]) for d in rows], next_cursor


async def get_delivery(
    session: AsyncSession, ctx: DeliveryContext
) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    ctx.access.require_admin("Reading the delivery log")
    attempts = await repo.attempts_of(session, [ctx.delivery.id], latest=MAX_ATTEMPTS_SHOWN)
    return ctx.delivery, attempts[ctx.delivery.id]


# Writes


async def _recorded(
    session: AsyncSession,
    access: ProjectAccess,
    action: str,
    webhook: Webhook,
    *,
    client: ClientContext,
    details: dict[str, Any],
) -> None:
    """A change to a webhook is a project setting changed: an audit entry beside its event."""
    await audit_by(
        session,
        access.principal,
        action,
        client=client,
        project_id=access.project.id,
        target_type="webhook",
        target_id=webhook.id,
        details=details,
    )


async def create_webhook(
    session: AsyncSession,
    access: ProjectAccess,
    data: WebhookCreate,
    *,
    config: WebhookConfig,
    client: ClientContext,
) -> tuple[Webhook, str]:
    """A new endpoint and its signing secret (the only time the secret is handed out)."""
    access.require_admin("Adding webhooks")
    await _check(config, url=data.url, event_types=data.event_types)
    # Counted under the project's webhooks lock (until commit), so two creates at 19 can't
    # both become the 20th; taken after the URL's check, which may wait on DNS.
    await hold_transaction_lock(session, f"webhooks:{access.project.id}")
    if await repo.count_webhooks(session, access.project.id) >= MAX_WEBHOOKS_PER_PROJECT:
        raise TooManyWebhooks(
            f"{access.project.key} has {MAX_WEBHOOKS_PER_PROJECT} webhooks, as many as a "
            "project may have."
        )
    event_types = list(dict.fromkeys(data.event_types))  # without repeats, in the order given
    secret = new_secret()
    webhook = Webhook(
        project_id=access.project.id,
        kind=data.kind,
        url_encrypted=config.box.seal(data.url),
        url_display=url_display(data.kind, data.url),
        description=data.description,
        event_types=event_types,
        enabled=True,
        secret_encrypted=config.box.seal(secret),
        created_by=access.principal.id,
    )
    session.add(webhook)
    await session.flush()
    created = WebhookCreated(
        id=webhook.id, kind=data.kind, url=webhook.url_display, event_types=event_types
    )
    await emit(session, created, access.project, access.principal, subject=webhook)
    await _recorded(
        session,
        access,
        created.event_type,
        webhook,
        client=client,
        details={"kind": webhook.kind, "url": webhook.url_display, "event_types": event_types},
    )
    return webhook, secret


def _same_url(box: SecretBox, webhook: Webhook, url: str) -> bool:
    try:
        return box.open(webhook.url_encrypted) == url
    except SealedSecretUnreadable:
        return False  # sealed under an older server key: the new URL replaces it


def _enable(webhook: Webhook, enabled: bool, principal: Principal) -> None:
    """Switch deliveries on or off. On again forgets why it was off and how long it had been
    failing, so the 5 days of failures that disable an endpoint count afresh."""
    if enabled:
        webhook.disabled_reason = webhook.disabled_at = webhook.failing_since = None
    else:
        webhook.disabled_reason = f"disabled by {principal.username}"
        webhook.disabled_at = utcnow()
    webhook.enabled = enabled


async def update_webhook(
    session: AsyncSession,
    ctx: WebhookContext,
    data: WebhookUpdate,
    *,
    if_match: str | None,
    config: WebhookConfig,
    client: ClientContext,
) -> Webhook:
    ctx.access.require_admin("Changing webhooks")
    webhook = ctx.webhook
    check_if_match(if_match, webhook.version)
    await _check(config, url=data.url, event_types=data.event_types)
    changes: dict[str, list[Any]] = {}
    if data.url is not None and not _same_url(config.box, webhook, data.url):
        display = url_display(webhook.kind, data.url)
        changes["url"] = [webhook.url_display, display]
        webhook.url_encrypted = config.box.seal(data.url)
        webhook.url_display = display
    event_types = list(dict.fromkeys(data.event_types or webhook.event_types))
    if event_types != webhook.event_types:
        changes["event_types"] = [webhook.event_types, event_types]
        webhook.event_types = event_types
    if "description" in data.model_fields_set and data.description != webhook.description:
        changes["description"] = [webhook.description, data.description]
        webhook.description = data.description
    if data.enabled is not None and data.enabled != webhook.enabled:
        changes["enabled"] = [webhook.enabled, data.enabled]
        _enable(webhook, data.enabled, ctx.access.principal)
        if not data.enabled:
            # As when Takt disables it: what was waiting is closed, so turning it on again
            # later doesn't send stale retries (a manual retry still can).
            await repo.cancel_pending(session, webhook.id, webhook.disabled_reason or "disabled")
    if not changes:
        return webhook
    _touch(webhook)
    await session.flush()
    updated = WebhookUpdated(id=webhook.id, kind=webhook.kind, url=webhook.url_display)
    await emit(
        session,
        updated,
        ctx.access.project,
        ctx.access.principal,
        WebhookChanges.model_validate(changes),
        subject=webhook,
    )
    await _recorded(
        session, ctx.access, updated.event_type, webhook, client=client, details=changes
    )
    return webhook


async def delete_webhook(
    session: AsyncSession, ctx: WebhookContext, *, if_match: str | None, client: ClientContext
) -> None:
    """Delete the endpoint with its delivery log (the database cascades to both)."""
    ctx.access.require_admin("Deleting webhooks")
    webhook = ctx.webhook
    check_if_match(if_match, webhook.version)
    deleted = WebhookDeleted(id=webhook.id, kind=webhook.kind, url=webhook.url_display)
    await session.delete(webhook)
    await session.flush()
    await emit(session, deleted, ctx.access.project, ctx.access.principal, subject=webhook.id)
    await _recorded(
        session,
        ctx.access,
        deleted.event_type,
        webhook,
        client=client,
        details={"kind": webhook.kind, "url": webhook.url_display},
    )


async def rotate_secret(
    session: AsyncSession,
    ctx: WebhookContext,
    overlap_seconds: int,
    *,
    if_match: str | None,
    config: WebhookConfig,
    client: ClientContext,
) -> tuple[Webhook, str]:
    """A new signing secret, handed out once. The current one keeps signing beside it for
    `overlap_seconds` (a second signature in each delivery), so receivers switch over without
    refusing a delivery; a secret older than that stops at once (at most two sign)."""
    ctx.access.require_admin("Rotating webhook secrets")
    webhook = ctx.webhook
    check_if_match(if_match, webhook.version)
    secret = new_secret()
    if overlap_seconds > 0:
        webhook.previous_secret_encrypted = webhook.secret_encrypted
        webhook.previous_secret_expires_at = utcnow() + timedelta(seconds=overlap_seconds)
    else:
        webhook.previous_secret_encrypted = webhook.previous_secret_expires_at = None
    webhook.secret_encrypted = config.box.seal(secret)
    _touch(webhook)
    await session.flush()
    until = webhook.previous_secret_expires_at
    rotated = WebhookSecretRotated(
        id=webhook.id, previous_valid_until=until.isoformat() if until else None
    )
    await emit(session, rotated, ctx.access.project, ctx.access.principal, subject=webhook)
    await _recorded(
        session,
        ctx.access,
        rotated.event_type,
        webhook,
        client=client,
        details={"overlap_seconds": overlap_seconds},
    )
    return webhook, secret


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def send_test(session: AsyncSession, ctx: WebhookContext) -> WebhookDelivery:
    """Queue a ping to the endpoint: a delivery of its own (`webhook.test`, its id as the
    `webhook-id`), signed and retried like any other, with the body in `payload`."""
    ctx.access.require_admin("Testing webhooks")
    webhook = ctx.webhook
    if not webhook.enabled:
        raise EndpointDisabled("The webhook is disabled; enable it before testing it.")
    now = utcnow()
    delivery_id = new_id()
    delivery = WebhookDelivery(
        id=delivery_id,
        webhook_id=webhook.id,
        project_id=webhook.project_id,
        event_id=delivery_id,
        event_type=TEST_EVENT_TYPE,
        payload={
            "type": TEST_EVENT_TYPE,
            "timestamp": _rfc3339(now),
            "data": {
                "webhook_id": webhook.id,
                "project_key": ctx.access.project.key,
                "message": "A test ping from Takt: this endpoint is set up to receive "
                f"{ctx.access.project.key}'s events.",
            },
        },
        state="pending",
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(delivery)
    await session.flush()
    await webhook_jobs.enqueue_delivery(session, delivery.id, webhook.id)
    return delivery


async def retry_delivery(
    session: AsyncSession, ctx: DeliveryContext
) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    """Send the delivery again now, whatever its state (a failed one, or a succeeded one the
    receiver lost); its `webhook-id` stays the same."""
    ctx.access.require_admin("Retrying deliveries")
    if not ctx.webhook.enabled:
        raise EndpointDisabled("The webhook is disabled; enable it before retrying deliveries.")
    delivery = ctx.delivery
    outcome = await job_queue.requeue(session, webhook_jobs.delivery_job_key(delivery.id))
    if outcome == "running":
        raise DeliveryInProgress("A worker is sending this delivery right now.")
    now = utcnow()
    delivery.state = "pending"
    delivery.next_attempt_at = now
    delivery.updated_at = now
    await session.flush()
    if outcome == "missing":
        await webhook_jobs.enqueue_delivery(session, delivery.id, ctx.webhook.id)
    attempts = await repo.attempts_of(session, [delivery.id], latest=MAX_ATTEMPTS_SHOWN)
    return delivery, attempts[delivery.id]


async def disable(
    session: AsyncSession, webhook: Webhook, reason: str, *, actor: Principal | None = None
) -> bool:
    """Stop calling the endpoint (the delivery engine: after a 410 Gone, or 5 days of failures)
    and tell the project (`webhook.disabled`, with no actor when Takt did it). False when it was
    disabled already. The caller holds `webhook` as it is now (read in its transaction)."""
    if not webhook.enabled:
        return False
    webhook.enabled = False
    webhook.disabled_reason = reason[:255]
    webhook.disabled_at = utcnow()
    _touch(webhook)
    await session.flush()
    await emit(
        session,
        WebhookDisabled(
            id=webhook.id, kind=webhook.kind, url=webhook.url_display, reason=reason[:255]
        ),
        webhook.project_id,
        actor,
        subject=webhook,
    )
    return True
