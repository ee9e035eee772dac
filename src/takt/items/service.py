"""Work-item rules: keys, workflow timestamps, parents, assignees, labels, ranking, history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth import repository as users_repo
from takt.auth.models import User
from takt.core.bounds import ESTIMATE_SCALES
from takt.core.concurrency import claim, claim_all
from takt.core.errors import Conflict, ValidationFailed
from takt.core.events import emit, event_row
from takt.core.models import new_id
from takt.core.time import utcnow
from takt.items import progress, ranking
from takt.items import repository as repo
from takt.items.events import ItemChanges, ItemCreated, ItemMoved, ItemUpdated, RankChanges
from takt.items.hooks import (
    BlockedClearing,
    SprintChanged,
    SprintChanging,
    blocked_clearing,
    sprint_changed,
    sprint_changing,
)
from takt.items.models import PARENT_TYPES, PRIORITIES, Item
from takt.items.schemas import ItemCreate, ItemFields, ItemUpdate
from takt.items.sprint_directory import SprintView, directory
from takt.projects import repository as projects_repo
from takt.projects import service as projects_service
from takt.projects.models import Project
from takt.projects.policies import ProjectAccess
from takt.workflow import repository as workflow_repo
from takt.workflow.models import Status


class InvalidParent(ValidationFailed):
    """The parent must be an item of the same project, of a type that can hold this one
    (epic → story → task), and must not make the hierarchy circular; an item's new type must
    still hold its children (move them first)."""

    code = "invalid-parent"
    title = "Invalid parent"


@dataclass
class Resolved:
    """Client references (names, usernames, keys) turned into rows of this project."""

    status: Status | None = None
    # The item's status before the update, read with `status` (None when no status was sent).
    previous_status: Status | None = None
    assignee: User | None = None
    parent: Item | None = None
    label_ids: list[str] | None = None
    label_names: list[str] | None = None  # as the project spells them, sorted


async def _resolve_status(
    session: AsyncSession, project_id: str, ref: str, *, current_id: str | None
) -> tuple[Status, Status | None]:
    status, current = await workflow_repo.find_status_and(session, project_id, ref, current_id)
    if status is None:
        raise ValidationFailed.at("/status", f"no status {ref!r} in this project")
    return status, current


async def _resolve_assignee(session: AsyncSession, project_id: str, ref: str) -> User:
    """A project member who can work on items, by username or id; anyone else is reported as
    unknown (no leak). A viewer only reads, so a viewer can't be made assignee."""
    user = await users_repo.find_user(
        session, user_id=ref, username=None, email=None
    ) or await users_repo.find_user(session, user_id=None, username=ref, email=None)
    member = await projects_repo.get_member(session, project_id, user.id) if user else None
    if user is None or member is None:
        raise ValidationFailed.at("/assignee", f"{ref!r} is not a member of this project")
    if member[0].role == "viewer":
        raise ValidationFailed.at(
            "/assignee", f"{ref!r} is a viewer of this project; viewers can't be assigned"
        )
    return user


class EstimateOffScale(ValidationFailed):
    """The estimate is not a value of the project's estimate scale (`settings.estimate_scale`):
    `fibonacci` takes 0, 0.5, 1, 2, 3, 5, 8, 13, 20, 40, 100 (the planning-poker deck);
    `tshirt` takes the points of its sizes, XS 1, S 2, M 3, L 5, XL 8, XXL 13 (and 0). Pick one
    of those, or change the project's scale."""

    code = "estimate-off-scale"
    title = "Estimate off the project's scale"


def _check_estimate(project: Project, data: ItemFields) -> None:
    """An estimate written must be on the project's scale. Estimates already stored (from before
    a change of scale, or imported) stay as they are."""
    if "estimate" not in data.model_fields_set or data.estimate is None:
        return
    scale = str(project.settings.get("estimate_scale", "fibonacci"))
    allowed = ESTIMATE_SCALES.get(scale)
    if allowed is not None and data.estimate not in allowed:
        values = ", ".join(f"{v:g}" for v in allowed)
        raise EstimateOffScale.at(
            "/estimate",
            f"not one of {values}",
            detail=f"{data.estimate:g} is not on the project's {scale} scale ({values}).",
        )


async def _resolve_labels(
    session: AsyncSession, project_id: str, names: list[str]
) -> tuple[list[str], list[str]]:
    """The labels' ids and their names as the project spells them (names match in any case)."""
    found = await workflow_repo.labels_by_name(session, project_id, names)
    for index, name in enumerate(names):
        if name.lower() not in found:
            raise ValidationFailed.at(f"/labels/{index}", f"no label {name!r} in this project")
    labels = {found[n.lower()] for n in names}
    return sorted(label.id for label in labels), sorted(label.name for label in labels)


async def _resolve_parent(
    session: AsyncSession, project_id: str, key: str, *, child_type: str, child_id: str | None
) -> Item:
    # Held until the write commits (repo.hold_parent): a concurrent change of the parent's type,
    # or its move to the trash, can't slip in between this check and the child's write.
    parent = await repo.hold_parent(session, project_id, key=key)
    if parent is None:
        raise InvalidParent.at(
            "/parent_key", "not an item of this project", detail=f"No item {key} in this project."
        )
    if parent.type not in PARENT_TYPES[child_type]:
        raise InvalidParent.at(
            "/parent_key",
            f"{parent.type} can't hold {child_type}",
            detail=f"A {child_type} can't sit under a {parent.type}.",
        )
    if child_id is not None and child_id in await repo.parent_chain(session, parent.id):
        raise InvalidParent.at(
            "/parent_key", "cycle", detail="That parent would make the hierarchy circular."
        )
    return parent


async def _resolve(
    session: AsyncSession, project_id: str, data: ItemFields, *, item: Item | None
) -> Resolved:
    sent = data.model_fields_set
    resolved = Resolved()
    if data.status is not None:
        resolved.status, resolved.previous_status = await _resolve_status(
            session, project_id, data.status, current_id=item.status_id if item else None
        )
    if data.assignee is not None:
        resolved.assignee = await _resolve_assignee(session, project_id, data.assignee)
    if data.labels is not None:
        resolved.label_ids, resolved.label_names = await _resolve_labels(
            session, project_id, data.labels
        )
    child_type = data.type or (item.type if item else "task")
    if data.parent_key is not None:
        resolved.parent = await _resolve_parent(
            session,
            project_id,
            data.parent_key,
            child_type=child_type,
            child_id=item.id if item else None,
        )
    elif item is not None and "type" in sent and item.parent_id and "parent_key" not in sent:
        current = await repo.hold_parent(session, project_id, item_id=item.parent_id)
        if current is not None and current.type not in PARENT_TYPES[child_type]:
            raise InvalidParent.at(
                "/type",
                "incompatible with the parent",
                detail=f"A {child_type} can't sit under a {current.type}; change the parent too.",
            )
    if item is not None and data.type is not None and data.type != item.type:
        await _check_children_fit(session, item, data.type)
    return resolved


async def _check_children_fit(session: AsyncSession, item: Item, new_type: str) -> None:
    """An item's new type must still hold each of its children (epic > story > task, bug,
    spike). The item's row is this write's (claimed), and a child placed under it holds it
    first (`repo.hold_parent`), so the children read here are all there are."""
    misfits = sorted(
        t for t in await repo.child_types(session, item.id) if new_type not in PARENT_TYPES[t]
    )
    if misfits:
        raise InvalidParent.at(
            "/type",
            "can't hold its children",
            detail=(
                f"A {new_type} can't hold the {', '.join(misfits)} items under {item.key}; move"
                " them first."
            ),
        )


def _apply_status(item: Item, status: Status, old_category: str | None) -> None:
    """Puts the item in `status`, coming from a status of `old_category` (None: a new item), and
    starts or finishes it now as `progress.entry_marks` says (the rule a workflow edit's bulk
    move applies in SQL)."""
    now = utcnow()
    marks = progress.entry_marks(old_category, status.category)
    if marks.start and item.started_at is None:
        item.started_at = now
    if marks.finish == "finish":
        item.finished_at = now
    elif marks.finish == "clear":
        item.finished_at = None
    item.status_id = status.id


@dataclass(frozen=True)
class Created:
    """A new item and the rows it shows (so the answer needs no second read)."""

    item: Item
    status: Status
    assignee: User | None
    parent_key: str | None
    label_names: list[str]
    sprint: SprintView | None = None  # the sprint it joined, for the name the answer shows


async def create_item(session: AsyncSession, access: ProjectAccess, data: ItemCreate) -> Created:
    access.require_write()
    project = access.project
    _check_estimate(project, data)
    resolved = await _resolve(session, project.id, data, item=None)
    status = resolved.status or await _default_status(session, project.id)
    joined = None
    if data.sprint_id is not None:
        _, joined = await _check_sprint_change(session, access, None, None, data.sprint_id)
    item = Item(
        id=new_id(),  # now, not at the INSERT: the creation event names it
        project_id=project.id,
        type=data.type,
        title=data.title,
        description=data.description or "",
        priority=PRIORITIES.index(data.priority or "none"),
        assignee_id=resolved.assignee.id if resolved.assignee else None,
        reporter_id=access.principal.id,
        estimate=data.estimate,
        parent_id=resolved.parent.id if resolved.parent else None,
        sprint_id=data.sprint_id,
        due_date=data.due_date,
        blocked=bool(data.blocked),
        status_id=status.id,
    )
    _apply_status(item, status, None)
    created = ItemCreated(
        key="",  # the item's key, known once its number is
        title=item.title,
        type=item.type,
        status=status.name,
        category=status.category,
        priority=data.priority or "none",
        estimate=item.estimate,
        assignee=resolved.assignee.username if resolved.assignee else None,
        parent_key=resolved.parent.key if resolved.parent else None,
        sprint_id=item.sprint_id,
        labels=resolved.label_names or [],
    )
    # Not alone with a parent: the parent's lock must last until the item is committed.
    alone = not resolved.label_ids and not joined and resolved.parent is None
    await _insert_at_bottom(session, access, item, created, alone=alone)
    if resolved.label_ids:
        await repo.set_labels(session, item.id, resolved.label_ids)
    if joined is not None:
        await sprint_changed.fire(session, SprintChanged(access, item, left=None, joined=joined))
    return Created(
        item=item,
        status=status,
        assignee=resolved.assignee,
        parent_key=resolved.parent.key if resolved.parent else None,
        label_names=resolved.label_names or [],
        sprint=joined,
    )


async def _insert_at_bottom(
    session: AsyncSession, access: ProjectAccess, item: Item, created: ItemCreated, *, alone: bool
) -> None:
    """Inserts a new item with the project's next number, last in the backlog, and records
    `created` (its key filled in). The project row stays locked until the transaction ends:
    that keeps numbers gap-free (a create rolled back gives its number back) and ranks unique.

    `alone`: the item is all the request writes (no labels, no sprint) and it holds no lock
    until its commit (no parent: `repo.hold_parent`). On PostgreSQL such a create is one
    statement committed on its own once the project's bottom rank is known
    (repository.insert_at_bottom: the lock is then held inside the database only). Otherwise
    the number, the rank after the bottom (the items' last rank the first time: a statement
    after the lock sees every create committed before it), the item and its event go one by
    one in the request's transaction.
    """
    project = access.project
    row = event_row(created, project, access.principal, subject=item)
    if alone and await repo.insert_at_bottom(
        session, item, project.key, row, ItemCreated.payload_key("key")
    ):
        return
    number, bottom = await projects_service.next_item_number(session, project)
    item.number, item.key = number, f"{project.key}-{number}"
    item.rank = await _rank_after_bottom(session, project, bottom)
    session.add(item)
    await session.flush()
    await emit(
        session,
        created.model_copy(update={"key": item.key}),
        project,
        access.principal,
        subject=item,
    )


async def _rank_after_bottom(session: AsyncSession, project: Project, bottom: str | None) -> str:
    """With the project row locked: a rank after every item of the project, recorded as its
    bottom. `bottom` None (not known yet, or reset by a rebalance or an import) is found from
    the items: a statement run after the lock sees every write committed before it."""
    if bottom is None:
        bottom = await repo.last_rank(session, project.id)
    rank = ranking.rank_after(bottom)
    await projects_service.set_bottom_rank(session, project, rank)
    return rank


async def _default_status(session: AsyncSession, project_id: str) -> Status:
    for category in ("backlog", "todo"):
        status = await workflow_repo.first_status(session, project_id, category)
        if status is not None:
            return status
    statuses = await workflow_repo.statuses(session, project_id)
    if not statuses:
        raise Conflict("The project has no statuses; add one first.")
    return statuses[0]


@dataclass(frozen=True)
class Updated:
    """An update's outcome: the item, each change as [old, new], and the rows the request named
    (so the answer can show them without reading the item again)."""

    item: Item
    changes: dict[str, list[Any]]
    status: Status | None
    assignee: User | None
    sprint: SprintView | None = None  # the sprint it joined, when the update moved it


async def update_item(
    session: AsyncSession,
    access: ProjectAccess,
    item: Item,
    data: ItemUpdate,
    *,
    if_match: str | None,
    reason: str | None = None,
    automation: Literal["review-automation"] | None = None,
) -> Updated:
    """Apply the fields sent; one `item.updated` event lists each change as [old, new]. A move
    between sprints is checked (`sprint_changing`) and recorded (`sprint_changed`, with `reason`,
    e.g. carry-over) by the sprints, through the hooks of `takt.items.hooks`. `automation` names
    the automation making the change: the event's `reason` says it, so the item's history tells
    who moved it (the automation's actor is no account)."""
    access.require_write()
    # The write applies to the current version; 412 only if the client sent If-Match.
    await claim(session, item, if_match)
    # One flush at the end: the version (and so the ETag) moves once per update.
    with session.no_autoflush:
        changes, moved, resolved = await _apply_update(session, access, item, data)
    if changes:
        item.updated_at = utcnow()
        await session.flush()
        await emit(
            session,
            ItemUpdated(key=item.key, reason=automation),
            access.project,
            access.principal,
            ItemChanges.model_validate(changes),
            subject=item,
        )
    joined: SprintView | None = None
    if moved is not None:
        left, joined = moved
        await sprint_changed.fire(session, SprintChanged(access, item, left, joined, reason))
    return Updated(
        item=item,
        changes=changes,
        status=resolved.status,
        assignee=resolved.assignee,
        sprint=joined,
    )


async def _check_sprint_change(
    session: AsyncSession,
    access: ProjectAccess,
    item: Item | None,
    left_id: str | None,
    joined_id: str | None,
) -> tuple[SprintView | None, SprintView | None]:
    """The sprints an item leaves and joins (read in one statement), once the sprints' rules
    (`sprint_changing`) allow the move."""
    wanted = [sprint_id for sprint_id in (left_id, joined_id) if sprint_id is not None]
    found = await directory().find(session, access.project.id, wanted)
    left = found.get(left_id) if left_id is not None else None
    joined = found.get(joined_id) if joined_id is not None else None
    await sprint_changing.fire(session, SprintChanging(access, item, left, joined_id, joined))
    return left, joined


# The sprints an update took the item out of and into (each None where there was none).
SprintMove = tuple[SprintView | None, SprintView | None]


async def _apply_update(
    session: AsyncSession, access: ProjectAccess, item: Item, data: ItemUpdate
) -> tuple[dict[str, list[Any]], SprintMove | None, Resolved]:
    project = access.project
    sent = data.model_fields_set
    _check_estimate(project, data)
    resolved = await _resolve(session, project.id, data, item=item)
    changes: dict[str, list[Any]] = {}

    def change(field: str, old: Any, new: Any) -> None:
        if old != new:
            changes[field] = [old, new]

    moved: SprintMove | None = None
    if "sprint_id" in sent and data.sprint_id != item.sprint_id:
        moved = await _check_sprint_change(session, access, item, item.sprint_id, data.sprint_id)
        changes["sprint_id"] = [item.sprint_id, data.sprint_id]
        item.sprint_id = data.sprint_id
    if "blocked" in sent and item.blocked and not data.blocked:
        # Blockers decide whether the flag may go (not while one of the item's is open).
        await blocked_clearing.fire(session, BlockedClearing(access, item))
    for field in ("title", "description", "type", "blocked", "estimate"):
        if field in sent:
            new = getattr(data, field)
            change(field, getattr(item, field), new)
            setattr(item, field, new)
    if "due_date" in sent:
        change("due_date", _iso(item.due_date), _iso(data.due_date))
        item.due_date = data.due_date
    if data.priority is not None:
        change("priority", PRIORITIES[item.priority], data.priority)
        item.priority = PRIORITIES.index(data.priority)
    if resolved.status is not None and resolved.status.id != item.status_id:
        old_status = resolved.previous_status
        old_name = old_status.name if old_status else None
        old_category = old_status.category if old_status else None
        change("status", old_name, resolved.status.name)
        change("category", old_category, resolved.status.category)
        _apply_status(item, resolved.status, old_category)
    if "assignee" in sent:
        old_user = await session.get(User, item.assignee_id) if item.assignee_id else None
        change(
            "assignee",
            old_user.username if old_user else None,
            resolved.assignee.username if resolved.assignee else None,
        )
        item.assignee_id = resolved.assignee.id if resolved.assignee else None
    if "parent_key" in sent:
        old_parent = await session.get(Item, item.parent_id) if item.parent_id else None
        change(
            "parent_key",
            old_parent.key if old_parent else None,
            resolved.parent.key if resolved.parent else None,
        )
        item.parent_id = resolved.parent.id if resolved.parent else None
    if resolved.label_ids is not None:
        old_labels = sorted((await repo.label_names(session, [item.id])).get(item.id, []))
        await repo.set_labels(session, item.id, resolved.label_ids)
        change("labels", old_labels, resolved.label_names or [])
    return changes, moved, resolved


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def move_item(
    session: AsyncSession,
    access: ProjectAccess,
    item: Item,
    *,
    before: str | None,
    after: str | None,
) -> Item:
    """Place `item` right before or after another: one row changes, unless the keys around the
    spot have grown too long, when the project's ranks are respaced first."""
    access.require_write()
    anchor_key = before or after
    assert anchor_key is not None
    if anchor_key == item.key:
        raise ValidationFailed.at(
            "/before" if before else "/after", "an item can't move next to itself"
        )
    # Moves in a project take turns on its row, as creates do: two moves to one spot, or a
    # move and a create to the bottom, would otherwise compute the same rank. Read after the
    # lock, the anchor and its neighbour are as the previous move left them.
    bottom = await projects_service.lock_bottom_rank(session, access.project)
    anchor = await repo.get_item(session, access.project.id, anchor_key)
    if anchor is None:
        raise ValidationFailed.at(
            "/before" if before else "/after", f"no item {anchor_key} in this project"
        )
    await claim(session, item, None)
    place_before = before is not None
    new_rank = await _rank_next_to(
        session, access.project, item, anchor, place_before=place_before, bottom=bottom
    )
    if ranking.needs_rebalance(new_rank):
        await rebalance(session, access.project)
        new_rank = await _rank_next_to(
            session, access.project, item, anchor, place_before=place_before, bottom=None
        )
    old_rank = item.rank
    item.rank = new_rank
    item.updated_at = utcnow()
    await session.flush()
    await emit(
        session,
        ItemMoved(key=item.key, before=before, after=after),
        access.project,
        access.principal,
        RankChanges(rank=(old_rank, new_rank)),
        subject=item,
    )
    return item


async def _rank_next_to(
    session: AsyncSession,
    project: Project,
    item: Item,
    anchor: Item,
    *,
    place_before: bool,
    bottom: str | None,
) -> str:
    """The rank of the spot next to `anchor`; with the project row locked (`bottom` is the
    project's bottom rank it gave)."""
    neighbour = await repo.rank_next_to(
        session, item.project_id, anchor.rank, item.id, below=place_before
    )
    if place_before:
        return ranking.rank_between(neighbour, anchor.rank)
    if neighbour is None:  # after the last item: the place after the bottom, as a create's
        return await _rank_after_bottom(session, project, bottom)
    return ranking.rank_between(anchor.rank, neighbour)


async def rebalance(session: AsyncSession, project: Project) -> None:
    """Respace every rank of the project evenly, keeping the order. The project's bottom rank
    is then unknown: the next create finds it from the items."""
    items = await repo.items_in_rank_order(session, project.id)
    await claim_all(session, items)
    for item, rank in zip(items, ranking.initial_ranks(len(items)), strict=True):
        item.rank = rank
    await session.flush()
    await projects_service.set_bottom_rank(session, project, None)
