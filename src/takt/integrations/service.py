"""Inbound webhooks: accept a provider's delivery into the inbox (signature checked on the raw
body first, deduplicated by its delivery id, a job queued in the same transaction), process it
in the worker (parse, record through `takt.delivery.ingest`, or `takt.deployments.service` for
deployments), and show the inbox to project admins with redelivery.

Accepting does no parsing and no work beyond one lookup, one insert and one job: the answer
(202) goes back at once, and what the delivery means is worked out by the worker, which can
retry. A delivery that can't mean anything (JSON of the wrong shape) is `failed` with the
reason; one about events or actions Takt doesn't use is `ignored`. Neither is an error to the
provider.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.config import Settings
from takt.core import jobs as job_queue
from takt.core.crypto import SealedSecretUnreadable, SecretBox
from takt.core.db import Database
from takt.core.errors import AppError, BadRequest, Conflict
from takt.core.models import new_id
from takt.core.pagination import PageRequest, SortKey
from takt.core.time import utcnow
from takt.delivery import ingest
from takt.delivery import repository as delivery_repo
from takt.delivery.facts import PullRequestChange
from takt.delivery.models import Repository
from takt.deployments.service import record_deployment
from takt.integrations import github, gitlab
from takt.integrations import repository as repo
from takt.integrations.jobs import enqueue_processing, processing_key
from takt.integrations.models import InboundDelivery
from takt.integrations.payloads import Deployments, Ignored, Parsed, WrongShape
from takt.integrations.signatures import DUMMY_SECRET, github_valid, gitlab_valid
from takt.projects.models import Project
from takt.projects.policies import ProjectAccess

log = logging.getLogger("takt.integrations")

# What GitHub and GitLab send at most is 25 MB; Takt takes deliveries up to 5 MiB (a pull
# request event with a long description is a few tens of KiB).
MAX_HOOK_BYTES = 5 * 1024 * 1024
MAX_KEY = 200
MAX_EVENT = 100
FINISHED = ("processed", "ignored")


class InvalidSignature(AppError):
    """The delivery's signature (GitHub's `X-Hub-Signature-256`) or token (GitLab's
    `X-Gitlab-Token`) doesn't match the repository's webhook secret, or there is no such
    repository: the two get the same answer. Paste the secret Takt gave when the repository was
    linked (or rotated) into the provider's webhook settings, and the webhook URL as given."""

    status = 401
    code = "invalid-signature"
    title = "Invalid webhook signature"


class HookEventMissing(BadRequest):
    """A signed delivery came without its event header (`X-GitHub-Event` or `X-Gitlab-Event`),
    so Takt can't tell what it is. Providers always send it; a replay must send it too."""

    code = "hook-event-missing"
    title = "Webhook event header missing"


class DeliveryBeingProcessed(Conflict):
    """A worker is processing this delivery right now. Wait for it (the inbox shows its state),
    then redeliver if it failed."""

    code = "inbound-delivery-in-progress"
    title = "Delivery being processed"


class DeliveryAlreadyProcessed(Conflict):
    """This delivery was processed: its effects are recorded, and processing it again would
    record them twice. Only failed, retrying or ignored deliveries can be redelivered."""

    code = "inbound-delivery-processed"
    title = "Delivery already processed"


@dataclass(frozen=True)
class HookConfig:
    """What accepting a delivery takes from the settings: the box that opens GitHub secrets."""

    box: SecretBox

    @classmethod
    def from_settings(cls, settings: Settings) -> HookConfig:
        return cls(box=SecretBox(settings.resolved_secret_key()))


@dataclass(frozen=True)
class HookHeaders:
    """The headers a delivery is read by."""

    event: str | None
    delivery_id: str | None
    signature: str | None


@dataclass(frozen=True)
class Received:
    id: str
    duplicate: bool


@dataclass(frozen=True)
class InboxContext:
    access: ProjectAccess
    repository: Repository


def _signed(
    repository: Repository | None, provider: str, body: bytes, signature: str | None, box: SecretBox
) -> bool:
    """Whether the delivery carries the repository's secret; for an unknown repository, the
    same work against a dummy secret, and False."""
    if provider == "github":
        secret = DUMMY_SECRET
        if repository is not None and repository.secret_sealed:
            try:
                secret = box.open(repository.secret_sealed)
            except SealedSecretUnreadable:
                log.warning("a repository's secret can't be opened (TAKT_SECRET_KEY changed)")
                repository = None
        valid = github_valid(secret, body, signature)
    else:
        stored = repository.secret_hash if repository is not None else None
        valid = gitlab_valid(stored or hashlib.sha256(DUMMY_SECRET.encode()).hexdigest(), signature)
    return valid and repository is not None


async def receive(
    session: AsyncSession,
    provider: str,
    repository_id: str,
    body: bytes,
    headers: HookHeaders,
    *,
    config: HookConfig,
) -> Received:
    """Check the signature on the raw body, then put the delivery in the inbox (once per
    delivery id) and queue its processing, in this transaction. 401 for an unknown repository
    or a bad signature alike."""
    found = await delivery_repo.repository_for_hook(session, repository_id, provider)
    repository = found[0] if found is not None else None
    if not _signed(repository, provider, body, headers.signature, config.box):
        raise InvalidSignature("The signature doesn't match, or there is no such repository.")
    assert repository is not None
    if not headers.event:
        raise HookEventMissing("Send the provider's event header with the delivery.")
    key = (headers.delivery_id or "").strip()[:MAX_KEY]
    if not key:
        key = "sha256:" + hashlib.sha256(body).hexdigest()
    now = utcnow()
    inserted = await repo.insert_delivery(
        session,
        {
            "id": new_id(),
            "repository_id": repository.id,
            "provider": provider,
            "delivery_key": key,
            "event": headers.event[:MAX_EVENT],
            "body": body,
            "size_bytes": len(body),
            "state": "received",
            "attempts": 0,
            "received_at": now,
            "updated_at": now,
        },
    )
    if inserted is None:
        existing = await repo.id_by_key(session, repository.id, key)
        return Received(id=existing or "", duplicate=True)
    await enqueue_processing(session, inserted)
    return Received(id=inserted, duplicate=False)


# Processing (the worker's job, integrations/jobs.py) ----------------------------------------------


def _parse(delivery: InboundDelivery) -> Parsed:
    try:
        payload: Any = json.loads(delivery.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WrongShape(f"the body is not JSON: {str(exc)[:200]}") from exc
    parser = github.parse if delivery.provider == "github" else gitlab.parse
    return parser(delivery.event, payload, delivery.received_at)


async def process(database: Database, delivery_id: str) -> None:
    """Process one delivery of the inbox in one transaction: its effects and its new state
    commit together. A delivery already processed or ignored is left as it is (a job may run
    twice). Raises what the recording raised, for the worker to retry."""
    async with database.transaction() as session:
        found = await repo.delivery_to_process(session, delivery_id)
        if found is None or found[0].state in FINISHED:
            return
        delivery, repository, project = found
        if project.deleted_at is not None:
            _finish(delivery, "ignored", "the repository's project is deleted")
            return
        try:
            parsed = _parse(delivery)
        except WrongShape as wrong:
            _finish(delivery, "failed", f"wrong shape for `{delivery.event}`: {wrong}")
            return
        action = (parsed.action or "")[:MAX_EVENT] or None
        outcome = parsed.outcome
        if isinstance(outcome, Ignored):
            _finish(delivery, "ignored", outcome.reason, action)
            return
        if parsed.repository is not None and parsed.repository.lower() != repository.full_name_key:
            _finish(
                delivery,
                "ignored",
                f"the payload is about `{parsed.repository[:255]}`, not `{repository.full_name}`"
                " (change the repository's full_name if it was renamed)",
                action,
            )
            return
        if isinstance(outcome, Deployments):
            refused = await _record_deployments(session, project, repository, outcome)
            if refused is not None:
                _finish(delivery, "failed", refused, action)
                return
        elif isinstance(outcome, PullRequestChange):
            await ingest.apply_pull_request(session, repository, project, outcome)
        else:
            await ingest.apply_push(session, repository, project, outcome)
        _finish(delivery, "processed", None, action)


async def _record_deployments(
    session: AsyncSession, project: Project, repository: Repository, outcome: Deployments
) -> str | None:
    """Record each deployment the delivery reports, all or none (a savepoint): None when
    recorded, else why Takt refused one (a 4xx rule of `record_deployment`; it would refuse
    the same again, so the delivery fails instead of being retried)."""
    try:
        async with session.begin_nested():
            for report in outcome.reports:
                await record_deployment(session, project, report, actor=None, repository=repository)
    except AppError as refused:
        if refused.status >= 500:
            raise
        return f"deployment to `{report.environment}` refused: {refused.detail}"
    return None


def _finish(
    delivery: InboundDelivery, state: str, reason: str | None, action: str | None = None
) -> None:
    """The attempt's outcome, written in one UPDATE when the transaction ends (nothing is
    written to the delivery before: its row changes once per attempt)."""
    delivery.state = state
    delivery.reason = reason[:1000] if reason else None
    delivery.action = action or delivery.action
    delivery.attempts += 1
    delivery.processed_at = delivery.updated_at = utcnow()


async def record_failure(database: Database, delivery_id: str, error: str, *, final: bool) -> None:
    """An attempt failed: `retrying` with the reason, or `failed` after the last try."""
    async with database.transaction() as session:
        await repo.record_failure(
            session,
            delivery_id,
            state="failed" if final else "retrying",
            reason=error,
            at=utcnow(),
        )


# The inbox, for project admins --------------------------------------------------------------------


async def list_deliveries(
    session: AsyncSession, ctx: InboxContext, *, state: str | None, page: PageRequest
) -> tuple[list[InboundDelivery], str | None]:
    """One page of the repository's inbox, newest first."""
    ctx.access.require_admin("Reading a repository's deliveries")
    return await page.fetch(
        session,
        repo.deliveries_of(ctx.repository.id, state),
        keys=[
            SortKey(InboundDelivery.received_at, descending=True),
            SortKey(InboundDelivery.id, descending=True),
        ],
        key_of=lambda d: (d.received_at, d.id),
        sort_name="inbound-deliveries",
    )


async def redeliver(
    session: AsyncSession, access: ProjectAccess, delivery: InboundDelivery
) -> InboundDelivery:
    """Process a failed, retrying or ignored delivery again now, from the body kept in the
    inbox."""
    access.require_admin("Redelivering")
    locked = await repo.delivery_for_update(session, delivery.id)
    assert locked is not None
    if locked.state == "processed":
        raise DeliveryAlreadyProcessed("This delivery's effects are already recorded.")
    outcome = await job_queue.requeue(session, processing_key(locked.id))
    if outcome == "running":
        raise DeliveryBeingProcessed("A worker is processing this delivery now.")
    if outcome == "missing":
        await enqueue_processing(session, locked.id)
    locked.state = "received"
    locked.reason = None
    locked.processed_at = None
    locked.updated_at = utcnow()
    await session.flush()
    return locked
