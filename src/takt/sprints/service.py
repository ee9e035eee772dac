"""Sprint lifecycle: plan, scope, start (freeze the commitment), complete (carry over, freeze the
report), cancel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.bounds import FIRST_DATE, LAST_DATE, in_calendar
from takt.core.concurrency import claim, claim_all
from takt.core.errors import Conflict, NotFound, ValidationFailed
from takt.core.events import emit
from takt.core.locks import hold_transaction_lock
from takt.core.pagination import PageRequest, SortKey
from takt.core.time import local_date, utcnow
from takt.items import repository as items_repo
from takt.items import service as items
from takt.items.models import Item
from takt.items.schemas import ItemUpdate
from takt.projects import repository as projects_repo
from takt.projects.policies import ProjectAccess
from takt.sprints import reports
from takt.sprints import repository as repo
from takt.sprints.events import (
    SprintCancelled,
    SprintChanges,
    SprintCompleted,
    SprintCreated,
    SprintDeleted,
    SprintStarted,
    SprintUpdated,
)
from takt.sprints.models import Sprint, SprintCapacity
from takt.sprints.schemas import (
    CapacityUpdate,
    CompleteRequest,
    SprintCreate,
    SprintFilters,
    SprintUpdate,
)


class SprintAlreadyActive(Conflict):
    """The project already has an active sprint. Complete or cancel it before starting another."""

    code = "sprint-already-active"
    title = "Sprint already active"


class InvalidSprintState(Conflict):
    """The sprint is not in a state that allows this (e.g. starting a completed sprint). Read its
    `state`: planned → active → completed, or cancelled."""

    code = "invalid-sprint-state"
    title = "Invalid sprint state"


@dataclass(frozen=True)
class SprintContext:
    access: ProjectAccess
    sprint: Sprint


async def list_sprints(
    session: AsyncSession, access: ProjectAccess, *, filters: SprintFilters, page: PageRequest
) -> tuple[list[Sprint], str | None]:
    """One page of the project's sprints, by start date, and the cursor of the next page."""
    return await page.fetch(
        session,
        repo.sprints_of(access.project.id, [filters.state] if filters.state else None),
        keys=[SortKey(Sprint.start_date), SortKey(Sprint.id)],
        key_of=lambda s: (s.start_date.isoformat(), s.id),
        sort_name="sprints",
    )


def report_of(ctx: SprintContext) -> dict[str, Any]:
    """The frozen report; a sprint has one once it is completed."""
    if ctx.sprint.report is None:
        raise InvalidSprintState("The report exists once the sprint is completed.")
    return ctx.sprint.report


# A sprint is a time box: bounding it also bounds every per-day report over it.
MAX_SPRINT_DAYS = 366


def _check_span(start: date, end: date) -> None:
    """Dates the calendar arithmetic can carry (a default or a carried-over sprint's dates are
    computed, so they are checked here as well as in the request schema)."""
    for pointer, day in (("/start_date", start), ("/end_date", end)):
        if not in_calendar(day):
            raise ValidationFailed.at(
                pointer,
                f"outside {FIRST_DATE}..{LAST_DATE}",
                detail=f"Sprint dates run from {FIRST_DATE} to {LAST_DATE}.",
            )
    if end < start:
        raise ValidationFailed.at(
            "/end_date",
            "before start_date",
            detail="end_date is before start_date.",
        )
    if (end - start).days + 1 > MAX_SPRINT_DAYS:
        raise ValidationFailed.at(
            "/end_date",
            f"more than {MAX_SPRINT_DAYS} days",
            detail=f"A sprint lasts at most {MAX_SPRINT_DAYS} days.",
        )


async def _default_dates(
    session: AsyncSession, access: ProjectAccess, start: date | None, end: date | None
) -> tuple[date, date]:
    """A sprint follows the project's last one: it starts the day after the last sprint (not
    cancelled) ends, or today if that is later, so a team back from a pause doesn't plan in
    the past."""
    settings = access.project.settings
    if start is None:
        start = local_date(utcnow(), settings.get("time_zone", "UTC"))
        last_end = await repo.last_end_date(session, access.project.id)
        if last_end is not None and last_end >= start:
            if last_end >= LAST_DATE:
                raise ValidationFailed.at(
                    "/start_date",
                    "no default after 9000-12-31",
                    detail=f"The project's last sprint ends on {LAST_DATE}; give start_date.",
                )
            start = last_end + timedelta(days=1)
    if end is None:
        length = int(settings.get("sprint_length_days", 14))
        end = min(start + timedelta(days=length - 1), max(start, LAST_DATE))
    _check_span(start, end)
    return start, end


async def create_sprint(session: AsyncSession, access: ProjectAccess, data: SprintCreate) -> Sprint:
    access.require_write()
    # One new sprint of a project at a time: a sprint without dates follows the last one, so
    # two planned at once must not both follow the same one.
    await hold_transaction_lock(session, f"sprints.create:{access.project.id}")
    start, end = await _default_dates(session, access, data.start_date, data.end_date)
    sprint = Sprint(
        project_id=access.project.id,
        name=data.name,
        goal=data.goal,
        start_date=start,
        end_date=end,
        state="planned",
    )
    session.add(sprint)
    await session.flush()
    await emit(
        session,
        SprintCreated(
            id=sprint.id, name=sprint.name, start_date=start.isoformat(), end_date=end.isoformat()
        ),
        access.project,
        access.principal,
        subject=sprint,
    )
    return sprint


async def _claim_with_scope(session: AsyncSession, sprint: Sprint) -> list[tuple[Item, str]]:
    """Lock the sprint's items, then the sprint (the order of every write that moves an item
    in or out of a sprint: the item, then the sprint `FOR SHARE`, see
    `repository.hold_in_project`, so the two can't deadlock), and return its live items with
    their categories as they stand under the locks: a status change or a move out of the
    sprint that held an item has committed by then."""
    scope = await repo.items_with_category(session, sprint.id)
    await claim_all(session, [item for item, _ in scope])
    await claim(session, sprint, None)
    scope = await repo.items_with_category(session, sprint.id)
    # Items that joined while the sprint's lock was awaited; already claimed ones are skipped.
    await claim_all(session, [item for item, _ in scope])
    return scope


async def _hold(session: AsyncSession, ctx: SprintContext) -> None:
    """The sprint's state read again and kept until the transaction ends (its row `FOR SHARE`),
    for a write that changes what it holds while it must stay open."""
    if not await repo.hold_in_project(session, ctx.access.project.id, [ctx.sprint.id]):
        raise NotFound("No such sprint.")


def _writable(sprint: Sprint) -> None:
    if sprint.state in ("completed", "cancelled"):
        raise InvalidSprintState(f"Sprint {sprint.name!r} is {sprint.state} and read-only.")


async def update_sprint(
    session: AsyncSession, ctx: SprintContext, data: SprintUpdate, *, if_match: str | None
) -> Sprint:
    ctx.access.require_write()
    sprint = ctx.sprint
    await claim(session, sprint, if_match)
    _writable(sprint)
    changes: dict[str, list[Any]] = {}
    for field in ("name", "goal"):
        value = getattr(data, field)
        if value is not None and value != getattr(sprint, field):
            changes[field] = [getattr(sprint, field), value]
            setattr(sprint, field, value)
    start = data.start_date or sprint.start_date
    end = data.end_date or sprint.end_date
    if (start, end) != (sprint.start_date, sprint.end_date):
        if sprint.state != "planned" and start != sprint.start_date:
            raise InvalidSprintState("An active sprint's start date can't change.")
        _check_span(start, end)
        changes["dates"] = [
            [sprint.start_date.isoformat(), sprint.end_date.isoformat()],
            [start.isoformat(), end.isoformat()],
        ]
        sprint.start_date, sprint.end_date = start, end
    if changes:
        await session.flush()
        await emit(
            session,
            SprintUpdated(id=sprint.id),
            ctx.access.project,
            ctx.access.principal,
            SprintChanges.model_validate(changes),
            subject=sprint,
        )
    return sprint


async def delete_sprint(session: AsyncSession, ctx: SprintContext, *, if_match: str | None) -> None:
    """Only a planned or cancelled sprint can go; its items return to the backlog."""
    ctx.access.require_write()
    sprint = ctx.sprint
    scope = await _claim_with_scope(session, sprint)
    await claim(session, sprint, if_match)
    if sprint.state in ("active", "completed"):
        raise InvalidSprintState(f"An {sprint.state} sprint can't be deleted.")
    for item, _ in scope:
        await items.update_item(
            session,
            ctx.access,
            item,
            ItemUpdate(sprint_id=None),
            if_match=None,
            reason="sprint deleted",
        )
    await emit(
        session,
        SprintDeleted(id=sprint.id, name=sprint.name),
        ctx.access.project,
        ctx.access.principal,
        subject=sprint,
    )
    await session.delete(sprint)
    await session.flush()


async def add_items(session: AsyncSession, ctx: SprintContext, keys: list[str]) -> Sprint:
    ctx.access.require_write()
    _writable(ctx.sprint)
    found = {i.key: i for i in await items_repo.get_items(session, ctx.access.project.id, keys)}
    for index, key in enumerate(keys):
        if key not in found:
            raise ValidationFailed.at(
                f"/item_keys/{index}",
                "unknown item",
                detail=f"No item {key} in this project.",
            )
    await claim_all(session, list(found.values()))
    for key in dict.fromkeys(keys):
        if found[key].sprint_id != ctx.sprint.id:
            await items.update_item(
                session, ctx.access, found[key], ItemUpdate(sprint_id=ctx.sprint.id), if_match=None
            )
    return ctx.sprint


async def remove_item(session: AsyncSession, ctx: SprintContext, key: str) -> None:
    ctx.access.require_write()
    _writable(ctx.sprint)
    item = await items_repo.get_item(session, ctx.access.project.id, key)
    if item is not None:
        # The item as it stands, then the sprint (in that order, as every move): a completion
        # that carried the item on meanwhile has committed by then.
        await claim(session, item, None)
        await _hold(session, ctx)
        _writable(ctx.sprint)
    if item is None or item.sprint_id != ctx.sprint.id:
        raise NotFound(f"{key} is not in this sprint.")
    await items.update_item(session, ctx.access, item, ItemUpdate(sprint_id=None), if_match=None)


async def start_sprint(session: AsyncSession, ctx: SprintContext) -> Sprint:
    """Freeze the commitment: the items and their estimates right now."""
    ctx.access.require_write()
    sprint = ctx.sprint
    if sprint.state != "planned":  # as loaded; checked again under the lock
        raise InvalidSprintState(f"Only a planned sprint can start; this one is {sprint.state}.")
    # The commitment is what the sprint holds once no move in or out of it is under way.
    current = await _claim_with_scope(session, sprint)
    if sprint.state != "planned":
        raise InvalidSprintState(f"Only a planned sprint can start; this one is {sprint.state}.")
    if await repo.active_sprint(session, sprint.project_id) is not None:
        raise SprintAlreadyActive("Another sprint of this project is active.")
    scope = [(i, c) for i, c in current if c != "cancelled"]
    sprint.commitment = [{"item_id": i.id, "key": i.key, "estimate": i.estimate} for i, _ in scope]
    sprint.state = "active"
    sprint.started_at = utcnow()
    try:
        # The partial unique index decides a race between two concurrent starts.
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise SprintAlreadyActive("Another sprint of this project is active.") from exc
    points = sum(i.estimate or 0 for i, _ in scope)
    await emit(
        session,
        SprintStarted(
            id=sprint.id, name=sprint.name, committed_items=len(scope), committed_points=points
        ),
        ctx.access.project,
        ctx.access.principal,
        subject=sprint,
    )
    return sprint


async def _carry_target(session: AsyncSession, ctx: SprintContext, target: str) -> Sprint | None:
    sprint, access = ctx.sprint, ctx.access
    if target == "backlog":
        return None
    if target == "next":
        following = await repo.next_planned(session, sprint.project_id, sprint.id)
        if following is not None:
            return following
        length = (sprint.end_date - sprint.start_date).days + 1
        if (LAST_DATE - sprint.end_date).days < length:
            raise ValidationFailed.at(
                "/carry_over_to",
                "no room for a next sprint",
                detail=f"A next sprint would end after {LAST_DATE}; carry over to the backlog.",
            )
        count = await repo.count_sprints(session, sprint.project_id)
        return await create_sprint(
            session,
            access,
            SprintCreate(
                name=f"Sprint {count + 1}",
                start_date=sprint.end_date + timedelta(days=1),
                end_date=sprint.end_date + timedelta(days=length),
            ),
        )
    chosen = await repo.get_in_project(session, sprint.project_id, target)
    if chosen is None or chosen.id == sprint.id or chosen.state != "planned":
        raise ValidationFailed.at(
            "/carry_over_to",
            "not a planned sprint",
            detail=(
                "`carry_over_to` must be backlog, next, or the id of a planned sprint of this"
                " project."
            ),
        )
    return chosen


async def complete_sprint(
    session: AsyncSession, ctx: SprintContext, data: CompleteRequest
) -> Sprint:
    """Freeze the report, then move every unfinished item where the request says."""
    ctx.access.require_write()
    sprint = ctx.sprint
    if sprint.state != "active":  # as loaded; checked again under the lock
        raise InvalidSprintState(f"Only an active sprint can complete; this one is {sprint.state}.")
    # The report and the carry-over take the items as they are once no move in or out of the
    # sprint, or status change of one of its items, is under way.
    current = await _claim_with_scope(session, sprint)
    if sprint.state != "active":
        raise InvalidSprintState(f"Only an active sprint can complete; this one is {sprint.state}.")
    target = await _carry_target(session, ctx, data.carry_over_to)
    now = utcnow()
    report = await reports.final_report(session, ctx.access.project, sprint, current, now)
    report["carried_over_to"] = target.id if target else "backlog"
    # Moved while the sprint is still active (a completed sprint's scope is frozen); the report
    # above was taken first, so these moves are carry-over, not scope change.
    for item, category in current:
        if category not in ("done", "cancelled"):
            await items.update_item(
                session,
                ctx.access,
                item,
                ItemUpdate(sprint_id=target.id if target else None),
                if_match=None,
                reason="carry-over",
            )
    sprint.report = report
    sprint.state = "completed"
    sprint.completed_at = now
    await session.flush()
    await emit(
        session,
        SprintCompleted(id=sprint.id, name=sprint.name, report=report),
        ctx.access.project,
        ctx.access.principal,
        subject=sprint,
    )
    return sprint


async def cancel_sprint(session: AsyncSession, ctx: SprintContext) -> Sprint:
    """Abandon a planned or active sprint; its unfinished items return to the backlog."""
    ctx.access.require_write()
    sprint = ctx.sprint
    if sprint.state not in ("planned", "active"):  # as loaded; checked again under the lock
        raise InvalidSprintState(f"A {sprint.state} sprint can't be cancelled.")
    scope = await _claim_with_scope(session, sprint)
    if sprint.state not in ("planned", "active"):
        raise InvalidSprintState(f"A {sprint.state} sprint can't be cancelled.")
    for item, category in scope:
        if category not in ("done", "cancelled"):
            await items.update_item(
                session,
                ctx.access,
                item,
                ItemUpdate(sprint_id=None),
                if_match=None,
                reason="sprint cancelled",
            )
    sprint.state = "cancelled"
    sprint.completed_at = utcnow()
    await session.flush()
    await emit(
        session,
        SprintCancelled(id=sprint.id, name=sprint.name),
        ctx.access.project,
        ctx.access.principal,
        subject=sprint,
    )
    return sprint


async def set_capacity(
    session: AsyncSession, context: SprintContext, user_id: str, body: CapacityUpdate
) -> None:
    """A member's allocation and days off for this sprint (viewers carry no capacity); the
    member is named by user id or username."""
    context.access.require_write()
    await _hold(session, context)  # a completion reads the capacity into its report
    if context.sprint.state in ("completed", "cancelled"):
        raise InvalidSprintState("A finished sprint's capacity is frozen.")
    member = await projects_repo.get_member_by_ref(session, context.access.project.id, user_id)
    if member is None or member[0].role == "viewer":
        raise NotFound("No such team member in this project.")
    user_id = member[1].id
    rows = await repo.capacity_rows(session, context.sprint.id)
    row = rows.get(user_id) or SprintCapacity(sprint_id=context.sprint.id, user_id=user_id)
    row.allocation = body.allocation
    row.absent_days = sorted({d.isoformat() for d in body.absent_days})
    session.add(row)
    await session.flush()
