"""Every query of work items, their labels, links and comments.

Items are only ever found inside a project the caller can see (`takt.projects.service.access`),
so each query here takes a project id that already passed the visibility rule. Items in the
trash are left out of every read by `LIVE` (the trash rule), here and in the other domains that
query items; the few queries that must see them too say so.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    String,
    Text,
    and_,
    bindparam,
    delete,
    false,
    func,
    insert,
    inspect,
    literal,
    not_,
    or_,
    select,
    true,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, make_transient_to_detached

from takt.auth.models import User
from takt.auth.principal import Principal
from takt.core.direct import DirectReader
from takt.core.events import Event, mark_emitted
from takt.core.models import UTCDateTime, new_id
from takt.core.pagination import keyset_page, page_params
from takt.items import progress, pull_request_directory, sprint_directory
from takt.items.models import Comment, Item, ItemLabel, ItemLink
from takt.items.search import SORTS
from takt.projects.models import Project
from takt.projects.repository import (
    ChildFinder,
    next_item_slot,
    viewer_params,
    viewer_shape,
    visible_to,
)
from takt.workflow.models import Label, Status

Assignee = aliased(User, name="assignee")
Reporter = aliased(User, name="reporter")
Parent = aliased(Item, name="parent")

ItemRow = Row[*tuple[Any, ...]]
AnySelect = Select[*tuple[Any, ...]]

# The trash rule: an item in the trash is invisible to every read (lists, search, the board,
# detail, links, children, sprint scope and numbers, counts, export) until it is restored. Added
# to each statement where it is built, not by a session-wide loader criterion: that re-hashes
# every statement on every execution (~200 µs, more than reading an item costs).
LIVE = Item.deleted_at.is_(None)


def live_in_project(project_id: str) -> ColumnElement[bool]:
    """The project's items outside the trash."""
    return and_(Item.project_id == project_id, LIVE)


# Joins label names into one string per item (label names can't contain control characters).
LABEL_SEPARATOR = "\x1f"


def _label_names_column() -> Any:
    return (
        select(func.aggregate_strings(Label.name, LABEL_SEPARATOR))
        .select_from(ItemLabel)
        .join(Label, Label.id == ItemLabel.label_id)
        .where(ItemLabel.item_id == Item.id)
        .correlate(Item)
        .scalar_subquery()
        .label("label_names")
    )


# An item's own columns that a summary shows, in `views.ITEM_FIELDS` order. Reading rows of
# columns is several times cheaper than loading five ORM entities per item.
_ITEM_COLUMNS = (
    Item.id,
    Item.key,
    Item.type,
    Item.title,
    Item.priority,
    Item.estimate,
    Item.sprint_id,
    Item.due_date,
    Item.blocked,
    Item.rank,
    Item.number,
    Item.created_at,
    Item.updated_at,
    Item.started_at,
    Item.finished_at,
    Item.version,
    Item.status_id,
    Item.assignee_id,
    Item.reporter_id,
    Item.dor_checked,
)
# After them, whether the item has a description (its readiness), without the text itself.
_HAS_DESCRIPTION = (Item.description != "").label("has_description")


def _shown_columns() -> tuple[Any, ...]:
    """What an item shows besides its own columns, in `views.Shown` order; `_join_shown` brings
    the tables they come from."""
    return (
        Status.name.label("status_name"),
        Status.category.label("status_category"),
        Assignee.username.label("assignee_username"),
        Assignee.display_name.label("assignee_display_name"),
        Reporter.username.label("reporter_username"),
        Reporter.display_name.label("reporter_display_name"),
        Parent.key.label("parent_key"),
        _label_names_column(),
        # The pull requests that name the item, asked of delivery through the port.
        pull_request_directory.directory().states(Item.id).label("pull_request_states"),
        # The name of the item's sprint, asked of sprints through the port.
        sprint_directory.directory().name_of(Item.sprint_id).label("sprint_name"),
    )


def _join_shown(stmt: AnySelect) -> AnySelect:
    return (
        stmt.join(Status, Status.id == Item.status_id)
        .outerjoin(Assignee, Assignee.id == Item.assignee_id)
        .outerjoin(Reporter, Reporter.id == Item.reporter_id)
        .outerjoin(Parent, and_(Parent.id == Item.parent_id, Parent.deleted_at.is_(None)))
    )


@functools.cache
def item_rows(*, description: bool = False) -> AnySelect:
    """Items with everything a summary shows, labels included: one row of columns per item
    (`views.SUMMARY_FIELDS`), one query for any number of items. `views` turns the rows into API
    shapes.

    Built once: constructing this select (aliases, joins, the label subquery) cost ~350 µs, a
    tenth of a list request. Selects are immutable (`.where()` returns a new one), so sharing it
    is safe."""
    extra = (Item.description,) if description else ()
    return _join_shown(select(*_ITEM_COLUMNS, _HAS_DESCRIPTION, *_shown_columns(), *extra)).where(
        LIVE
    )


@functools.cache
def project_items_page(sort: str, after: bool) -> AnySelect:
    """The item list's page of one project (`project_id`) with no filter, in `sort` order, after
    a cursor or not: a `paginate` statement built once. Performance: the list page's statement
    rebuilt per request recomputed its SQL cache key each time (about 460 Python calls, a tenth
    of a list request; bench/RESULTS.md, session 10)."""
    stmt = item_rows().where(Item.project_id == bindparam("project_id"))
    return keyset_page(stmt, SORTS[sort], after=after)


async def direct_project_page(
    reader: DirectReader, project_id: str, sort: str, after: Sequence[Any], limit: int
) -> list[ItemRow]:
    """`project_items_page` on the direct path (takt.core.direct): the same statement, run on
    the driver, for a page of `limit` after the keyset `after` (`pagination.page_params`: one
    row more, for `pagination.cut_page`)."""
    params = {"project_id": project_id, **page_params(after, limit)}
    rows = await reader.all(project_items_page(sort, bool(after)), params)
    # Named tuples: read by position and by column name, as the Rows of the session path.
    return cast(list[ItemRow], rows)


async def label_names(session: AsyncSession, item_ids: Sequence[str]) -> dict[str, list[str]]:
    """Label names per item id, in one query."""
    found: dict[str, list[str]] = defaultdict(list)
    if not item_ids:
        return found
    rows = await session.execute(
        select(ItemLabel.item_id, Label.name)
        .join(Label, Label.id == ItemLabel.label_id)
        .where(ItemLabel.item_id.in_(list(item_ids)))
        .order_by(Label.name)
    )
    for item_id, name in rows:
        found[item_id].append(name)
    return found


@functools.cache
def _visible_detail(*, admin: bool, limited: bool) -> AnySelect:
    # The project's settings follow the description: the item shows its readiness against the
    # project's Definition of Ready (`views.detail_row`).
    return visible_to(
        item_rows(description=True)
        .join(Project, Project.id == Item.project_id)
        .add_columns(Project.settings),
        admin=admin,
        limited=limited,
    ).where(Item.key == bindparam("item_key"), LIVE)


# The item of an `/items/{item_key}` path with its project and what it shows besides its own
# columns (`views.Shown`), for `projects.service.load_in_project`.
ITEM_BY_KEY = ChildFinder[Item](
    lambda: (
        _join_shown(select(Item, Project, *_shown_columns()))
        .join(Project, Project.id == Item.project_id)
        .where(Item.key == bindparam("item_key"), LIVE)
    ),
    param="item_key",
)


async def get_visible_detail(
    session: AsyncSession, principal: Principal, key: str
) -> ItemRow | None:
    """The detail row of an item (`item_rows(description=True)`, then its project's settings),
    if the principal may see its project (one query)."""
    stmt = _visible_detail(**viewer_shape(principal))
    params = {**viewer_params(principal), "item_key": key}
    row: ItemRow | None = (await session.execute(stmt, params)).first()
    return row


async def direct_visible_detail(
    reader: DirectReader, principal: Principal, key: str
) -> ItemRow | None:
    """`get_visible_detail` on the direct path (takt.core.direct): the same statement, run on
    the driver. Not for tokens limited to projects (their statement takes a list)."""
    stmt = _visible_detail(admin=principal.is_admin, limited=False)
    row = await reader.first(stmt, {**viewer_params(principal), "item_key": key})
    # A named tuple: read by position and by column name, as the Row of the session path.
    return cast(ItemRow | None, row)


async def get_item(session: AsyncSession, project_id: str, key: str) -> Item | None:
    return await session.scalar(select(Item).where(live_in_project(project_id), Item.key == key))


async def hold_parent(
    session: AsyncSession, project_id: str, *, key: str | None = None, item_id: str | None = None
) -> Item | None:
    """The live item of the project (by `key` or `item_id`) a write hangs a child under, or
    keeps one under, as it stands now (this session's copy refreshed). On PostgreSQL its row
    stays locked `FOR SHARE` until the transaction ends: a change of its type and a move to the
    trash lock it `FOR UPDATE` and check its children after, so either they wait for the child's
    write and see it, or it waits for them and finds the item changed (or, trashed, not at
    all). SQLite's write transactions run one at a time already."""
    wanted = Item.key == key if key is not None else Item.id == item_id
    stmt = (
        select(Item)
        .where(live_in_project(project_id), wanted)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(read=True)
    found: Item | None = await session.scalar(stmt)
    return found


async def child_types(session: AsyncSession, item_id: str) -> set[str]:
    """The types of the item's children outside the trash."""
    return set(
        await session.scalars(select(Item.type).where(Item.parent_id == item_id, LIVE).distinct())
    )


async def get_items(session: AsyncSession, project_id: str, keys: Sequence[str]) -> list[Item]:
    return list(
        await session.scalars(
            select(Item).where(live_in_project(project_id), Item.key.in_(list(keys)))
        )
    )


# Readiness and the refinement queue (`takt.items.readiness`) -----------------------------------

# Status categories of work that is over: such items are no longer refined.
CLOSED_CATEGORIES = ("done", "cancelled")


def _not_all_checked(dor_ids: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """Some entry of `dor_ids` is not ticked on the item (`Item.dor_checked` holds no id twice).
    PostgreSQL tests containment on the JSONB array; SQLite counts the ids it holds."""
    ids = list(dor_ids)
    if dialect == "postgresql":
        return not_(type_coerce(Item.dor_checked, JSONB).contains(ids))
    ticked = func.json_each(Item.dor_checked).table_valued("value")
    held = select(func.count()).select_from(ticked).where(ticked.c.value.in_(ids))
    return held.scalar_subquery() < len(ids)


def not_ready(dor_ids: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """Items that are not ready: no estimate, an empty description, or an entry of the
    Definition of Ready (`dor_ids`) not ticked."""
    lacking = [Item.estimate.is_(None), Item.description == ""]
    if dor_ids:
        lacking.append(_not_all_checked(dor_ids, dialect))
    return or_(*lacking)


def refinement_queue(
    project_id: str, dor_ids: Sequence[str], *, active_sprint_ids: Select[str], dialect: str
) -> AnySelect:
    """The project's backlog items that are not ready, as `item_rows()` (the caller pages them
    in rank order). The backlog: items whose status is not done or cancelled and that are in no
    sprint or in a sprint not yet started (the active sprint's items are being worked on), epics
    left out (an epic is refined through its stories, and never planned into a sprint itself)."""
    return item_rows().where(
        Item.project_id == project_id,
        Status.category.not_in(CLOSED_CATEGORIES),
        Item.type != "epic",
        or_(Item.sprint_id.is_(None), Item.sprint_id.not_in(active_sprint_ids)),
        not_ready(dor_ids, dialect),
    )


# The trash ------------------------------------------------------------------------------------


# An item in the trash (deleted after the `kept_since` parameter), with its project.
TRASHED_BY_KEY = ChildFinder[Item](
    lambda: (
        select(Item, Project)
        .join(Project, Project.id == Item.project_id)
        .where(
            Item.key == bindparam("item_key"),
            Item.deleted_at.is_not(None),
            Item.deleted_at > bindparam("kept_since"),
        )
    ),
    param="item_key",
)


def trashed_in(project_id: str, kept_since: datetime) -> AnySelect:
    """The project's trash (items deleted after `kept_since`), each with who deleted it."""
    return (
        select(Item, User)
        .outerjoin(User, User.id == Item.deleted_by_id)
        .where(
            Item.project_id == project_id,
            Item.deleted_at.is_not(None),
            Item.deleted_at > kept_since,
        )
    )


async def purge_trashed(
    session: AsyncSession, deleted_before: datetime, *, project_id: str | None = None
) -> int:
    """Delete for good the items trashed at or before `deleted_before` (of one project, or all).
    Their labels, links and comments go with them (ON DELETE CASCADE); their events stay."""
    stmt = delete(Item).where(Item.deleted_at.is_not(None), Item.deleted_at <= deleted_before)
    if project_id is not None:
        stmt = stmt.where(Item.project_id == project_id)
    result = await session.execute(stmt.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


# Ranks, ancestry and statuses see trashed items too: a restored item returns to its place in
# the backlog, and a status can't be deleted from under an item waiting in the trash.


async def insert_at_bottom(
    session: AsyncSession, item: Item, key_prefix: str, event: dict[str, Any], key_field: str
) -> bool:
    """PostgreSQL: inserts `item` at the bottom of its project's backlog, with its number, key
    and rank, and its creation event (`event`: its row as core.events.event_row gives it, with
    `key_field` of its data set to the key), in one statement committed on its own. False,
    inserting nothing, on SQLite, after a write of the transaction, or while the project's
    bottom rank isn't known: the caller then takes the general path.

    Performance-specialised (bench/RESULTS.md, session 9): a create locks the project row to
    take the next number (gap-free: a create rolled back gives its number back) and holds the
    lock until it commits. Through separate statements (the number, the last rank, the item,
    the event, COMMIT) the lock spanned five round trips, each stretched by the worker's other
    requests, and creates queued on it. Here, when the transaction has only read so far, that
    transaction ends and the statement runs as one of its own: the lock is taken and released
    inside PostgreSQL. The rank comes from the project's `bottom_rank` through
    `takt_rank_after` (migration 0022, the database's copy of ranking.rank_after): a
    statement's other reads use the snapshot taken before the lock wait and could miss the
    create just committed, while the UPDATE re-reads the row it waited for. The caller must
    have nothing else to write in the transaction (labels, a sprint), nor a lock to keep until
    the item commits (its parent's): it takes the general path then. `item` becomes a
    persistent instance, as if flushed and loaded.
    """
    if session.get_bind().dialect.name != "postgresql":
        return False
    params: dict[str, Any] = {"key_prefix": f"{key_prefix}-", "key_path": [key_field]}
    for attr in inspect(Item).column_attrs:
        column = attr.columns[0]
        if column.name in _SLOT_COLUMNS:
            continue
        if attr.key not in item.__dict__:
            setattr(item, attr.key, _column_default(column))
        params[f"item_{column.name}"] = getattr(item, attr.key)
    params |= {f"event_{name}": value for name, value in {**event, "id": new_id()}.items()}
    if await session.scalar(select(func.pg_current_xact_id_if_assigned())) is not None:
        return False  # the transaction wrote already: the item must commit with it
    # Only read so far: ending the transaction loses nothing, and the statement then runs as a
    # transaction of its own, so the project row's lock is released inside PostgreSQL, without
    # waiting for this worker to get round to sending COMMIT.
    await session.commit()
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    row = (await session.execute(_insert_at_bottom_statement(), params)).one_or_none()
    if row is not None:
        mark_emitted(session)  # this commit wakes the live readers
    await session.commit()  # back to a transaction for what the request does next
    if row is None:
        return False
    item.number, item.key, item.rank = row.number, row.key, row.rank
    make_transient_to_detached(item)
    session.add(item)
    return True


_SLOT_COLUMNS = ("number", "key", "rank")  # what the project row's UPDATE hands out
_EVENT_COLUMNS = ("id", "type", "project_id", "subject_id", "actor_id", "occurred_at", "changes")


@functools.cache
def _insert_at_bottom_statement() -> Select[Any]:
    """`insert_at_bottom`'s statement, built once: the item's columns as `item_<column>`, the
    event's as `event_<column>`, `key_prefix` and `key_path` (where the key goes in the
    event's data) as parameters."""
    items, events = Item.__table__.c, Event.__table__.c
    slot = next_item_slot(bindparam("item_project_id", type_=items.project_id.type))
    given: dict[str, Any] = {
        "number": slot.c.number,
        "key": func.concat(bindparam("key_prefix", type_=String), slot.c.number),
        "rank": slot.c.rank,
    }
    given |= {
        column.name: bindparam(f"item_{column.name}", type_=column.type)
        for column in items
        if column.name not in _SLOT_COLUMNS
    }
    inserted = (
        insert(Item)
        .from_select(list(given), select(*given.values()).select_from(slot))
        .returning(items.number, items.key, items.rank)
        .cte("inserted")
    )
    logged: dict[str, Any] = {
        name: bindparam(f"event_{name}", type_=events[name].type) for name in _EVENT_COLUMNS
    }
    logged["data"] = func.jsonb_set(
        bindparam("event_data", type_=events.data.type),
        bindparam("key_path", type_=postgresql.ARRAY(Text)),
        func.to_jsonb(inserted.c.key),
    )
    recorded = (
        insert(Event)
        .from_select(list(logged), select(*logged.values()).select_from(inserted))
        .returning(events.seq)
        .cte("recorded")
    )
    return (
        select(inserted.c.number, inserted.c.key, inserted.c.rank)
        .select_from(inserted)
        .join(recorded, true())
    )


def _column_default(column: Any) -> Any:
    """The value an INSERT through the ORM would give a column left unset."""
    default = column.default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg


async def last_rank(session: AsyncSession, project_id: str) -> str | None:
    return await session.scalar(
        select(Item.rank)
        .where(Item.project_id == project_id)
        .order_by(Item.rank.desc(), Item.id.desc())
        .limit(1)
    )


async def rank_next_to(
    session: AsyncSession, project_id: str, rank: str, exclude_id: str, *, below: bool
) -> str | None:
    """The rank just below (or above) `rank`, ignoring the item being moved."""
    condition = Item.rank < rank if below else Item.rank > rank
    order = Item.rank.desc() if below else Item.rank.asc()
    return await session.scalar(
        select(Item.rank)
        .where(Item.project_id == project_id, condition, Item.id != exclude_id)
        .order_by(order)
        .limit(1)
    )


async def items_in_rank_order(session: AsyncSession, project_id: str) -> list[Item]:
    return list(
        await session.scalars(
            select(Item).where(Item.project_id == project_id).order_by(Item.rank, Item.id)
        )
    )


async def parent_chain(session: AsyncSession, item_id: str, limit: int = 20) -> list[str]:
    """Ids of `item_id` and its ancestors, nearest first (bounded: the tree is shallow)."""
    chain = [item_id]
    current: str | None = item_id
    while current is not None and len(chain) <= limit:
        current = await session.scalar(select(Item.parent_id).where(Item.id == current))
        if current is not None:
            if current in chain:
                break
            chain.append(current)
    return chain


async def set_labels(session: AsyncSession, item_id: str, label_ids: Sequence[str]) -> None:
    await session.execute(delete(ItemLabel).where(ItemLabel.item_id == item_id))
    if label_ids:
        await session.execute(
            insert(ItemLabel), [{"item_id": item_id, "label_id": i} for i in label_ids]
        )


async def count_in_status(session: AsyncSession, status_id: str) -> int:
    return int(await session.scalar(select(func.count()).where(Item.status_id == status_id)) or 0)


async def keys_in_status(session: AsyncSession, status_id: str) -> list[tuple[str, str]]:
    """(id, key) of every item in the status."""
    rows = await session.execute(select(Item.id, Item.key).where(Item.status_id == status_id))
    return [(item_id, key) for item_id, key in rows]


def _entry_marks(old: str, new: str, at: datetime) -> tuple[dict[str, Any], ColumnElement[bool]]:
    """`progress.entry_marks` for every item entering a status of category `new` from one of
    `old` at `at`, in SQL (what `service._apply_status` does one item at a time): the values to
    set, and the condition that holds for the items those values change."""
    marks = progress.entry_marks(old, new)
    values: dict[str, Any] = {}
    changed: list[ColumnElement[bool]] = []
    if marks.start:
        values["started_at"] = func.coalesce(Item.started_at, literal(at, UTCDateTime()))
        changed.append(Item.started_at.is_(None))
    if marks.finish == "finish":
        values["finished_at"] = at
        changed.append(true())
    elif marks.finish == "clear":
        values["finished_at"] = None
        changed.append(Item.finished_at.is_not(None))
    return values, or_(*changed) if changed else false()


async def move_all_to_status(
    session: AsyncSession, from_status: Status, to_status: Status, *, at: datetime
) -> None:
    """Every item of `from_status` goes to `to_status` at `at`, starting or finishing as a move
    would."""
    marks, _ = _entry_marks(from_status.category, to_status.category, at)
    await session.execute(
        update(Item)
        .where(Item.status_id == from_status.id)
        .values(status_id=to_status.id, version=Item.version + 1, **marks)
        .execution_options(synchronize_session=False)
    )


async def follow_category(
    session: AsyncSession, status_id: str, old: str, new: str, *, at: datetime
) -> None:
    """The items of a status that changes category from `old` to `new` at `at` start or finish
    as if they had moved into it then; those whose marks change get a new version."""
    marks, changed = _entry_marks(old, new, at)
    await session.execute(
        update(Item)
        .where(Item.status_id == status_id, changed)
        .values(version=Item.version + 1, **marks)
        .execution_options(synchronize_session=False)
    )


async def has_children(session: AsyncSession, item_id: str) -> bool:
    """Children outside the trash (a trashed child doesn't hold its parent back)."""
    return (
        await session.scalar(select(Item.id).where(Item.parent_id == item_id, LIVE).limit(1))
    ) is not None


# Links ---------------------------------------------------------------------------------------

Other = aliased(Item, name="other")


async def links_of(session: AsyncSession, item_id: str) -> list[tuple[ItemLink, str, str, bool]]:
    """(link, other item's key, other's title, True if this item is the source)."""
    outgoing = await session.execute(
        select(ItemLink, Other.key, Other.title)
        .join(Other, Other.id == ItemLink.target_id)
        .where(ItemLink.source_id == item_id, Other.deleted_at.is_(None))
    )
    incoming = await session.execute(
        select(ItemLink, Other.key, Other.title)
        .join(Other, Other.id == ItemLink.source_id)
        .where(ItemLink.target_id == item_id, Other.deleted_at.is_(None))
    )
    found = [(link, key, title, True) for link, key, title in outgoing]
    found += [(link, key, title, False) for link, key, title in incoming]
    found.sort(key=lambda entry: (entry[0].created_at, entry[0].id))
    return found


async def find_link(
    session: AsyncSession, source_id: str, target_id: str, link_type: str
) -> ItemLink | None:
    return await session.scalar(
        select(ItemLink).where(
            ItemLink.source_id == source_id,
            ItemLink.target_id == target_id,
            ItemLink.type == link_type,
        )
    )


# Comments ------------------------------------------------------------------------------------


def comments_of(item_id: str) -> Select[Comment]:
    return select(Comment).where(Comment.item_id == item_id)


async def get_comment(session: AsyncSession, item_id: str, comment_id: str) -> Comment | None:
    return await session.scalar(
        select(Comment).where(Comment.item_id == item_id, Comment.id == comment_id)
    )


async def users_by_id(session: AsyncSession, ids: Sequence[str]) -> dict[str, User]:
    if not ids:
        return {}
    return {u.id: u for u in await session.scalars(select(User).where(User.id.in_(list(ids))))}


# Export and import (`takt.transfer`) ----------------------------------------------------------


async def project_items(session: AsyncSession, project_id: str) -> list[Item]:
    """The project's items outside the trash, by number."""
    return list(
        await session.scalars(select(Item).where(live_in_project(project_id)).order_by(Item.number))
    )


async def project_item_labels(session: AsyncSession, project_id: str) -> list[tuple[str, str]]:
    """(item id, label name) of every labelled item of the project."""
    rows = await session.execute(
        select(ItemLabel.item_id, Label.name)
        .join(Item, Item.id == ItemLabel.item_id)
        .join(Label, Label.id == ItemLabel.label_id)
        .where(live_in_project(project_id))
    )
    return [(item_id, name) for item_id, name in rows]


async def project_links(session: AsyncSession, project_id: str) -> list[ItemLink]:
    """Links between the project's items, oldest first."""
    return list(
        await session.scalars(
            select(ItemLink)
            .join(Item, Item.id == ItemLink.source_id)
            .where(live_in_project(project_id))
            .order_by(ItemLink.created_at, ItemLink.id)
        )
    )


async def project_comments(session: AsyncSession, project_id: str) -> list[Comment]:
    """Comments on the project's items, oldest first."""
    return list(
        await session.scalars(
            select(Comment)
            .join(Item, Item.id == Comment.item_id)
            .where(live_in_project(project_id))
            .order_by(Comment.created_at, Comment.id)
        )
    )


async def insert_imported(
    session: AsyncSession,
    *,
    items: Sequence[dict[str, Any]],
    labels: Sequence[dict[str, Any]],
    links: Sequence[dict[str, Any]],
    comments: Sequence[dict[str, Any]],
) -> None:
    """An imported project's items (parents before children) and what hangs off them, in one
    INSERT per table."""
    for model, rows in ((Item, items), (ItemLabel, labels), (ItemLink, links), (Comment, comments)):
        if rows:
            await session.execute(insert(model), list(rows))
