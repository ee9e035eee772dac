"""Every query of webhooks: endpoints, their deliveries and the attempts of each delivery."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Row,
    Select,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from takt.auth.models import User
from takt.core.events import Event, committed_horizon, envelope
from takt.core.jobs import DIALECTS, one_of
from takt.core.models import UTCDateTime, new_id
from takt.core.time import utcnow
from takt.projects.models import Project
from takt.projects.repository import ChildFinder
from takt.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery, WebhookRelay

# The webhook of a `/webhooks/{webhook_id}` path with its project
# (`projects.service.load_in_project`).
WEBHOOK_BY_ID = ChildFinder[Webhook](
    lambda: (
        select(Webhook, Project)
        .join(Project, Project.id == Webhook.project_id)
        .where(Webhook.id == bindparam("webhook_id"))
    ),
    param="webhook_id",
)

# The delivery of a `/deliveries/{delivery_id}` path, found through its webhook's project; the
# webhook comes along as the extra column (retry asks whether it is enabled).
DELIVERY_BY_ID = ChildFinder[WebhookDelivery](
    lambda: (
        select(WebhookDelivery, Project, Webhook)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .join(Project, Project.id == Webhook.project_id)
        .where(WebhookDelivery.id == bindparam("delivery_id"))
    ),
    param="delivery_id",
)


def webhooks_of(project_id: str) -> Select[Webhook]:
    """The project's webhooks (a statement the service pages)."""
    return select(Webhook).where(Webhook.project_id == project_id)


async def count_webhooks(session: AsyncSession, project_id: str) -> int:
    """How many webhooks the project has (enabled or not)."""
    found = await session.scalar(
        select(func.count()).select_from(Webhook).where(Webhook.project_id == project_id)
    )
    return found or 0


def deliveries_of(webhook_id: str, state: str | None = None) -> Select[WebhookDelivery]:
    """The webhook's deliveries, in one state or all (a statement the service pages)."""
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if state is not None:
        stmt = stmt.where(WebhookDelivery.state == state)
    return stmt


async def attempts_of(
    session: AsyncSession, delivery_ids: Sequence[str], *, latest: int
) -> dict[str, list[WebhookAttempt]]:
    """The `latest` attempts of each delivery, oldest first, for a whole page of deliveries in
    one statement (a delivery retried by hand again and again keeps every attempt in the table;
    an answer shows the recent ones)."""
    if not delivery_ids:
        return {}
    ranked = (
        select(
            WebhookAttempt,
            func.row_number()
            .over(
                partition_by=WebhookAttempt.delivery_id,
                order_by=(WebhookAttempt.attempted_at.desc(), WebhookAttempt.id.desc()),
            )
            .label("recency"),
        )
        .where(WebhookAttempt.delivery_id.in_(list(delivery_ids)))
        .subquery()
    )
    attempt = aliased(WebhookAttempt, ranked)
    rows = await session.scalars(
        select(attempt)
        .where(ranked.c.recency <= latest)
        .order_by(attempt.delivery_id, attempt.attempted_at, attempt.id)
    )
    found: dict[str, list[WebhookAttempt]] = {delivery_id: [] for delivery_id in delivery_ids}
    for row in rows:
        found[row.delivery_id].append(row)
    return found


# The relay and deliveries ---------------------------------------------------------------------
# `webhooks.relay` turns the event log into deliveries; `webhooks.delivery` sends them.

RelayPosition = tuple[int, int]
RelayedEvent = Row[int, int, str, str, str | None, datetime, bool]
Subscriber = Row[str, str, str, list[str], datetime]


def _insert_for(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# The relay runs for every batch of events (at a steady trickle, every event): its statements
# are built once, with their values bound, as the deliveries' below.
_RELAY_POSITION = select(WebhookRelay.position_tx, WebhookRelay.position_seq).where(
    WebhookRelay.name == bindparam("name")
)
_RELAY_POSITION_PG = _RELAY_POSITION.with_for_update(skip_locked=True)
_RELAY_EXISTS = select(WebhookRelay.name).where(WebhookRelay.name == bindparam("name"))


async def lock_relay(session: AsyncSession, name: str) -> RelayPosition | None:
    """The relay's position, its row locked until this transaction ends, or None when another
    worker's relay holds it (PostgreSQL skips the locked row; on SQLite the one writer has it).
    The row is made, at the start of the log, the first time."""
    postgres = session.get_bind().dialect.name == "postgresql"
    locked = _RELAY_POSITION_PG if postgres else _RELAY_POSITION
    row = (await session.execute(locked, {"name": name})).first()
    if row is not None:
        return (row[0], row[1])
    # Held by another relay (an insert would wait for it: the row it holds is being updated),
    # or missing: then only the insert that makes it gets to relay (a concurrent first insert
    # waits for the other to commit, then does nothing).
    if await session.scalar(_RELAY_EXISTS, {"name": name}):
        return None
    made = await session.execute(
        _insert_for(session)(WebhookRelay)
        .values(name=name, position_tx=0, position_seq=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(WebhookRelay.name)
    )
    return (0, 0) if made.first() is not None else None


def _events_after_statement(dialect: str) -> Select[*tuple[Any, ...]]:
    stmt = (
        select(
            Event.tx,
            Event.seq,
            Event.id,
            Event.type,
            Event.project_id,
            Event.occurred_at,
            Event.imported,
        )
        .where(
            tuple_(Event.tx, Event.seq)
            > tuple_(
                bindparam("after_tx", type_=BigInteger()),
                bindparam("after_seq", type_=BigInteger()),
            )
        )
        .order_by(Event.tx, Event.seq)
        .limit(bindparam("limit", type_=Integer()))
    )
    horizon = committed_horizon(dialect)
    return stmt if horizon is None else stmt.where(horizon)


_EVENTS_AFTER = {dialect: _events_after_statement(dialect) for dialect in ("postgresql", "sqlite")}


async def events_after(
    session: AsyncSession, position: RelayPosition, limit: int
) -> Sequence[RelayedEvent]:
    """Up to `limit` events after `position`, in the log's cursor order and below its committed
    horizon (`core.events.committed_horizon`): an event that commits later can't fall behind."""
    stmt = _EVENTS_AFTER[session.get_bind().dialect.name]
    params = {"after_tx": position[0], "after_seq": position[1], "limit": limit}
    return (await session.execute(stmt, params)).all()


_SUBSCRIBERS = {
    dialect: select(
        Webhook.id, Webhook.project_id, Webhook.kind, Webhook.event_types, Webhook.created_at
    ).where(one_of(Webhook.project_id, "project_ids", dialect), Webhook.enabled.is_(True))
    for dialect in DIALECTS
}


async def subscribers_in(session: AsyncSession, project_ids: Sequence[str]) -> Sequence[Subscriber]:
    """The enabled webhooks of these projects: id, project, kind, event types, creation time."""
    if not project_ids:
        return []
    stmt = _SUBSCRIBERS[session.get_bind().dialect.name]
    rows = await session.execute(stmt, {"project_ids": list(project_ids)})
    return rows.all()


_INSERT_DELIVERIES = {
    dialect: insert_for(WebhookDelivery)
    .on_conflict_do_nothing(index_elements=["webhook_id", "event_id"])
    .returning(WebhookDelivery.id, WebhookDelivery.webhook_id)
    for dialect, insert_for in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


async def insert_deliveries(
    session: AsyncSession, rows: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """Insert the deliveries a pair (webhook, event) doesn't have yet, in one statement; the
    (delivery id, webhook id) of each one inserted."""
    if not rows:
        return []
    stmt = _INSERT_DELIVERIES[session.get_bind().dialect.name]
    inserted = await session.execute(stmt, rows)
    return [(row[0], row[1]) for row in inserted]


_MOVE_RELAY = (
    update(WebhookRelay)
    .where(WebhookRelay.name == bindparam("relay_name"))
    .values(
        position_tx=bindparam("position_tx", type_=BigInteger()),
        position_seq=bindparam("position_seq", type_=BigInteger()),
        updated_at=bindparam("now", type_=UTCDateTime()),
    )
    .execution_options(synchronize_session=False)
)


async def move_relay(session: AsyncSession, name: str, position: RelayPosition) -> None:
    await session.execute(
        _MOVE_RELAY,
        {
            "relay_name": name,
            "position_tx": position[0],
            "position_seq": position[1],
            "now": utcnow(),
        },
    )


# Sending a delivery is webhooks' hot path: its statements are built once and take their values
# as bound parameters, since building and keying a statement costs more than running it
# (~0.5 ms each, measured, against a few µs for a built one).


@dataclass(frozen=True)
class ToSend:
    """A delivery with what its attempt needs: its webhook (None once gone) and, unless it is a
    test ping, its event as the envelope (None once gone)."""

    delivery: WebhookDelivery
    webhook: Webhook | None
    envelope: dict[str, Any] | None


# A batch of deliveries, by their ids (`core.jobs.one_of`).
_TO_SEND = {
    dialect: select(WebhookDelivery, Webhook, Event, User.username, Project.key)
    .outerjoin(Webhook, Webhook.id == WebhookDelivery.webhook_id)
    .outerjoin(Event, Event.id == WebhookDelivery.event_id)
    .outerjoin(User, User.id == Event.actor_id)
    .outerjoin(Project, Project.id == Event.project_id)
    .where(one_of(WebhookDelivery.id, "delivery_ids", dialect))
    for dialect in DIALECTS
}


async def delivery_to_send(session: AsyncSession, delivery_id: str) -> ToSend | None:
    """The delivery, its webhook and its event's envelope (with the actor's username and the
    project's key) in one statement; None when the delivery is gone."""
    return (await deliveries_to_send(session, [delivery_id])).get(delivery_id)


async def deliveries_to_send(
    session: AsyncSession, delivery_ids: Sequence[str]
) -> dict[str, ToSend]:
    """`delivery_to_send` for a batch of deliveries in one statement, by delivery id (the gone
    ones left out)."""
    if not delivery_ids:
        return {}
    stmt = _TO_SEND[session.get_bind().dialect.name]
    rows = await session.execute(stmt, {"delivery_ids": list(delivery_ids)})
    found: dict[str, ToSend] = {}
    for delivery, webhook, event, username, project_key in rows:
        data = None if event is None else envelope(event, username, project_key)
        found[delivery.id] = ToSend(delivery, webhook, data)
    return found


_SETTLE = (
    update(WebhookDelivery)
    .where(WebhookDelivery.id == bindparam("delivery_id"))
    .values(
        attempts=WebhookDelivery.attempts + 1,
        state=bindparam("new_state"),
        last_status=bindparam("status", type_=Integer()),
        last_error=bindparam("error", type_=String()),
        next_attempt_at=bindparam("next_at", type_=UTCDateTime()),
        delivered_at=func.coalesce(
            bindparam("delivered", type_=UTCDateTime()), WebhookDelivery.delivered_at
        ),
        updated_at=bindparam("now", type_=UTCDateTime()),
    )
    .returning(WebhookDelivery.id)
    .execution_options(synchronize_session=False)
)
_LOG_ATTEMPT = insert(WebhookAttempt)


async def record_attempt(
    session: AsyncSession,
    delivery_id: str,
    attempt: dict[str, Any],
    *,
    state: str,
    last_status: int | None,
    last_error: str | None,
    next_attempt_at: datetime | None,
    delivered_at: datetime | None = None,
) -> bool:
    """Log one attempt of a delivery (`attempt`: the attempt's columns) and settle the delivery
    (its new state, last status and error, next attempt time, when it was delivered), counting
    the attempt. False when the delivery is gone (deleted with its webhook during the call)."""
    settled = await session.execute(
        _SETTLE,
        {
            "delivery_id": delivery_id,
            "new_state": state,
            "status": last_status,
            "error": last_error,
            "next_at": next_attempt_at,
            "delivered": delivered_at,
            "now": utcnow(),
        },
    )
    if settled.first() is None:
        return False
    await session.execute(_LOG_ATTEMPT, {"id": new_id(), "delivery_id": delivery_id, **attempt})
    return True


async def end_delivery(session: AsyncSession, delivery_id: str, state: str, reason: str) -> None:
    """Close a delivery without an attempt (its webhook is disabled or gone, its event gone, or
    it has nothing to send), unless it has ended already."""
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.state.not_in(("succeeded", "cancelled")),
        )
        .values(state=state, last_error=reason, next_attempt_at=None, updated_at=utcnow())
    )


async def cancel_pending(session: AsyncSession, webhook_id: str, reason: str) -> None:
    """Close every delivery of the webhook still waiting for an attempt (it was disabled): their
    jobs find them closed and end without a call, even if it is enabled again meanwhile."""
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.state == "pending")
        .values(state="cancelled", last_error=reason, next_attempt_at=None, updated_at=utcnow())
    )


_CLEAR_FAILING = (
    update(Webhook)
    .where(Webhook.id == bindparam("webhook_id"), Webhook.failing_since.is_not(None))
    .values(failing_since=None)
    .execution_options(synchronize_session=False)
)


async def clear_failing(session: AsyncSession, webhook_id: str) -> None:
    """The endpoint answered: it is no longer failing (written only when it was)."""
    await session.execute(_CLEAR_FAILING, {"webhook_id": webhook_id})


async def lock_webhooks(session: AsyncSession, webhook_ids: Sequence[str]) -> dict[str, Webhook]:
    """The webhooks (by id; deleted ones left out), their rows locked until the transaction
    ends, in id order so that two transactions locking some of the same never wait for each
    other in a circle. `FOR NO KEY UPDATE`: a delivery being inserted for one (its foreign key)
    doesn't wait, a delete does, so a locked webhook's deliveries can't vanish meanwhile."""
    if not webhook_ids:
        return {}
    stmt = _LOCK_WEBHOOKS[session.get_bind().dialect.name]
    found = await session.scalars(stmt, {"webhook_ids": sorted(set(webhook_ids))})
    return {webhook.id: webhook for webhook in found}


_LOCK_WEBHOOKS = {
    "postgresql": select(Webhook)
    .where(one_of(Webhook.id, "webhook_ids", "postgresql"))
    .order_by(Webhook.id)
    .with_for_update(key_share=True),
    "sqlite": select(Webhook)
    .where(one_of(Webhook.id, "webhook_ids", "sqlite"))
    .order_by(Webhook.id),
}


_deliveries: Table = WebhookDelivery.__table__  # type: ignore[assignment]
_SETTLE_MANY = (
    update(_deliveries)
    .where(_deliveries.c.id == bindparam("delivery_id"))
    .values(
        attempts=_deliveries.c.attempts + 1,
        state=bindparam("new_state"),
        last_status=bindparam("status", type_=Integer()),
        last_error=bindparam("error", type_=String()),
        next_attempt_at=bindparam("next_at", type_=UTCDateTime()),
        delivered_at=func.coalesce(
            bindparam("delivered", type_=UTCDateTime()), _deliveries.c.delivered_at
        ),
        updated_at=bindparam("now", type_=UTCDateTime()),
    )
)
_attempts: Table = WebhookAttempt.__table__  # type: ignore[assignment]
_LOG_ATTEMPTS = insert(_attempts)


async def record_attempts(
    session: AsyncSession, settled: Sequence[dict[str, Any]], attempts: Sequence[dict[str, Any]]
) -> None:
    """`record_attempt` for a batch of deliveries whose webhooks the caller has locked
    (`lock_webhooks`: none of them can be gone), in two statements: each delivery settled
    (`settled`: delivery_id, new_state, status, error, next_at, delivered, now), then each
    attempt logged (`attempts`: the attempt's columns with its delivery_id). The caller passes
    them in delivery id order, the order in which their rows are locked."""
    if settled:
        await session.execute(_SETTLE_MANY, list(settled))
    if attempts:
        await session.execute(_LOG_ATTEMPTS, [{"id": new_id(), **row} for row in attempts])


async def lock_webhook(session: AsyncSession, webhook_id: str) -> Webhook | None:
    """The webhook, its row locked until the transaction ends: deliveries failing at once
    decide one after another whether it has failed long enough to disable."""
    return await session.scalar(select(Webhook).where(Webhook.id == webhook_id).with_for_update())
