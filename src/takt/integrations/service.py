"""Inbound webhooks: accept a provider's delivery into the inbox (signature checked on the raw
body first, deduplicated by its delivery id, a job queued in the same transaction), process it
in the worker (parse, record through `takt.delivery.ingest`, or `takt.deployments.service` for
deployments), and show the inbox to project admins with redelivery.

Accepting does no parsing and no work beyond one lookup, one insert and one job: the answer
(202) goes back once that is committed, and what the delivery means is worked out by the
worker, which can retry. Deliveries arriving together are committed together (`InboxWriter`);
the worker records them in batches too (`settle`). A delivery that can't mean anything (JSON
of the wrong shape) is `failed` with the reason; one about events or actions Takt doesn't use
is `ignored`. Neither is an error to the provider.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
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
from takt.integrations.jobs import enqueue_processing, enqueue_processing_many, processing_key
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
    """What accepting a delivery takes, once per app: the box that opens GitHub secrets and the
    writer that puts deliveries in the inbox."""

    box: SecretBox
    writer: InboxWriter

    @classmethod
    def from_settings(cls, settings: Settings) -> HookConfig:
        return cls(box=SecretBox(settings.resolved_secret_key()), writer=InboxWriter())


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


def _checked(
    repository: Repository | None,
    provider: str,
    body: bytes,
    headers: HookHeaders,
    config: HookConfig,
) -> dict[str, Any]:
    """The inbox row of a delivery whose signature holds; 401 for an unknown repository or a
    bad signature alike."""
    if not _signed(repository, provider, body, headers.signature, config.box):
        raise InvalidSignature("The signature doesn't match, or there is no such repository.")
    assert repository is not None
    if not headers.event:
        raise HookEventMissing("Send the provider's event header with the delivery.")
    key = (headers.delivery_id or "").strip()[:MAX_KEY]
    if not key:
        key = "sha256:" + hashlib.sha256(body).hexdigest()
    now = utcnow()
    return {
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
    }


async def _put(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[Received]:
    """Put deliveries in the inbox (once per delivery id: a copy of one already there, or
    earlier in `rows`, is a duplicate) and queue the new ones' processing (one statement)."""
    received: list[Received] = []
    for values in rows:
        inserted = await repo.insert_delivery(session, values)
        if inserted is None:
            existing = await repo.id_by_key(
                session, values["repository_id"], values["delivery_key"]
            )
            received.append(Received(id=existing or "", duplicate=True))
        else:
            received.append(Received(id=inserted, duplicate=False))
    await enqueue_processing_many(session, [r.id for r in received if not r.duplicate])
    return received


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
    values = _checked(found[0] if found else None, provider, body, headers, config)
    (received,) = await _put(session, [values])
    return received


async def accept(
    database: Database,
    provider: str,
    repository_id: str,
    body: bytes,
    headers: HookHeaders,
    *,
    config: HookConfig,
) -> Received:
    """`receive` as the webhook endpoints do it: the repository is read outside any write
    transaction, and the delivery is put in the inbox by the app's `InboxWriter`, which commits
    the deliveries arriving together in one transaction. Answered once it is committed."""
    async with database.transaction(write=False) as session:
        found = await delivery_repo.repository_for_hook(session, repository_id, provider)
    values = _checked(found[0] if found else None, provider, body, headers, config)
    return await config.writer.put(database, values)


class InboxWriter:
    """Group commit for accepted deliveries: each waits for the transaction that puts it in the
    inbox, and the deliveries that arrive while one commits go together in the next.

    Why: on PostgreSQL a commit that enqueued a job sends a NOTIFY (the `jobs` trigger that
    wakes workers), and PostgreSQL serializes such commits, cluster-wide, under one lock held
    until their WAL is flushed. A transaction per delivery made each wait for every earlier
    one's flush: at a few hundred a second, one slow flush held up every delivery behind it
    (the acceptance tail, bench.reviews). One transaction per group pays one flush and one
    NOTIFY for the group, and adds no wait when deliveries come one at a time.

    Nothing is answered before its commit; a group whose transaction fails is written again
    one delivery at a time, so one bad delivery fails alone."""

    def __init__(self) -> None:
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[Received]]] = []
        self._task: asyncio.Task[None] | None = None

    async def put(self, database: Database, values: dict[str, Any]) -> Received:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Received] = loop.create_future()
        self._waiting.append((values, future))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._write_all(database), name="takt-inbox-writer")
        # A client that goes away doesn't cancel the write others wait for.
        return await asyncio.shield(future)

    async def _write_all(self, database: Database) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            await self._write(database, group)

    async def _write(
        self, database: Database, group: list[tuple[dict[str, Any], asyncio.Future[Received]]]
    ) -> None:
        try:
            async with database.transaction() as session:
                received = await _put(session, [values for values, _ in group])
        except Exception as exc:
            if len(group) > 1:
                for one in group:
                    await self._write(database, [one])
                return
            if not group[0][1].done():
                group[0][1].set_exception(exc)
            return
        except BaseException as exc:  # cancelled (shutdown): no waiter is left hanging
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
            raise
        for (_, future), result in zip(group, received, strict=True):
            if not future.done():
                future.set_result(result)


# Processing (the worker's job, integrations/jobs.py) ----------------------------------------------


@dataclass(frozen=True)
class Stored:
    """What processing reads of a delivery before any transaction of its own: the worker's
    claim loads it for a batch (`load_stored`), the parse runs outside any transaction."""

    id: str
    provider: str
    event: str
    body: bytes
    received_at: datetime


@dataclass(frozen=True)
class Crashed:
    """Parsing raised something other than `WrongShape` (a parser's bug): the attempt fails and
    is retried, visibly, as any failure Takt can't foresee."""

    error: str


# What the parse of a stored delivery gave.
ParseResult = Parsed | WrongShape | Crashed


def _parse(delivery: Stored | InboundDelivery) -> Parsed:
    try:
        payload: Any = json.loads(delivery.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WrongShape(f"the body is not JSON: {str(exc)[:200]}") from exc
    parser = github.parse if delivery.provider == "github" else gitlab.parse
    return parser(delivery.event, payload, delivery.received_at)


def parse_stored(stored: Stored) -> ParseResult:
    """The delivery's meaning, or why it has none (`WrongShape`), or the parser's crash."""
    try:
        return _parse(stored)
    except WrongShape as wrong:
        return wrong
    except Exception as exc:
        return Crashed(f"{type(exc).__name__}: {exc}")


async def load_stored(session: AsyncSession, delivery_ids: Sequence[str]) -> dict[str, Stored]:
    """The deliveries to parse, by id (those still in the inbox): one statement."""
    rows = await repo.stored_deliveries(session, delivery_ids)
    return {
        row.id: Stored(row.id, row.provider, row.event, row.body, row.received_at) for row in rows
    }


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended for the inbox: its state, why, and the action the payload named."""

    state: str
    reason: str | None = None
    action: str | None = None


async def _record(
    session: AsyncSession,
    delivery: InboundDelivery,
    repository: Repository,
    project: Project,
    parsed: Parsed | WrongShape,
    batch: ingest.Batch | None = None,
) -> Outcome:
    """Record what the parsed delivery says, in the caller's transaction; raises what the
    recording raised (for a retry)."""
    if project.deleted_at is not None:
        return Outcome("ignored", "the repository's project is deleted")
    if isinstance(parsed, WrongShape):
        return Outcome("failed", f"wrong shape for `{delivery.event}`: {parsed}")
    action = (parsed.action or "")[:MAX_EVENT] or None
    outcome = parsed.outcome
    if isinstance(outcome, Ignored):
        return Outcome("ignored", outcome.reason, action)
    if parsed.repository is not None and parsed.repository.lower() != repository.full_name_key:
        return Outcome(
            "ignored",
            f"the payload is about `{parsed.repository[:255]}`, not `{repository.full_name}`"
            " (change the repository's full_name if it was renamed)",
            action,
        )
    if isinstance(outcome, Deployments):
        refused = await _record_deployments(session, project, repository, outcome)
        if refused is not None:
            return Outcome("failed", refused, action)
    elif isinstance(outcome, PullRequestChange):
        await ingest.apply_pull_request(session, repository, project, outcome, batch=batch)
    else:
        await ingest.apply_push(session, repository, project, outcome, batch=batch)
    return Outcome("processed", None, action)


async def process(database: Database, delivery_id: str) -> None:
    """Process one delivery of the inbox in one transaction: its effects and its new state
    commit together. A delivery already processed or ignored is left as it is (a job may run
    twice). Raises what the recording raised, for the worker to retry."""
    async with database.transaction() as session:
        found = await repo.delivery_to_process(session, delivery_id)
        if found is None or found[0].state in FINISHED:
            return
        delivery, repository, project = found
        try:
            parsed: Parsed | WrongShape = _parse(delivery)
        except WrongShape as wrong:
            parsed = wrong
        outcome = await _record(session, delivery, repository, project, parsed)
        _finish(delivery, outcome.state, outcome.reason, outcome.action)


@dataclass(frozen=True)
class Attempt:
    """One delivery of a batch the worker settles: its job's key, what its parse gave (None:
    the delivery was gone when the batch was loaded) and whether this is its last try."""

    key: str
    delivery_id: str
    parsed: ParseResult | None
    final: bool


@dataclass(frozen=True)
class AttemptFailed:
    """The attempt failed and the delivery is `retrying` (or `failed` after its last try)."""

    error: str


async def settle(session: AsyncSession, attempts: Sequence[Attempt]) -> dict[str, AttemptFailed]:
    """Record a batch of parsed deliveries in the caller's transaction, oldest first; the failed
    attempts, by key. A delivery already processed or ignored is left as it is.

    A batch of several is recorded without a savepoint per delivery (two round trips each):
    when one raises, this raises, the transaction is rolled back, and the worker settles each
    job of the batch again alone (`takt.core.jobs.JobBatch`). A single one is recorded in a
    savepoint: when it raises, its writes are rolled back and it is left `retrying` (or
    `failed` after its last try) with the reason, the visible failure a retry follows.

    The deliveries are locked in one statement (in id order, so two workers settling at once
    lock them in the same order); what the batch's deliveries share (whose the provider logins
    are, a pull request several of them are about) is read once (`ingest.Batch`)."""
    by_id = {a.delivery_id: a for a in attempts if a.parsed is not None}
    found = await repo.deliveries_to_process(session, sorted(by_id))
    pending = sorted(
        (f for f in found if f[0].state not in FINISHED), key=lambda f: (f[0].received_at, f[0].id)
    )
    batch = ingest.Batch()
    await batch.prefetch_users(
        session,
        [
            (repository.provider, parsed.outcome)
            for delivery, repository, _ in pending
            if isinstance(parsed := by_id[delivery.id].parsed, Parsed)
        ],
    )
    alone = len(pending) == 1
    failed: dict[str, AttemptFailed] = {}
    finished: list[tuple[InboundDelivery, Outcome | AttemptFailed]] = []
    for delivery, repository, project in pending:
        attempt = by_id[delivery.id]
        parsed = attempt.parsed
        assert parsed is not None
        result: Outcome | AttemptFailed
        if isinstance(parsed, Crashed):
            result = AttemptFailed(parsed.error)
        elif not alone:
            result = await _record(session, delivery, repository, project, parsed, batch)
        else:
            try:
                async with session.begin_nested():
                    result = await _record(session, delivery, repository, project, parsed, batch)
            except Exception as exc:
                result = AttemptFailed(f"{type(exc).__name__}: {exc}")
                log.warning(
                    "could not process an inbound delivery",
                    exc_info=True,
                    extra={"delivery_id": delivery.id, "error": result.error},
                )
        finished.append((delivery, result))
    # Each delivery's row changes once, after all were recorded: one statement for the batch
    # when the transaction ends, rather than one in each delivery's writes.
    for delivery, result in finished:
        if isinstance(result, Outcome):
            _finish(delivery, result.state, result.reason, result.action)
        else:
            attempt = by_id[delivery.id]
            failed[attempt.key] = result
            delivery.state = "failed" if attempt.final else "retrying"
            delivery.reason = result.error[:1000]
            delivery.attempts += 1
            delivery.updated_at = utcnow()
    return failed


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
