"""Blockers: raise one on a work item (which flags it `blocked`), say whom or what it waits on,
resolve it (the last one clears the flag), escalate it once it is older than the project's
threshold in working hours, promote it to a risk. Suggestions come from `blocked_by` links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import User
from takt.blockers import repository as repo
from takt.blockers.events import (
    BlockerChanges,
    BlockerEscalated,
    BlockerPromoted,
    BlockerRaised,
    BlockerResolved,
    BlockerUpdated,
)
from takt.blockers.models import Blocker
from takt.blockers.repository import BlockerRow
from takt.blockers.schemas import (
    BlockerCreate,
    BlockerFilters,
    BlockerResolve,
    BlockerUpdate,
    PromoteRequest,
    WaitingOnExternal,
    WaitingOnItem,
    WaitingOnPerson,
    WaitingOnTeam,
)
from takt.core.concurrency import claim
from takt.core.errors import Conflict, NotFound, ValidationFailed
from takt.core.events import emit
from takt.core.pagination import PageRequest, SortKey
from takt.core.time import WorkCalendar, utcnow, working_cutoff, working_hours
from takt.items import repository as items_repo
from takt.items import service as items
from takt.items.models import Item, ItemLink
from takt.items.schemas import ItemUpdate
from takt.projects import repository as projects_repo
from takt.projects.models import Project
from takt.projects.policies import ProjectAccess
from takt.risks import service as risks
from takt.risks.schemas import RiskCreate
from takt.risks.service import RiskAlreadyRecorded, ShownRisk
from takt.sprints import repository as sprints_repo

# What the stand-up summary shows at most (oldest first): far more than a team has open.
OPEN_LIMIT = 500


class BlockerNotOpen(Conflict):
    """The blocker is resolved: it can't be changed, resolved again or promoted. Raise a new
    one if the work is stuck again."""

    code = "blocker-not-open"
    title = "Blocker not open"


class ItemHasOpenBlockers(Conflict):
    """The item's `blocked` flag can't be cleared by hand while one of its blockers is open:
    resolve them (`POST /blockers/{id}/resolve`); resolving the last one clears the flag.
    `GET /projects/{key}/blockers?item=<key>&state=open` lists them."""

    code = "item-has-open-blockers"
    title = "Item has open blockers"


@dataclass(frozen=True)
class BlockerContext:
    """A blocker of a project the caller can see, with what it shows."""

    access: ProjectAccess
    row: BlockerRow

    @property
    def blocker(self) -> Blocker:
        return self.row.blocker


# The project's calendar ----------------------------------------------------------------------


def calendar_of(project: Project) -> WorkCalendar:
    """The project's working time: its zone, working days and working hours."""
    settings = project.settings
    return WorkCalendar.of(
        str(settings.get("time_zone", "UTC")),
        settings.get("working_days", ["mon", "tue", "wed", "thu", "fri"]),
        str(settings.get("workday_start", "09:00")),
        str(settings.get("workday_end", "17:00")),
    )


def threshold_of(project: Project) -> float:
    """Working hours after which an open blocker is escalated."""
    return float(project.settings.get("blocker_escalation_hours", 16))


def age_hours(blocker: Blocker, calendar: WorkCalendar, now: datetime) -> float:
    """Working hours from raised to now, or to resolved (fixed when it was resolved)."""
    if blocker.resolved_at is not None:
        if blocker.resolved_age_hours is not None:
            return blocker.resolved_age_hours
        return working_hours(blocker.raised_at, blocker.resolved_at, calendar)
    return working_hours(blocker.raised_at, now, calendar)


# Reads ---------------------------------------------------------------------------------------


async def list_blockers(
    session: AsyncSession, access: ProjectAccess, *, filters: BlockerFilters, page: PageRequest
) -> tuple[list[BlockerRow], str | None]:
    """One page of the project's blockers: open ones first, oldest first; resolved ones alone
    (`state=resolved`) the latest resolved first."""
    older_than = None
    if filters.older_than_hours is not None:
        cutoff = working_cutoff(utcnow(), filters.older_than_hours, calendar_of(access.project))
        older_than = (cutoff, filters.older_than_hours)
    stmt = repo.blockers_of(
        access.project.id,
        state=filters.state,
        item_key=filters.item,
        waiting_on=filters.waiting_on,
        raised_by=filters.raised_by,
        older_than=older_than,
    )
    # A cursor names its order, so one taken from one order is refused by the other (400).
    if filters.state == "resolved":
        sort_name = "blockers-latest-resolved"
        keys = [SortKey(Blocker.resolved_at, descending=True), SortKey(Blocker.id)]

        def key_of(row: Any) -> tuple[Any, ...]:
            return (row[0].resolved_at, row[0].id)

    else:
        sort_name = "blockers-open-oldest"
        keys = [SortKey(Blocker.status), SortKey(Blocker.raised_at), SortKey(Blocker.id)]

        def key_of(row: Any) -> tuple[Any, ...]:
            return (row[0].status, row[0].raised_at, row[0].id)

    rows, next_cursor = await page.fetch(
        session, stmt, keys=keys, key_of=key_of, sort_name=sort_name, scalars=False
    )
    return [BlockerRow.of(row) for row in rows], next_cursor


async def open_blockers(
    session: AsyncSession, access: ProjectAccess, *, raised_by: str | None = None
) -> list[BlockerRow]:
    """The project's open blockers on items outside the trash, oldest first, in one statement
    (at most `OPEN_LIMIT`); only those `raised_by` (a user id) raised, when given. For
    summaries that show them all, such as the stand-up's."""
    stmt = (
        repo.blockers_of(access.project.id, state="open", raised_by=raised_by)
        .order_by(Blocker.raised_at, Blocker.id)
        .limit(OPEN_LIMIT)
    )
    return [BlockerRow.of(row) for row in await session.execute(stmt)]


async def suggestions(
    session: AsyncSession, access: ProjectAccess, *, page: PageRequest
) -> tuple[list[tuple[ItemLink, str, str]], str | None]:
    """One page of `blocked_by` links between unfinished items that no open blocker records:
    (link, blocked item's key, blocking item's key), the oldest link first."""
    rows, next_cursor = await page.fetch(
        session,
        repo.suggestions_of(access.project.id),
        keys=[SortKey(ItemLink.created_at), SortKey(ItemLink.id)],
        key_of=lambda row: (row[0].created_at, row[0].id),
        sort_name="blocker-suggestions",
        scalars=False,
    )
    return [(link, blocked, blocking) for link, blocked, blocking in rows], next_cursor


# Writes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingOnRefs:
    """`waiting_on` as columns: the kind and the one reference it takes."""

    kind: str
    user: User | None = None
    name: str | None = None
    item: Item | None = None

    def as_event(self) -> dict[str, Any]:
        if self.user is not None:
            return {"kind": self.kind, "user": self.user.username}
        if self.item is not None:
            return {"kind": self.kind, "item_key": self.item.key}
        return {"kind": self.kind, "name": self.name}


def _waiting_on_of(row: BlockerRow) -> dict[str, Any]:
    """The blocker's `waiting_on` as its events record it."""
    blocker = row.blocker
    if blocker.waiting_on_kind == "person":
        return {"kind": "person", "user": row.waiting_user.username if row.waiting_user else None}
    if blocker.waiting_on_kind == "item":
        return {"kind": "item", "item_key": row.waiting_item_key}
    return {"kind": blocker.waiting_on_kind, "name": blocker.waiting_on_name}


async def _waiting_on(
    session: AsyncSession,
    project_id: str,
    data: WaitingOnPerson | WaitingOnTeam | WaitingOnExternal | WaitingOnItem,
    blocked_item_id: str,
) -> WaitingOnRefs:
    """`waiting_on` as it will be stored: a person who is a member, an item of the project
    other than the blocked one, or a name."""
    if isinstance(data, WaitingOnPerson):
        found = await projects_repo.get_member_by_ref(session, project_id, data.user)
        if found is None:
            raise ValidationFailed.at(
                "/waiting_on/user", f"{data.user!r} is not a member of this project"
            )
        return WaitingOnRefs("person", user=found[1])
    if isinstance(data, WaitingOnItem):
        item = await items_repo.get_item(session, project_id, data.item_key)
        if item is None:
            raise ValidationFailed.at(
                "/waiting_on/item_key",
                "unknown item",
                detail=f"No item {data.item_key} in this project.",
            )
        if item.id == blocked_item_id:
            raise ValidationFailed.at("/waiting_on/item_key", "an item can't wait on itself")
        return WaitingOnRefs("item", item=item)
    return WaitingOnRefs(data.kind, name=data.name)


def _set_waiting_on(blocker: Blocker, refs: WaitingOnRefs) -> None:
    blocker.waiting_on_kind = refs.kind
    blocker.waiting_on_user_id = refs.user.id if refs.user else None
    blocker.waiting_on_name = refs.name
    blocker.waiting_on_item_id = refs.item.id if refs.item else None


async def raise_blocker(
    session: AsyncSession, access: ProjectAccess, data: BlockerCreate
) -> BlockerRow:
    """Record what blocks an item of the project, and flag the item `blocked` (through items'
    service, which records the item's change). 422 at `/item_key` for an item that is not
    the project's; at `/waiting_on/...` for a person who is not a member or an unknown item."""
    access.require_write()
    project_id = access.project.id
    item = await items_repo.get_item(session, project_id, data.item_key)
    if item is None:
        raise ValidationFailed.at(
            "/item_key", "unknown item", detail=f"No item {data.item_key} in this project."
        )
    refs = await _waiting_on(session, project_id, data.waiting_on, item.id)
    # The item's row is the lock every change of its flag takes (raise, resolve, a PATCH of
    # `blocked`), so they apply one after the other and each counts what the others committed.
    await claim(session, item, None)
    blocker = Blocker(
        project_id=project_id,
        item_id=item.id,
        reason=data.reason,
        status="open",
        raised_by_id=access.principal.id,
        raised_at=utcnow(),
    )
    _set_waiting_on(blocker, refs)
    session.add(blocker)
    await session.flush()
    await emit(
        session,
        BlockerRaised(
            id=blocker.id, item_key=item.key, reason=blocker.reason, waiting_on=refs.as_event()
        ),
        access.project,
        access.principal,
        subject=blocker,
    )
    if not item.blocked:
        await items.update_item(session, access, item, ItemUpdate(blocked=True), if_match=None)
    return await repo.get_row(session, blocker.id)


async def update_blocker(
    session: AsyncSession, ctx: BlockerContext, data: BlockerUpdate, *, if_match: str | None
) -> BlockerRow:
    """Change an open blocker's reason or what it waits on; one `blocker.updated`."""
    ctx.access.require_write()
    blocker = ctx.blocker
    await claim(session, blocker, if_match)
    if blocker.status != "open":
        raise BlockerNotOpen("A resolved blocker can't change.")
    changes: dict[str, list[Any]] = {}
    if data.reason is not None and data.reason != blocker.reason:
        changes["reason"] = [blocker.reason, data.reason]
        blocker.reason = data.reason
    if data.waiting_on is not None:
        refs = await _waiting_on(session, ctx.access.project.id, data.waiting_on, blocker.item_id)
        old, new = _waiting_on_of(ctx.row), refs.as_event()
        if old != new:
            changes["waiting_on"] = [old, new]
            _set_waiting_on(blocker, refs)
    if changes:
        blocker.updated_at = utcnow()
        await session.flush()
        await emit(
            session,
            BlockerUpdated(id=blocker.id, item_key=ctx.row.item_key),
            ctx.access.project,
            ctx.access.principal,
            BlockerChanges.model_validate(changes),
            subject=blocker,
        )
    return await repo.get_row(session, blocker.id)


async def resolve_blocker(
    session: AsyncSession,
    ctx: BlockerContext,
    data: BlockerResolve | None = None,
    *,
    if_match: str | None = None,
) -> BlockerRow:
    """Resolve an open blocker; when it was the item's last open one, clear the item's
    `blocked` flag (through items' service). Its age is fixed from here on."""
    ctx.access.require_write()
    access, blocker = ctx.access, ctx.blocker
    await claim(session, blocker, if_match)
    if blocker.status != "open":
        raise BlockerNotOpen("This blocker is already resolved.")
    # The item locked (see raise_blocker: the item's flag changes one at a time), then checked.
    item = await _live_item_of(session, blocker)
    now = utcnow()
    age = working_hours(blocker.raised_at, now, calendar_of(access.project))
    blocker.status = "resolved"
    blocker.resolved_by_id = access.principal.id
    blocker.resolved_at = now
    blocker.resolution = data.resolution if data else ""
    blocker.resolved_age_hours = age
    blocker.updated_at = now
    await session.flush()
    await emit(
        session,
        BlockerResolved(
            id=blocker.id,
            item_key=item.key,
            age_working_hours=round(age, 2),
            resolution=blocker.resolution,
        ),
        access.project,
        access.principal,
        subject=blocker,
    )
    if item.blocked and await repo.count_open_on(session, item.id) == 0:
        await items.update_item(session, access, item, ItemUpdate(blocked=False), if_match=None)
    return await repo.get_row(session, blocker.id)


async def _live_item_of(session: AsyncSession, blocker: Blocker) -> Item:
    """The blocked item, locked after the blocker (the order every blocker write takes) and
    read as it stands then: one that went to the trash since the blocker was loaded (a
    concurrent delete, which locks the item, not the blocker) hides the blocker too: 404, as
    the load would."""
    item = await repo.item_of(session, blocker)
    await claim(session, item, None)
    if item.deleted_at is not None:
        raise NotFound("No such blocker.")
    return item


# Promotion to a risk -------------------------------------------------------------------------


def likelihood_from_age(age: float, calendar: WorkCalendar) -> int:
    """Up to 1 working day old → 2, up to 2 → 3, up to 5 → 4, older → 5 (days of the
    project's working-day length)."""
    days = age / (calendar.nominal_day.total_seconds() / 3600)
    for limit, likelihood in ((1, 2), (2, 3), (5, 4)):
        if days <= limit:
            return likelihood
    return 5


def impact_from_share(held: float, total: float) -> int:
    """The share of the active sprint's points held up: none → 1, up to 10 % → 2, up to 25 %
    → 3, up to 50 % → 4, more → 5."""
    if held <= 0 or total <= 0:
        return 1
    share = held / total
    for limit, impact in ((0.10, 2), (0.25, 3), (0.50, 4)):
        if share <= limit:
            return impact
    return 5


async def held_points(session: AsyncSession, project_id: str, item_id: str) -> tuple[float, float]:
    """(unfinished points of the item and its children and grandchildren in the active sprint,
    all points of the active sprint); (0, 0) without an active sprint."""
    scope = await repo.active_sprint_scope(session, project_id)
    total = sum(estimate or 0 for _, _, _, estimate, _ in scope)
    held = sum(
        estimate or 0
        for id_, parent, grandparent, estimate, category in scope
        if item_id in (id_, parent, grandparent) and category not in repo.FINISHED
    )
    return float(held), float(total)


def _risk_defaults(row: BlockerRow, access: ProjectAccess) -> dict[str, Any]:
    waiting = _waiting_on_of(row)
    on = waiting.get("user") or waiting.get("name") or waiting.get("item_key") or "unknown"
    owner = access.principal.username if access.member_role in ("member", "admin") else None
    return {
        "title": f"{row.item_key} blocked: {row.blocker.reason}"[:255].strip(),
        "description": f"{row.blocker.reason}\n\nWaiting on {waiting['kind']}: {on}.",
        "owner": owner,
    }


async def promote_blocker(
    session: AsyncSession, ctx: BlockerContext, data: PromoteRequest
) -> ShownRisk:
    """Create a risk from an open blocker in one step, linked both ways (the risk records the
    blocker and its item, and the active sprint if the item is in it; the blocker names the
    risk). A blocker is promoted once: again → 409 `blocker-already-promoted`."""
    access, blocker = ctx.access, ctx.blocker
    access.require_write()
    # The blocker's row lock makes two promotions queue; the second then sees the risk.
    await claim(session, blocker, None)
    if blocker.status != "open":
        raise BlockerNotOpen("A resolved blocker threatens nothing any more.")
    if blocker.risk_id is not None:
        raise RiskAlreadyRecorded(f"This blocker was promoted to risk {blocker.risk_id}.")
    item = await _live_item_of(session, blocker)
    project = access.project
    calendar = calendar_of(project)
    likelihood = data.likelihood or likelihood_from_age(
        working_hours(blocker.raised_at, utcnow(), calendar), calendar
    )
    held, total = await held_points(session, project.id, blocker.item_id)
    impact = data.impact or impact_from_share(held, total)
    active = await sprints_repo.active_sprint(session, project.id)
    sent = data.model_fields_set
    defaults = _risk_defaults(ctx.row, access)
    shown = await risks.create_risk(
        session,
        access,
        RiskCreate(
            title=data.title or defaults["title"],
            description=data.description or defaults["description"],
            likelihood=likelihood,
            impact=impact,
            owner=data.owner if "owner" in sent else defaults["owner"],
            mitigation=data.mitigation or "",
            review_date=data.review_date,
            item_keys=[ctx.row.item_key],
            sprint_ids=[active.id] if active is not None and item.sprint_id == active.id else [],
        ),
        blocker_id=blocker.id,
    )
    blocker.risk_id = shown.risk.id
    blocker.updated_at = utcnow()
    await session.flush()
    await emit(
        session,
        BlockerPromoted(id=blocker.id, item_key=ctx.row.item_key, risk_id=shown.risk.id),
        project,
        access.principal,
        subject=blocker,
    )
    return shown


# Rules other domains' changes must keep (run through their hooks, see subscriptions.py) -------


async def refuse_clearing_while_open(session: AsyncSession, item: Item) -> None:
    """The `blocked` flag of an item with an open blocker stays set."""
    if await repo.count_open_on(session, item.id):
        raise ItemHasOpenBlockers(
            f"{item.key} has open blockers; resolving the last one clears `blocked`."
        )


async def forget_risk(session: AsyncSession, access: ProjectAccess, risk_id: str) -> None:
    """The risk a blocker was promoted to is being deleted: the blocker stops naming it (and
    may be promoted again)."""
    blocker = await repo.promoted_to(session, risk_id)
    if blocker is None:
        return
    await claim(session, blocker, None)
    blocker.risk_id = None
    blocker.updated_at = utcnow()
    await session.flush()
    item_key = (await repo.item_of(session, blocker)).key
    await emit(
        session,
        BlockerUpdated(id=blocker.id, item_key=item_key),
        access.project,
        access.principal,
        BlockerChanges(risk_id=(risk_id, None)),
        subject=blocker,
    )


# Escalation (the worker's sweep, blockers/jobs.py) -----------------------------------------------


async def escalate_due(session: AsyncSession) -> int:
    """Escalate, once each, the open blockers older than their project's threshold in
    working hours (`blocker.escalated`, no actor); how many. Safe to run concurrently."""
    now = utcnow()
    escalated = 0
    for project in await repo.projects_to_sweep(session):
        calendar, threshold = calendar_of(project), threshold_of(project)
        raised_before = working_cutoff(now, threshold, calendar)
        for row in await repo.escalate_raised_before(session, project.id, raised_before, now):
            blocker = row.blocker
            await emit(
                session,
                BlockerEscalated(
                    id=blocker.id,
                    item_key=row.item_key,
                    age_working_hours=round(working_hours(blocker.raised_at, now, calendar), 2),
                    threshold_hours=threshold,
                    reason=blocker.reason,
                    waiting_on=_waiting_on_of(row),
                    raised_by=row.raised_by.username if row.raised_by is not None else None,
                ),
                project,
                None,
                subject=blocker.id,
            )
            escalated += 1
    return escalated
