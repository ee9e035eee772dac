"""Every query of stand-ups: config, entries, recorded summaries, and the reads drafts and
summaries make of the event log, items and sprint capacity."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Row,
    String,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from takt.auth.models import User
from takt.core.events import Event
from takt.core.time import utcnow
from takt.items.events import ItemCreated, ItemUpdated
from takt.items.models import Item, ItemLink
from takt.items.repository import live_in_project
from takt.projects.models import Project, ProjectMember
from takt.sprints.models import Sprint, SprintCapacity
from takt.standups.models import StandupConfig, StandupEntry, StandupSummary
from takt.workflow.models import Status


def _insert(session: AsyncSession) -> Any:
    return postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# Config --------------------------------------------------------------------------------------


async def get_config(session: AsyncSession, project_id: str) -> StandupConfig | None:
    return await session.get(StandupConfig, project_id)


async def config_for_update(
    session: AsyncSession, project_id: str, defaults: dict[str, Any]
) -> StandupConfig:
    """The project's config row, made with `defaults` at version 0 if there was none, and
    locked for this transaction (`FOR UPDATE` on PostgreSQL; SQLite's write transactions hold
    the database's one write lock). Two first writes at once: one inserts, the other finds its
    row once it committed, so neither fails."""
    now = utcnow()
    await session.execute(
        _insert(session)(StandupConfig)
        .values(project_id=project_id, created_at=now, updated_at=now, version=0, **defaults)
        .on_conflict_do_nothing(index_elements=["project_id"])
    )
    stmt = (
        select(StandupConfig)
        .where(StandupConfig.project_id == project_id)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row: StandupConfig = (await session.scalars(stmt)).one()
    return row


async def configs_of_live_projects(
    session: AsyncSession,
) -> list[tuple[str, str, dict[str, Any], StandupConfig | None]]:
    """(id, key, settings, config or None) of every project not deleted, for the cut-off sweep:
    one statement whatever the number of projects."""
    rows = await session.execute(
        select(Project.id, Project.key, Project.settings, StandupConfig)
        .outerjoin(StandupConfig, StandupConfig.project_id == Project.id)
        .where(Project.deleted_at.is_(None))
        .order_by(Project.id)
    )
    return [(r[0], r[1], r[2] or {}, r[3]) for r in rows]


# Entries -------------------------------------------------------------------------------------


async def upsert_entry(session: AsyncSession, values: dict[str, Any]) -> StandupEntry:
    """Insert the member's entry for the day, or update the one there: one statement, so two
    concurrent submissions leave one row (the unique constraint decides; on PostgreSQL the
    second waits for the first and then updates its row). `late` only ever turns on; the first
    submission's time is kept."""
    table = StandupEntry.__table__
    statement = _insert(session)(StandupEntry).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=["project_id", "user_id", "standup_date"],
        set_={
            "answers": statement.excluded.answers,
            "blocked": statement.excluded.blocked,
            "late": or_(table.c.late, statement.excluded.late),
            "updated_at": statement.excluded.updated_at,
            "version": table.c.version + 1,
        },
    ).returning(StandupEntry)
    result = await session.scalars(statement, execution_options={"populate_existing": True})
    entry: StandupEntry = result.one()
    return entry


async def set_entry_blockers(
    session: AsyncSession, entry: StandupEntry, blocker_ids: list[str]
) -> None:
    """Record the blockers raised through the entry, as part of the write that upserted it (no
    second version: the row and the loaded entry both just gain the ids)."""
    await session.execute(
        update(StandupEntry)
        .where(StandupEntry.id == entry.id)
        .values(blocker_ids=blocker_ids)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(entry, "blocker_ids", blocker_ids)


async def entries_up_to(
    session: AsyncSession, project_id: str, user_id: str, day: date
) -> tuple[tuple[StandupEntry, User] | None, StandupEntry | None]:
    """(the member's entry for `day` with its author, their latest entry of a day before), in
    one statement (the unique constraint's index, read from `day` back)."""
    rows = list(
        await session.execute(
            select(StandupEntry, User)
            .join(User, User.id == StandupEntry.user_id)
            .where(
                StandupEntry.project_id == project_id,
                StandupEntry.user_id == user_id,
                StandupEntry.standup_date <= day,
            )
            .order_by(StandupEntry.standup_date.desc())
            .limit(2)
        )
    )
    if rows and rows[0][0].standup_date == day:
        return (rows[0][0], rows[0][1]), rows[1][0] if len(rows) > 1 else None
    return None, rows[0][0] if rows else None


async def entries_of_day(
    session: AsyncSession, project_id: str, day: date
) -> list[tuple[StandupEntry, User]]:
    """The day's entries with their authors, by username."""
    rows = await session.execute(
        select(StandupEntry, User)
        .join(User, User.id == StandupEntry.user_id)
        .where(StandupEntry.project_id == project_id, StandupEntry.standup_date == day)
        .order_by(User.username_key)
    )
    return [(entry, user) for entry, user in rows]


# People --------------------------------------------------------------------------------------


async def absent_on(session: AsyncSession, project_id: str, day: date) -> set[str]:
    """Ids of the people who are away on `day` by the capacity of the project's sprints that
    span it (planned, active or completed; a cancelled sprint's plans are void). Capacity keeps
    each member's absent dates, so this is exact per day."""
    rows = await session.execute(
        select(SprintCapacity.user_id, SprintCapacity.absent_days)
        .join(Sprint, Sprint.id == SprintCapacity.sprint_id)
        .where(
            Sprint.project_id == project_id,
            Sprint.state != "cancelled",
            Sprint.start_date <= day,
            Sprint.end_date >= day,
        )
    )
    wanted = day.isoformat()
    return {user_id for user_id, days in rows if wanted in (days or [])}


# Recorded summaries --------------------------------------------------------------------------


async def recorded_up_to(
    session: AsyncSession, project_id: str, day: date
) -> tuple[StandupSummary | None, StandupSummary | None]:
    """(the summary recorded for `day`, the latest recorded before it), in one statement."""
    rows = list(
        await session.scalars(
            select(StandupSummary)
            .where(StandupSummary.project_id == project_id, StandupSummary.standup_date <= day)
            .order_by(StandupSummary.standup_date.desc())
            .limit(2)
        )
    )
    if rows and rows[0].standup_date == day:
        return rows[0], rows[1] if len(rows) > 1 else None
    return None, rows[0] if rows else None


async def recorded_on(
    session: AsyncSession, pairs: Sequence[tuple[str, date]]
) -> set[tuple[str, date]]:
    """Which of the (project id, day) pairs have a recorded summary, in one statement."""
    if not pairs:
        return set()
    key = tuple_(StandupSummary.project_id, StandupSummary.standup_date)
    rows = await session.execute(
        select(StandupSummary.project_id, StandupSummary.standup_date).where(key.in_(list(pairs)))
    )
    return {(p, d) for p, d in rows}


async def insert_summary(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Record a day's summary unless one is there: True for exactly one caller per project and
    day (two sweeps that race both try; the unique constraint lets one insert)."""
    statement = (
        _insert(session)(StandupSummary)
        .values(values)
        .on_conflict_do_nothing(index_elements=["project_id", "standup_date"])
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


# The event log, for drafts -------------------------------------------------------------------

# Only what a draft shows, as plain rows.
_LINE_COLUMNS = (
    Event.id,
    Event.seq,
    Event.type,
    Event.subject_id,
    Event.occurred_at,
    Event.data,
    Event.changes,
)


async def actor_events(
    session: AsyncSession,
    project_id: str,
    actor_id: str,
    types: Sequence[str],
    since: datetime,
    until: datetime,
    *,
    limit: int,
    changed: str | None = None,
) -> list[Row[Any]]:
    """The member's latest `limit` events of `types` in the project over [since, until), oldest
    first (the index on project, actor and time keeps it to the period's events, read from its
    end). A long period keeps its most recent events, the ones a stand-up is about. `changed`:
    only events whose `changes` name that field (read in SQL, so the rows not shown are never
    decoded)."""
    stmt = select(*_LINE_COLUMNS).where(
        Event.project_id == project_id,
        Event.actor_id == actor_id,
        Event.occurred_at >= since,
        Event.occurred_at < until,
        Event.type.in_(list(types)),
    )
    if changed is not None:
        stmt = stmt.where(Event.changes[changed].as_string().is_not(None))
    stmt = stmt.order_by(Event.occurred_at.desc(), Event.seq.desc()).limit(limit)
    return list((await session.execute(stmt)).all())[::-1]


# The draft's reads below run for every draft with the same shape: each statement is built once
# (with bound parameters) and reused, as building the select, its subqueries and aliases cost
# more than running it. SQLAlchemy caches their compiled form as it does any statement's.


@functools.cache
def _actor_events_statement(kinds: tuple[tuple[str, str | None], ...], limit: int) -> Any:
    parts = []
    for index, (event_type, changed) in enumerate(kinds):
        stmt = select(*_LINE_COLUMNS, literal(index).label("kind")).where(
            Event.project_id == bindparam("project_id"),
            Event.actor_id == bindparam("actor_id"),
            Event.occurred_at >= bindparam("since"),
            Event.occurred_at < bindparam("until"),
            Event.type == event_type,
        )
        if changed is not None:
            stmt = stmt.where(Event.changes[changed].as_string().is_not(None))
        latest = stmt.order_by(Event.occurred_at.desc(), Event.seq.desc()).limit(limit).subquery()
        parts.append(select(latest))
    return union_all(*parts)


async def actor_events_of_kinds(
    session: AsyncSession,
    project_id: str,
    actor_id: str,
    kinds: Sequence[tuple[str, str | None]],
    since: datetime,
    until: datetime,
    *,
    limit: int,
) -> list[list[Row[Any]]]:
    """`actor_events` for each of `kinds` (an event type, and the field its `changes` must name
    or None), in one statement: each kind's latest `limit` rows, oldest first."""
    found: list[list[Row[Any]]] = [[] for _ in kinds]
    connection = await session.connection()  # plain rows: no ORM result processing
    rows = await connection.execute(
        _actor_events_statement(tuple(kinds), limit),
        {"project_id": project_id, "actor_id": actor_id, "since": since, "until": until},
    )
    for row in rows:
        found[row.kind].append(row)
    for kind_rows in found:
        kind_rows.sort(key=lambda row: (row.occurred_at, row.seq))
    return found


async def assigned_items(
    session: AsyncSession,
    project_id: str,
    user_id: str,
    *,
    categories: Sequence[str] | None = None,
    blocked: bool | None = None,
    limit: int,
) -> list[tuple[str, str, str, str, str]]:
    """(id, key, title, status name, category) of the live items assigned to the member, by
    key number (the project's assignee index)."""
    stmt = (
        select(Item.id, Item.key, Item.title, Status.name, Status.category)
        .join(Status, Status.id == Item.status_id)
        .where(live_in_project(project_id), Item.assignee_id == user_id)
    )
    if categories is not None:
        stmt = stmt.where(Status.category.in_(list(categories)))
    if blocked is not None:
        stmt = stmt.where(Item.blocked.is_(blocked))
    stmt = stmt.order_by(Item.number).limit(limit)
    return [(r[0], r[1], r[2], r[3], r[4]) for r in await session.execute(stmt)]


@functools.cache
def _draft_items_statement(
    in_progress: tuple[str, ...], blocked: tuple[str, ...], limit: int
) -> Any:
    blocking, blocking_status = aliased(Item, name="blocking"), aliased(Status)
    blocked_by = (
        select(blocking.key)
        .join(ItemLink, ItemLink.source_id == blocking.id)
        .join(blocking_status, blocking_status.id == blocking.status_id)
        .where(
            ItemLink.target_id == Item.id,
            ItemLink.type == "blocks",
            blocking.deleted_at.is_(None),
            blocking_status.category.not_in(("done", "cancelled")),
        )
        .order_by(ItemLink.created_at, blocking.number)
        .limit(1)
        .correlate(Item)
        .scalar_subquery()
    )
    mine = and_(
        Item.project_id == bindparam("project_id"),
        Item.deleted_at.is_(None),
        Item.assignee_id == bindparam("user_id"),
    )
    working = (
        select(
            Item.id,
            Item.key,
            Status.name,
            Status.category,
            literal(None, String()).label("blocked_by"),
            literal(0).label("part"),
            Item.number,
        )
        .join(Status, Status.id == Item.status_id)
        .where(mine, Status.category.in_(in_progress))
        .order_by(Item.number)
        .limit(limit)
        .subquery()
    )
    stuck = (
        select(
            Item.id,
            Item.key,
            Status.name,
            Status.category,
            blocked_by.label("blocked_by"),
            literal(1).label("part"),
            Item.number,
        )
        .join(Status, Status.id == Item.status_id)
        .where(mine, Status.category.in_(blocked), Item.blocked.is_(True))
        .order_by(Item.number)
        .limit(limit)
        .subquery()
    )
    return union_all(select(working), select(stuck))


async def draft_items(
    session: AsyncSession,
    project_id: str,
    user_id: str,
    *,
    in_progress: Sequence[str],
    blocked: Sequence[str],
    limit: int,
) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str, str, str | None]]]:
    """(the member's live items in the `in_progress` categories: (id, key, status name,
    category); those flagged blocked in the `blocked` categories: (id, key, status name, the
    key of the item it is blocked by)), each by key number and at most `limit`, in one
    statement. The item it is blocked by is the first linked (Y `blocks` X) that is unfinished
    and outside the trash, or None."""
    found: tuple[list[Any], list[Any]] = ([], [])
    connection = await session.connection()  # plain rows: no ORM result processing
    rows = await connection.execute(
        _draft_items_statement(tuple(in_progress), tuple(blocked), limit),
        {"project_id": project_id, "user_id": user_id},
    )
    for row in rows:
        found[row.part].append(row)
    for part in found:
        part.sort(key=lambda row: row.number)
    return (
        [(r[0], r[1], r[2], r[3]) for r in found[0]],
        [(r[0], r[1], r[2], r[4]) for r in found[1]],
    )


@functools.cache
def _latest_events_statement(fields: tuple[tuple[int, str], ...]) -> Any:
    parts = [
        select(func.max(Event.seq).label("seq"), literal(index).label("part"))
        .where(
            Event.subject_id.in_(bindparam(f"subjects_{index}", expanding=True)),
            or_(
                Event.type == ItemCreated.event_type,
                and_(
                    Event.type == ItemUpdated.event_type,
                    Event.changes[field].as_string().is_not(None),
                ),
            ),
        )
        .group_by(Event.subject_id)
        for index, field in fields
    ]
    latest = union_all(*parts).subquery()
    return select(latest.c.part, Event.subject_id, Event.id, Event.occurred_at).join(
        latest, latest.c.seq == Event.seq
    )


async def latest_events_changing_each(
    session: AsyncSession, asked: Sequence[tuple[Sequence[str], str]]
) -> list[dict[str, tuple[str, datetime]]]:
    """`latest_events_changing` for each (subject ids, field) of `asked`, in one statement."""
    found: list[dict[str, tuple[str, datetime]]] = [{} for _ in asked]
    fields = tuple((index, field) for index, (ids, field) in enumerate(asked) if ids)
    if not fields:
        return found
    params = {f"subjects_{index}": list(asked[index][0]) for index, _ in fields}
    connection = await session.connection()  # plain rows: no ORM result processing
    rows = await connection.execute(_latest_events_statement(fields), params)
    for part, subject, event_id, at in rows:
        found[part][str(subject)] = (str(event_id), at)
    return found


async def latest_events_changing(
    session: AsyncSession, subject_ids: Sequence[str], field: str
) -> dict[str, tuple[str, datetime]]:
    """For each item, the (event id, time) of the latest event that set `field`: its creation,
    or an update whose changes name it. One statement (the subject index)."""
    if not subject_ids:
        return {}
    latest = (
        select(func.max(Event.seq))
        .where(
            Event.subject_id.in_(list(subject_ids)),
            or_(
                Event.type == ItemCreated.event_type,
                and_(
                    Event.type == ItemUpdated.event_type,
                    Event.changes[field].as_string().is_not(None),
                ),
            ),
        )
        .group_by(Event.subject_id)
    )
    rows = await session.execute(
        select(Event.subject_id, Event.id, Event.occurred_at).where(Event.seq.in_(latest))
    )
    return {str(subject): (str(event_id), at) for subject, event_id, at in rows}


async def open_items_in_sprint(session: AsyncSession, sprint_id: str) -> int:
    """How many live items of the sprint are not finished (done or cancelled): the count the
    sprint forecast simulates (`sprints.reports.sprint_forecast`), as one aggregate."""
    count = await session.scalar(
        select(func.count())
        .select_from(Item)
        .join(Status, Status.id == Item.status_id)
        .where(
            Item.sprint_id == sprint_id,
            Item.deleted_at.is_(None),
            Status.category.not_in(("done", "cancelled")),
        )
    )
    return int(count or 0)


async def titles_of(session: AsyncSession, project_id: str, keys: Sequence[str]) -> dict[str, str]:
    """The current title of each of `keys` that is a live item of the project."""
    if not keys:
        return {}
    rows = await session.execute(
        select(Item.key, Item.title).where(live_in_project(project_id), Item.key.in_(list(keys)))
    )
    return {str(key): str(title) for key, title in rows}


async def events_of_subjects(
    session: AsyncSession, event_type: str, subject_ids: Sequence[str]
) -> dict[str, tuple[str, datetime]]:
    """(event id, time) of the first event of `event_type` about each subject."""
    if not subject_ids:
        return {}
    rows = await session.execute(
        select(Event.subject_id, Event.id, Event.occurred_at)
        .where(Event.subject_id.in_(list(subject_ids)), Event.type == event_type)
        .order_by(Event.seq)
    )
    found: dict[str, tuple[str, datetime]] = {}
    for subject, event_id, at in rows:
        found.setdefault(str(subject), (str(event_id), at))
    return found


# Small reads and writes the service needs -----------------------------------------------------


async def save_config(session: AsyncSession, row: StandupConfig) -> None:
    session.add(row)
    await session.flush()


async def member_roles(
    session: AsyncSession, project_id: str, user_ids: Sequence[str]
) -> dict[str, str]:
    """The project role of each of `user_ids` that is a member."""
    if not user_ids:
        return {}
    rows = await session.execute(
        select(ProjectMember.user_id, ProjectMember.role).where(
            ProjectMember.project_id == project_id, ProjectMember.user_id.in_(list(user_ids))
        )
    )
    return {str(user_id): str(role) for user_id, role in rows}


async def with_entries_on(
    session: AsyncSession, pairs: Sequence[tuple[str, date]]
) -> set[tuple[str, date]]:
    """Which of the (project id, day) pairs have at least one entry (the day's index)."""
    if not pairs:
        return set()
    key = tuple_(StandupEntry.project_id, StandupEntry.standup_date)
    rows = await session.execute(
        select(StandupEntry.project_id, StandupEntry.standup_date)
        .where(key.in_(list(pairs)))
        .distinct()
    )
    return {(p, d) for p, d in rows}


# Export and import (`takt.transfer`) ----------------------------------------------------------


async def project_entries(session: AsyncSession, project_id: str) -> list[tuple[StandupEntry, str]]:
    """Every stand-up entry of the project with its author's username, by day, then in the
    order they were submitted."""
    rows = await session.execute(
        select(StandupEntry, User.username)
        .join(User, User.id == StandupEntry.user_id)
        .where(StandupEntry.project_id == project_id)
        .order_by(StandupEntry.standup_date, StandupEntry.submitted_at, StandupEntry.id)
    )
    return [(entry, str(username)) for entry, username in rows]


async def project_summaries(session: AsyncSession, project_id: str) -> list[StandupSummary]:
    """Every summary recorded for the project, by day."""
    return list(
        await session.scalars(
            select(StandupSummary)
            .where(StandupSummary.project_id == project_id)
            .order_by(StandupSummary.standup_date)
        )
    )


async def insert_imported(
    session: AsyncSession,
    *,
    config: dict[str, Any] | None,
    entries: Sequence[dict[str, Any]],
    summaries: Sequence[dict[str, Any]],
) -> None:
    """An imported project's stand-up config, entries and recorded summaries as they stood, in
    one INSERT per table."""
    from sqlalchemy import insert  # here, so this section only appends to the module

    if config is not None:
        await session.execute(insert(StandupConfig), [config])
    for model, rows in ((StandupEntry, entries), (StandupSummary, summaries)):
        if rows:
            await session.execute(insert(model), list(rows))
