"""Every query of blockers: one blocker or a list with what it shows, the open ones of an item,
suggestions from item links, the escalation sweep's update, and the points a blocker holds up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from takt.auth.models import User
from takt.blockers.models import Blocker
from takt.items.models import Item, ItemLink
from takt.items.repository import LIVE
from takt.projects.models import Project
from takt.projects.repository import ChildFinder
from takt.sprints import repository as sprints_repo
from takt.workflow.models import Status

RaisedBy = aliased(User, name="raised_by")
ResolvedBy = aliased(User, name="resolved_by")
WaitingUser = aliased(User, name="waiting_user")
WaitingItem = aliased(Item, name="waiting_item")
Blocking = aliased(Item, name="blocking")
FINISHED = ("done", "cancelled")
AnySelect = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class BlockerRow:
    """A blocker with what its answer shows besides its own columns."""

    blocker: Blocker
    item_key: str
    raised_by: User | None
    resolved_by: User | None
    waiting_user: User | None
    waiting_item_key: str | None

    @classmethod
    def of(cls, row: Sequence[Any]) -> BlockerRow:
        """From the columns of `SHOWN` after the blocker, in their order."""
        blocker, item_key, raised_by, resolved_by, waiting_user, waiting_item_key = row
        return cls(blocker, item_key, raised_by, resolved_by, waiting_user, waiting_item_key)


# What a blocker's answer shows besides the blocker, in `BlockerRow`'s order.
SHOWN = (Item.key, RaisedBy, ResolvedBy, WaitingUser, WaitingItem.key)


def _join_shown(stmt: AnySelect) -> AnySelect:
    return (
        stmt.join(Item, Item.id == Blocker.item_id)
        .outerjoin(RaisedBy, RaisedBy.id == Blocker.raised_by_id)
        .outerjoin(ResolvedBy, ResolvedBy.id == Blocker.resolved_by_id)
        .outerjoin(WaitingUser, WaitingUser.id == Blocker.waiting_on_user_id)
        .outerjoin(WaitingItem, WaitingItem.id == Blocker.waiting_on_item_id)
    )


# A blocker's answer as plain columns, no ORM objects: for the long lists a read shows at once
# (a stand-up summary's 200 open blockers), where loading a `Blocker` and its people per row
# cost a third of the answer. `views.blocker_data_of` reads them in this order.
PLAIN = (
    Blocker.id,
    Item.key.label("item_key"),
    Blocker.reason,
    Blocker.waiting_on_kind,
    Blocker.waiting_on_name,
    WaitingUser.id.label("waiting_user_id"),
    WaitingUser.username.label("waiting_user_username"),
    WaitingUser.display_name.label("waiting_user_display_name"),
    WaitingItem.key.label("waiting_item_key"),
    Blocker.status,
    RaisedBy.id.label("raised_by_id"),
    RaisedBy.username.label("raised_by_username"),
    RaisedBy.display_name.label("raised_by_display_name"),
    Blocker.raised_at,
    ResolvedBy.id.label("resolved_by_id"),
    ResolvedBy.username.label("resolved_by_username"),
    ResolvedBy.display_name.label("resolved_by_display_name"),
    Blocker.resolved_at,
    Blocker.resolved_age_hours,
    Blocker.resolution,
    Blocker.escalated_at,
    Blocker.risk_id,
    Blocker.created_at,
    Blocker.updated_at,
    Blocker.version,
)


def plain_blockers_of(project_id: Any, *, state: str | None = None) -> AnySelect:
    """`blockers_of` as the columns of `PLAIN` (`project_id` may be a bound parameter)."""
    stmt = _join_shown(select(*PLAIN)).where(Blocker.project_id == project_id, LIVE)
    if state is not None:
        stmt = stmt.where(Blocker.status == state)
    return stmt


# The blocker of a `/blockers/{blocker_id}` path with its project and what it shows
# (`projects.service.load_in_project`): one statement. A blocker of an item in the trash is
# not found, like the item itself (docs/work-items.md), until the item is restored.
BLOCKER_BY_ID = ChildFinder[Blocker](
    lambda: (
        _join_shown(select(Blocker, Project, *SHOWN))
        .join(Project, Project.id == Blocker.project_id)
        .where(Blocker.id == bindparam("blocker_id"), LIVE)
    ),
    param="blocker_id",
)


async def get_row(session: AsyncSession, blocker_id: str) -> BlockerRow:
    """A blocker with what it shows (after a write changed it)."""
    row = (
        await session.execute(_join_shown(select(Blocker, *SHOWN)).where(Blocker.id == blocker_id))
    ).one()
    return BlockerRow.of(row)


def blockers_of(
    project_id: str,
    *,
    state: str | None = None,
    item_key: str | None = None,
    waiting_on: str | None = None,
    raised_by: str | None = None,
    older_than: tuple[datetime, float] | None = None,
) -> AnySelect:
    """The project's blockers on items outside the trash, with what they show, narrowed by
    the filters given (a statement to page). `older_than` is (the instant an open blocker must
    have been raised before, the hours a resolved one must have lasted more than)."""
    stmt = _join_shown(select(Blocker, *SHOWN)).where(Blocker.project_id == project_id, LIVE)
    if state is not None:
        stmt = stmt.where(Blocker.status == state)
    if item_key is not None:
        stmt = stmt.where(Item.key == item_key)
    if waiting_on is not None:
        stmt = stmt.where(Blocker.waiting_on_kind == waiting_on)
    if raised_by is not None:
        stmt = stmt.where(or_(RaisedBy.id == raised_by, RaisedBy.username_key == raised_by.lower()))
    if older_than is not None:
        raised_before, lasted_more = older_than
        stmt = stmt.where(
            or_(
                and_(Blocker.status == "open", Blocker.raised_at < raised_before),
                and_(Blocker.status == "resolved", Blocker.resolved_age_hours > lasted_more),
            )
        )
    return stmt


async def count_open_on(session: AsyncSession, item_id: str) -> int:
    """How many open blockers the item has."""
    count = await session.scalar(
        select(func.count())
        .select_from(Blocker)
        .where(Blocker.item_id == item_id, Blocker.status == "open")
    )
    return int(count or 0)


async def promoted_to(session: AsyncSession, risk_id: str) -> Blocker | None:
    return await session.scalar(select(Blocker).where(Blocker.risk_id == risk_id))


def suggestions_of(project_id: str) -> AnySelect:
    """Item links "X blocked by Y" (stored as Y `blocks` X) of the project, both unfinished and
    outside the trash, that no open blocker of X waiting on Y records yet: (link, X's key, Y's
    key). A statement to page."""
    recorded = exists().where(
        Blocker.item_id == ItemLink.target_id,
        Blocker.waiting_on_item_id == ItemLink.source_id,
        Blocker.status == "open",
    )
    blocked_status, blocking_status = aliased(Status), aliased(Status)
    return (
        select(ItemLink, Item.key, Blocking.key)
        .join(Item, Item.id == ItemLink.target_id)
        .join(Blocking, Blocking.id == ItemLink.source_id)
        .join(blocked_status, blocked_status.id == Item.status_id)
        .join(blocking_status, blocking_status.id == Blocking.status_id)
        .where(
            ItemLink.type == "blocks",
            Item.project_id == project_id,
            LIVE,
            Blocking.deleted_at.is_(None),
            blocked_status.category.not_in(FINISHED),
            blocking_status.category.not_in(FINISHED),
            ~recorded,
        )
    )


# Escalation ------------------------------------------------------------------------------------


async def projects_to_sweep(session: AsyncSession) -> list[Project]:
    """Projects (not deleted) with an open blocker that is not escalated yet."""
    pending = select(Blocker.project_id).where(
        Blocker.status == "open", Blocker.escalated_at.is_(None)
    )
    return list(
        await session.scalars(
            select(Project)
            .where(Project.id.in_(pending), Project.deleted_at.is_(None))
            .order_by(Project.id)
        )
    )


async def escalate_raised_before(
    session: AsyncSession, project_id: str, raised_before: datetime, now: datetime
) -> list[BlockerRow]:
    """Mark escalated the project's open blockers on live items raised before `raised_before`
    and not escalated yet; each with what it shows (its item, who raised it, whom or what it
    waits on: what `blocker.escalated` says), by id. Two statements and the update.

    Two sweeps at once escalate each blocker once: the rows are locked in id order (so two
    sweeps can't deadlock), and the UPDATE's condition is the guard, since a row the other
    sweep escalated first no longer matches it (PostgreSQL re-checks the row it waited for;
    SQLite runs one writer at a time)."""
    due = and_(
        Blocker.project_id == project_id,
        Blocker.status == "open",
        Blocker.escalated_at.is_(None),
    )
    live_items = select(Item.id).where(Item.project_id == project_id, LIVE)
    chosen = (
        select(Blocker.id)
        .where(due, Blocker.raised_at < raised_before, Blocker.item_id.in_(live_items))
        .order_by(Blocker.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        chosen = chosen.with_for_update(of=Blocker)
    ids = list(await session.scalars(chosen))
    if not ids:
        return []
    escalated = await session.execute(
        update(Blocker)
        .where(due, Blocker.id.in_(ids))
        .values(escalated_at=now, updated_at=now, version=Blocker.version + 1)
        .returning(Blocker.id)
        # Rows this session already holds take the new values (and version) too.
        .execution_options(synchronize_session="fetch")
    )
    done = [blocker_id for (blocker_id,) in escalated]
    if not done:
        return []
    shown = await session.execute(
        _join_shown(select(Blocker, *SHOWN))
        .where(Blocker.id.in_(done))
        .order_by(Blocker.id)
        .execution_options(populate_existing=True)
    )
    return [BlockerRow.of(row) for row in shown]


# The points a blocker holds up -------------------------------------------------------------------


async def active_sprint_scope(
    session: AsyncSession, project_id: str
) -> list[tuple[str, str | None, str | None, float | None, str]]:
    """(id, parent id, grandparent id, estimate, status category) of each live item in the
    project's active sprint (none without one)."""
    parent = aliased(Item, name="parent")
    rows = await session.execute(
        select(Item.id, Item.parent_id, parent.parent_id, Item.estimate, Status.category)
        .join(Status, Status.id == Item.status_id)
        .outerjoin(parent, parent.id == Item.parent_id)
        .where(Item.sprint_id.in_(sprints_repo.active_ids(project_id)), LIVE)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def item_of(session: AsyncSession, blocker: Blocker) -> Item:
    """The blocked item (in the trash or not)."""
    item = await session.get(Item, blocker.item_id)
    assert item is not None  # the foreign key cascades: a blocker's item exists
    return item


# Export and import (`takt.transfer`) ----------------------------------------------------------


async def project_blockers(session: AsyncSession, project_id: str) -> list[Blocker]:
    """The project's blockers on items outside the trash, oldest first."""
    return list(
        await session.scalars(
            select(Blocker)
            .join(Item, Item.id == Blocker.item_id)
            .where(Blocker.project_id == project_id, LIVE)
            .order_by(Blocker.created_at, Blocker.id)
        )
    )


async def insert_imported(session: AsyncSession, blockers: Sequence[dict[str, Any]]) -> None:
    """An imported project's blockers as they stood, in one INSERT."""
    from sqlalchemy import insert  # here, so this section only appends to the module

    if blockers:
        await session.execute(insert(Blocker), list(blockers))
