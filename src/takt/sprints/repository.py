"""Every query of sprints, their scope, capacity and the events their numbers come from."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, case, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from takt.auth.models import User
from takt.core.events import Event
from takt.items.events import ItemCreated, ItemDeleted, ItemRestored, ItemUpdated
from takt.items.models import Item
from takt.items.repository import LIVE, live_in_project
from takt.projects.models import Project, ProjectMember
from takt.projects.repository import ChildFinder
from takt.sprints import release_directory
from takt.sprints.events import SprintScopeChanged
from takt.sprints.models import BurndownPoint, Sprint, SprintCapacity
from takt.sprints.timeline import Totals
from takt.workflow.models import Status

# The sprint of a `/sprints/{sprint_id}` path with its project (`projects.service.load_in_project`).
SPRINT_BY_ID = ChildFinder[Sprint](
    lambda: (
        select(Sprint, Project)
        .join(Project, Project.id == Sprint.project_id)
        .where(Sprint.id == bindparam("sprint_id"))
    ),
    param="sprint_id",
)


async def get_in_project(session: AsyncSession, project_id: str, sprint_id: str) -> Sprint | None:
    return await session.scalar(
        select(Sprint).where(Sprint.project_id == project_id, Sprint.id == sprint_id)
    )


async def find_in_project(
    session: AsyncSession, project_id: str, sprint_ids: Sequence[str]
) -> list[Sprint]:
    """Those of `sprint_ids` that are sprints of the project, in one statement."""
    return list(
        await session.scalars(
            select(Sprint).where(Sprint.project_id == project_id, Sprint.id.in_(sprint_ids))
        )
    )


def names_in_project(project_id: str) -> Select[str, str]:
    """(id, name) of each of the project's sprints (a statement to run)."""
    return select(Sprint.id, Sprint.name).where(Sprint.project_id == project_id)


def name_of(sprint_id: Any) -> Any:
    """The name of the sprint `sprint_id` (a column of the enclosing statement) names: a scalar
    subquery to nest (by primary key, so one index lookup a row)."""
    return select(Sprint.name).where(Sprint.id == sprint_id).scalar_subquery()


def active_ids(project_id: str) -> Select[str]:
    """The id of the project's active sprint, if any (a statement to run or nest)."""
    return select(Sprint.id).where(Sprint.project_id == project_id, Sprint.state == "active")


def sprints_of(project_id: str, states: Sequence[str] | None = None) -> Select[Sprint]:
    """The list shows each sprint's commitment: load the deferred column with the rows."""
    stmt = select(Sprint).options(undefer(Sprint.commitment)).where(Sprint.project_id == project_id)
    if states:
        stmt = stmt.where(Sprint.state.in_(list(states)))
    return stmt


async def active_sprint(session: AsyncSession, project_id: str) -> Sprint | None:
    return await session.scalar(
        select(Sprint).where(Sprint.project_id == project_id, Sprint.state == "active")
    )


async def next_planned(session: AsyncSession, project_id: str, exclude: str) -> Sprint | None:
    return await session.scalar(
        select(Sprint)
        .where(Sprint.project_id == project_id, Sprint.state == "planned", Sprint.id != exclude)
        .order_by(Sprint.start_date, Sprint.id)
        .limit(1)
    )


async def last_end_date(session: AsyncSession, project_id: str) -> date | None:
    """When the project's last sprint (not cancelled) ends."""
    return await session.scalar(
        select(func.max(Sprint.end_date)).where(
            Sprint.project_id == project_id, Sprint.state != "cancelled"
        )
    )


async def count_sprints(session: AsyncSession, project_id: str) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Sprint).where(Sprint.project_id == project_id)
    )
    return int(count or 0)


async def hold_in_project(
    session: AsyncSession, project_id: str, sprint_ids: Sequence[str]
) -> list[Sprint]:
    """Those of `sprint_ids` that are sprints of the project, as they stand now (this session's
    copies refreshed), in one statement, for a write that depends on their state (an item
    joins or leaves one, its capacity changes): on PostgreSQL their rows are locked `FOR SHARE`
    until the transaction ends, so starting, completing, cancelling or deleting one (which
    locks its row `FOR UPDATE`, after its items) waits for the write, or the write for it, and
    reads what it committed. Share locks don't wait for each other: items join a sprint at
    once. SQLite's write transactions run one at a time already."""
    stmt = (
        select(Sprint)
        .where(Sprint.project_id == project_id, Sprint.id.in_(sprint_ids))
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(read=True)
    return list(await session.scalars(stmt))


async def items_with_category(session: AsyncSession, sprint_id: str) -> list[tuple[Item, str]]:
    rows = await session.execute(
        select(Item, Status.category)
        .join(Status, Status.id == Item.status_id)
        .where(Item.sprint_id == sprint_id, LIVE)
        .order_by(Item.rank, Item.id)
    )
    return [(item, category) for item, category in rows]


async def open_item_count(session: AsyncSession, sprint_id: str) -> int:
    """How many live items of the sprint are not finished (done or cancelled), as one count."""
    count = await session.scalar(
        select(func.count())
        .select_from(Item)
        .join(Status, Status.id == Item.status_id)
        .where(Item.sprint_id == sprint_id, LIVE, Status.category.not_in(("done", "cancelled")))
    )
    return int(count or 0)


async def review_rows(session: AsyncSession, sprint_id: str, limit: int) -> list[Row[Any]]:
    """The sprint's done items for its review, by rank, at most `limit`: (key, title, type,
    estimate, status name, in production since or None, done items in all, of them in
    production). One statement: when each item reached production is the release directory's
    subquery, nested (`takt.sprints.release_directory`), and the counts are windows over every
    done item, so they hold when the list is cut at `limit`."""
    shipped = release_directory.directory().in_production_since(Item.id)
    done = (
        select(
            Item.key,
            Item.title,
            Item.type,
            Item.estimate,
            Status.name.label("status"),
            shipped.label("shipped_at"),
            Item.rank,
            Item.id,
        )
        .join(Status, Status.id == Item.status_id)
        .where(Item.sprint_id == sprint_id, LIVE, Status.category == "done")
        .subquery()
    )
    rows = await session.execute(
        select(
            done.c.key,
            done.c.title,
            done.c.type,
            done.c.estimate,
            done.c.status,
            done.c.shipped_at,
            func.count().over(),
            func.count(done.c.shipped_at).over(),
        )
        .order_by(done.c.rank, done.c.id)
        .limit(limit)
    )
    return list(rows.all())


async def completed_sprints(
    session: AsyncSession, project_id: str, limit: int, *, exclude: str | None = None
) -> list[Sprint]:
    stmt = (
        select(Sprint)
        .where(Sprint.project_id == project_id, Sprint.state == "completed")
        .order_by(Sprint.completed_at.desc(), Sprint.id.desc())
        .limit(limit)
    )
    if exclude:
        stmt = stmt.where(Sprint.id != exclude)
    return list(await session.scalars(stmt))


async def capacity_rows(session: AsyncSession, sprint_id: str) -> dict[str, SprintCapacity]:
    rows = await session.scalars(
        select(SprintCapacity).where(SprintCapacity.sprint_id == sprint_id)
    )
    return {row.user_id: row for row in rows}


async def team(session: AsyncSession, project_id: str, *, active_only: bool = False) -> list[User]:
    """Members who do the work (admins and members; viewers don't carry capacity);
    `active_only`: not those whose account is disabled (`User.is_active`)."""
    stmt = (
        select(User)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .where(ProjectMember.project_id == project_id, ProjectMember.role != "viewer")
        .order_by(User.username_key)
    )
    if active_only:
        stmt = stmt.where(User.is_active.is_(True))
    return list(await session.scalars(stmt))


# The payload keys of `sprint.scope_changed` that queries read in SQL (see EventData.payload_key).
_SCOPE = {
    name: SprintScopeChanged.payload_key(name)
    for name in ("sprint_id", "key", "change", "estimate", "after_start", "reason")
}


async def scope_subjects(session: AsyncSession, project_id: str, sprint_id: str) -> list[str]:
    """Ids of every item that was ever in the sprint (its scope-change events name them)."""
    rows = await session.scalars(
        select(Event.subject_id)
        .where(
            Event.project_id == project_id,
            Event.type == SprintScopeChanged.event_type,
            Event.data[_SCOPE["sprint_id"]].as_string() == sprint_id,
        )
        .distinct()
    )
    return sorted(r for r in rows if r)


async def scope_changes_since(
    session: AsyncSession, project_id: str, sprint_id: str, since: datetime
) -> list[tuple[datetime, str, str, float | None]]:
    """(occurred_at, key, change, estimate) of the scope changes made to the sprint after its
    start, from `since` on, carry-over moves excepted. The fields are read out of the payload by
    the database (no JSON decoding of hundreds of payloads here), and the index on project, type
    and time keeps the scan to the period's events, not the project's whole log."""
    data = Event.data
    reason = data[_SCOPE["reason"]].as_string()
    rows = await session.execute(
        select(
            Event.occurred_at,
            data[_SCOPE["key"]].as_string(),
            data[_SCOPE["change"]].as_string(),
            data[_SCOPE["estimate"]].as_float(),
        )
        .where(
            Event.project_id == project_id,
            Event.type == SprintScopeChanged.event_type,
            Event.occurred_at >= since,
            data[_SCOPE["sprint_id"]].as_string() == sprint_id,
            data[_SCOPE["after_start"]].as_boolean().is_(True),
            or_(reason.is_(None), reason != "carry-over"),
        )
        .order_by(Event.seq)
    )
    return [(at, key or "", change or "added", estimate) for at, key, change, estimate in rows]


async def burndown_points(session: AsyncSession, sprint_id: str) -> dict[datetime, Totals]:
    rows = await session.execute(
        select(
            BurndownPoint.moment,
            BurndownPoint.scope_points,
            BurndownPoint.scope_items,
            BurndownPoint.remaining_points,
            BurndownPoint.remaining_items,
            BurndownPoint.unestimated,
        ).where(BurndownPoint.sprint_id == sprint_id)
    )
    return {
        row.moment: Totals(
            scope_points=row.scope_points,
            scope_items=row.scope_items,
            remaining_points=row.remaining_points,
            remaining_items=row.remaining_items,
            unestimated=row.unestimated,
        )
        for row in rows
    }


async def save_burndown_points(
    session: AsyncSession, sprint_id: str, points: dict[datetime, Totals]
) -> None:
    """Store points; one that a concurrent request stored first is left as it is (same value)."""
    if not points:
        return
    values = [
        {
            "sprint_id": sprint_id,
            "moment": moment,
            "scope_points": t.scope_points,
            "scope_items": t.scope_items,
            "remaining_points": t.remaining_points,
            "remaining_items": t.remaining_items,
            "unestimated": t.unestimated,
        }
        for moment, t in points.items()
    ]
    dialect_insert = (
        postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    )
    await session.execute(dialect_insert(BurndownPoint).values(values).on_conflict_do_nothing())


@functools.cache
def _current_totals() -> Select[Any]:
    points = func.coalesce(Item.estimate, 0.0)
    open_ = Status.category != "done"
    return (
        select(
            func.coalesce(func.sum(points), 0.0),
            func.count(),
            func.coalesce(func.sum(case((open_, points), else_=0.0)), 0.0),
            func.coalesce(func.sum(case((open_, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Item.estimate.is_(None), 1), else_=0)), 0),
        )
        .select_from(Item)
        .join(Status, Status.id == Item.status_id)
        .where(Item.sprint_id == bindparam("sprint_id"), LIVE, Status.category != "cancelled")
    )


async def current_totals(session: AsyncSession, sprint_id: str) -> Totals:
    """The sprint's totals now, from the items themselves (what a replay to this instant gives).
    The statement is built once (it runs on every burndown)."""
    row = (await session.execute(_current_totals(), {"sprint_id": sprint_id})).one()
    return Totals(
        scope_points=float(row[0]),
        scope_items=int(row[1]),
        remaining_points=float(row[2]),
        remaining_items=int(row[3]),
        unestimated=int(row[4]),
    )


# Only what the replay reads, as plain rows: several times cheaper than ORM objects when a
# sprint has thousands of items.
_REPLAY_COLUMNS = (Event.type, Event.subject_id, Event.occurred_at, Event.data, Event.changes)


async def item_events(
    session: AsyncSession, subject_ids: Sequence[str], before: datetime | None
) -> list[Row[Any]]:
    if not subject_ids:
        return []
    stmt = select(*_REPLAY_COLUMNS).where(
        Event.subject_id.in_(list(subject_ids)),
        Event.type.in_(
            [t.event_type for t in (ItemCreated, ItemUpdated, ItemDeleted, ItemRestored)]
        ),
    )
    if before is not None:
        stmt = stmt.where(Event.occurred_at < before)
    return list((await session.execute(stmt.order_by(Event.occurred_at, Event.seq))).all())


async def finish_events(session: AsyncSession, project_id: str, since: datetime) -> list[Row[Any]]:
    """Events that may mark an item finished (entry into done) since `since`."""
    rows = await session.execute(
        select(*_REPLAY_COLUMNS).where(
            Event.project_id == project_id,
            Event.type.in_([ItemCreated.event_type, ItemUpdated.event_type]),
            Event.occurred_at >= since,
        )
    )
    return list(rows.all())


async def finish_events_mark(
    session: AsyncSession, project_id: str, since: datetime, until: datetime
) -> tuple[int, datetime | None]:
    """(how many, the latest time) of the events `finish_events` reads from `since` to before
    `until`: what tells whether that part of the log changed (the type and time index only)."""
    row = (
        await session.execute(
            select(func.count(), func.max(Event.occurred_at)).where(
                Event.project_id == project_id,
                Event.type.in_([ItemCreated.event_type, ItemUpdated.event_type]),
                Event.occurred_at >= since,
                Event.occurred_at < until,
            )
        )
    ).one()
    return int(row[0]), row[1]


async def first_item_event(session: AsyncSession, project_id: str) -> datetime | None:
    return await session.scalar(
        select(Event.occurred_at)
        .where(Event.project_id == project_id, Event.type == "item.created")
        .order_by(Event.occurred_at)
        .limit(1)
    )


async def item_categories(
    session: AsyncSession, project_id: str, keys: Sequence[str]
) -> dict[str, str]:
    """The status category of each of `keys` that is a live item of the project."""
    rows = await session.execute(
        select(Item.key, Status.category)
        .join(Status, Status.id == Item.status_id)
        .where(live_in_project(project_id), Item.key.in_(list(keys)))
    )
    return {str(row[0]): str(row[1]) for row in rows}


# Export and import (`takt.transfer`) ----------------------------------------------------------


async def project_sprints(session: AsyncSession, project_id: str) -> list[Sprint]:
    """Every sprint of the project with its commitment, oldest first."""
    return list(
        await session.scalars(sprints_of(project_id).order_by(Sprint.created_at, Sprint.id))
    )


async def project_capacity(
    session: AsyncSession, project_id: str
) -> list[tuple[str, str, SprintCapacity]]:
    """(sprint id, username, row) of every capacity row of the project's sprints."""
    rows = await session.execute(
        select(SprintCapacity.sprint_id, User.username, SprintCapacity)
        .join(Sprint, Sprint.id == SprintCapacity.sprint_id)
        .join(User, User.id == SprintCapacity.user_id)
        .where(Sprint.project_id == project_id)
        .order_by(User.username_key)
    )
    return [(sprint_id, username, row) for sprint_id, username, row in rows]


async def insert_imported(
    session: AsyncSession,
    *,
    sprints: Sequence[dict[str, Any]],
    capacity: Sequence[dict[str, Any]],
) -> None:
    """An imported project's sprints as they stood (state, commitment, report) and their
    capacity rows."""
    if sprints:
        await session.execute(insert(Sprint), list(sprints))
    if capacity:
        await session.execute(insert(SprintCapacity), list(capacity))
