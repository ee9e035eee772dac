"""Every query of the inbox: the deduplicating insert, a delivery locked for processing, a
repository's deliveries, and the finder of one delivery in its repository's path."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from takt.core.jobs import DIALECTS, one_of
from takt.delivery.models import Repository
from takt.integrations.models import InboundDelivery
from takt.projects.models import Project
from takt.projects.repository import ChildFinder

# Built once per dialect: the worker's claim runs it for every batch of deliveries.
_STORED = {
    dialect: select(
        InboundDelivery.id,
        InboundDelivery.provider,
        InboundDelivery.event,
        InboundDelivery.body,
        InboundDelivery.received_at,
    ).where(
        one_of(InboundDelivery.id, "ids", dialect),
        InboundDelivery.state.not_in(("processed", "ignored")),
    )
    for dialect in DIALECTS
}


async def insert_delivery(session: AsyncSession, values: dict[str, Any]) -> str | None:
    """Add the delivery to the inbox unless the repository has one with its key already; the
    new row's id, or None for a duplicate (ten copies at once insert one row: the unique key
    decides, and the others wait for it and do nothing)."""
    dialect = session.get_bind().dialect.name
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(InboundDelivery)
    inserted = await session.scalar(
        statement.values(**values)
        .on_conflict_do_nothing(index_elements=["repository_id", "delivery_key"])
        .returning(InboundDelivery.id)
    )
    return inserted


async def id_by_key(session: AsyncSession, repository_id: str, delivery_key: str) -> str | None:
    found: str | None = await session.scalar(
        select(InboundDelivery.id).where(
            InboundDelivery.repository_id == repository_id,
            InboundDelivery.delivery_key == delivery_key,
        )
    )
    return found


async def delivery_for_update(session: AsyncSession, delivery_id: str) -> InboundDelivery | None:
    """The delivery, locked (PostgreSQL `FOR UPDATE`; SQLite's write transaction holds the one
    write lock), so one worker processes it at a time."""
    stmt = (
        select(InboundDelivery)
        .where(InboundDelivery.id == delivery_id)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    found: InboundDelivery | None = await session.scalar(stmt)
    return found


async def delivery_to_process(
    session: AsyncSession, delivery_id: str
) -> tuple[InboundDelivery, Repository, Project] | None:
    """The delivery, locked as `delivery_for_update` does, with its repository and project:
    one statement."""
    stmt = (
        select(InboundDelivery, Repository, Project)
        .join(Repository, Repository.id == InboundDelivery.repository_id)
        .join(Project, Project.id == Repository.project_id)
        .where(InboundDelivery.id == delivery_id)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=InboundDelivery)
    row = (await session.execute(stmt)).first()
    return (row[0], row[1], row[2]) if row is not None else None


async def stored_deliveries(session: AsyncSession, delivery_ids: Sequence[str]) -> list[Any]:
    """Of `delivery_ids`, those not processed or ignored yet: what parsing them takes (id,
    provider, event, body, received_at), one statement."""
    if not delivery_ids:
        return []
    statement = _STORED[session.get_bind().dialect.name]
    return list((await session.execute(statement, {"ids": list(delivery_ids)})).all())


async def deliveries_to_process(
    session: AsyncSession, delivery_ids: Sequence[str]
) -> list[tuple[InboundDelivery, Repository, Project]]:
    """`delivery_to_process` for many deliveries (without their bodies), locked in id order:
    one statement."""
    if not delivery_ids:
        return []
    stmt = (
        select(InboundDelivery, Repository, Project)
        .join(Repository, Repository.id == InboundDelivery.repository_id)
        .join(Project, Project.id == Repository.project_id)
        .where(InboundDelivery.id.in_(list(delivery_ids)))
        .order_by(InboundDelivery.id)
        .options(defer(InboundDelivery.body))
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=InboundDelivery)
    rows = (await session.execute(stmt)).all()
    return [(row[0], row[1], row[2]) for row in rows]


async def record_failure(
    session: AsyncSession, delivery_id: str, *, state: str, reason: str, at: datetime
) -> None:
    await session.execute(
        update(InboundDelivery)
        .where(InboundDelivery.id == delivery_id)
        .values(
            state=state,
            reason=reason[:1000],
            attempts=InboundDelivery.attempts + 1,
            updated_at=at,
        )
    )


def deliveries_of(repository_id: str, state: str | None) -> Select[InboundDelivery]:
    stmt = select(InboundDelivery).where(InboundDelivery.repository_id == repository_id)
    if state is not None:
        stmt = stmt.where(InboundDelivery.state == state)
    return stmt


# One delivery of the repository in the path, with the repository's project (its `params` name
# the repository): one statement.
INBOUND_BY_ID = ChildFinder[InboundDelivery](
    lambda: (
        select(InboundDelivery, Project)
        .join(Repository, Repository.id == InboundDelivery.repository_id)
        .join(Project, Project.id == Repository.project_id)
        .where(
            InboundDelivery.id == bindparam("inbound_delivery_id"),
            InboundDelivery.repository_id == bindparam("repository_id"),
        )
    ),
    param="inbound_delivery_id",
)
