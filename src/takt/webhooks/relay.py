"""The relay: reads the event log in cursor order and turns each event into one delivery (and
its job) per enabled webhook of the event's project that asked for its type.

One batch is one transaction: the deliveries, their jobs and the relay's new position commit
together, so a relay that dies before its commit leaves the position where it was and the next
run relays the same events again (the unique (webhook, event) pair keeps it from doubling them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core import jobs
from takt.core.jobs import JobContext
from takt.core.models import new_id
from takt.core.time import utcnow
from takt.webhooks import repository as repo
from takt.webhooks.jobs import DELIVER, MAX_ATTEMPTS, delivery_job_key
from takt.webhooks.slack import slack_event_types

RELAY_NAME = "webhooks"
BATCH_SIZE = 500


def type_matcher(filters: Iterable[str]) -> Callable[[str], bool]:
    """Whether an event type passes a webhook's filter: exact types, families (`item.*`: every
    type starting `item.`) and `*` (everything)."""
    exact: set[str] = set()
    families: list[str] = []
    for entry in filters:
        if entry == "*":
            return lambda _type: True
        if entry.endswith(".*"):
            families.append(entry[:-1])
        else:
            exact.add(entry)
    prefixes = tuple(families)
    return lambda event_type: event_type in exact or event_type.startswith(prefixes)


@dataclass(frozen=True)
class _Subscriber:
    id: str
    created_at: datetime
    wants: Callable[[str], bool]


def _subscriber(row: repo.Subscriber) -> _Subscriber:
    webhook_id, _project_id, kind, event_types, created_at = row
    wants = type_matcher(event_types)
    if kind == "slack":
        # Types Slack has no message for would only make deliveries that send nothing.
        slack_types = slack_event_types()
        matches = wants

        def wants(event_type: str) -> bool:
            return event_type in slack_types and matches(event_type)

    return _Subscriber(id=webhook_id, created_at=created_at, wants=wants)


async def relay_batch(session: AsyncSession, *, limit: int = BATCH_SIZE) -> bool:
    """Relay the next `limit` events in the caller's transaction; True when more may be waiting
    (the batch was full). False too when another worker's relay is running."""
    position = await repo.lock_relay(session, RELAY_NAME)
    if position is None:
        return False
    events = await repo.events_after(session, position, limit)
    if not events:
        return False
    # History brought in by an import is not news, and an event of no project has no webhooks.
    relayed = [e for e in events if e.project_id is not None and not e.imported]
    subscribers: dict[str, list[_Subscriber]] = defaultdict(list)
    for row in await repo.subscribers_in(session, list({e.project_id for e in relayed})):
        subscribers[row.project_id].append(_subscriber(row))
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "id": new_id(),
            "webhook_id": hook.id,
            "project_id": event.project_id,
            "event_id": event.id,
            "event_type": event.type,
            "payload": None,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for event in relayed
        for hook in subscribers.get(event.project_id or "", ())
        # A new webhook gets the events from its creation on, not the project's past.
        if event.occurred_at >= hook.created_at and hook.wants(event.type)
    ]
    inserted = await repo.insert_deliveries(session, rows)
    await jobs.enqueue_many(
        session,
        [
            {
                "kind": DELIVER,
                "payload": {"delivery_id": delivery_id},
                "run_at": now,
                "dedupe_key": delivery_job_key(delivery_id),
                "group_key": webhook_id,
                "max_attempts": MAX_ATTEMPTS,
            }
            for delivery_id, webhook_id in inserted
        ],
    )
    last = events[-1]
    await repo.move_relay(session, RELAY_NAME, (last.tx, last.seq))
    return len(events) == limit


async def relay(ctx: JobContext) -> bool:
    """The relay pump's run: one batch in a transaction of its own."""
    async with ctx.database.transaction() as session:
        return await relay_batch(session)
