"""The risk register: rate (likelihood x impact, banded), own, mitigate, review, link to items
and sprints; every change recorded as a `risk.*` event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import User
from takt.core.concurrency import claim
from takt.core.errors import Conflict, ValidationFailed
from takt.core.events import emit
from takt.core.pagination import PageRequest, SortKey
from takt.core.time import local_date, utcnow
from takt.items import repository as items_repo
from takt.projects import repository as projects_repo
from takt.projects.models import Project
from takt.projects.policies import ProjectAccess
from takt.risks import repository as repo
from takt.risks.events import RiskChanges, RiskCreated, RiskDeleted, RiskUpdated
from takt.risks.hooks import RiskDeleting, risk_deleting
from takt.risks.models import Risk
from takt.risks.schemas import RiskCreate, RiskFields, RiskFilters, RiskUpdate
from takt.sprints import repository as sprints_repo


class RiskAlreadyRecorded(Conflict):
    """The blocker was already promoted to a risk (its `risk_id` names it). Update that risk
    instead; a blocker is promoted once, unless its risk is deleted."""

    code = "blocker-already-promoted"
    title = "Blocker already promoted"


def severity_of(score: int) -> str:
    """The band of a score: 1-4 low, 5-9 medium, 10-16 high, 20-25 critical (a 5x5 matrix
    has no score between 16 and 20)."""
    for name, _, high in repo.BANDS:
        if score <= high:
            return name
    return "critical"


def today_of(project: Project) -> date:
    """Today in the project's time zone: what `overdue` compares a review date with."""
    return local_date(utcnow(), str(project.settings.get("time_zone", "UTC")))


def is_overdue(risk: Risk, today: date) -> bool:
    return risk.review_date is not None and risk.review_date < today and risk.status != "closed"


@dataclass(frozen=True)
class RiskContext:
    """A risk of a project the caller can see, with its owner."""

    access: ProjectAccess
    risk: Risk
    owner: User | None


@dataclass(frozen=True)
class ShownRisk:
    """A risk with what its answer shows besides its own columns."""

    risk: Risk
    owner: User | None
    item_keys: list[str]
    sprint_ids: list[str]


async def _shown(session: AsyncSession, rows: list[tuple[Risk, User | None]]) -> list[ShownRisk]:
    """The rows with their links (two statements for any number of risks)."""
    ids = [risk.id for risk, _ in rows]
    keys, sprints = await repo.item_keys_of(session, ids), await repo.sprint_ids_of(session, ids)
    return [ShownRisk(r, owner, keys.get(r.id, []), sprints.get(r.id, [])) for r, owner in rows]


async def show_risk(session: AsyncSession, ctx: RiskContext) -> ShownRisk:
    """The risk with its links."""
    return (await _shown(session, [(ctx.risk, ctx.owner)]))[0]


async def list_risks(
    session: AsyncSession, access: ProjectAccess, *, filters: RiskFilters, page: PageRequest
) -> tuple[list[ShownRisk], str | None]:
    """One page of the project's risks, the worst (highest score) first."""
    stmt = repo.risks_of(
        access.project.id,
        status=filters.status,
        severity=repo.band_of(filters.severity) if filters.severity else None,
        overdue=filters.overdue,
        overdue_on=today_of(access.project),
        owner_ref=filters.owner,
        item_key=filters.item,
        sprint_id=filters.sprint_id,
    )
    rows, next_cursor = await page.fetch(
        session,
        stmt,
        keys=[SortKey(Risk.score, descending=True), SortKey(Risk.id)],
        key_of=lambda row: (row[0].score, row[0].id),
        sort_name="risks",
        scalars=False,
    )
    return await _shown(session, [(risk, owner) for risk, owner in rows]), next_cursor


async def _owner(session: AsyncSession, project_id: str, ref: str) -> User:
    """A member who can write, by username or id; anyone else is unknown (no leak)."""
    found = await projects_repo.get_member_by_ref(session, project_id, ref)
    if found is None:
        raise ValidationFailed.at("/owner", f"{ref!r} is not a member of this project")
    member, user = found
    if member.role == "viewer":
        raise ValidationFailed.at(
            "/owner", f"{ref!r} is a viewer of this project; viewers can't own a risk"
        )
    return user


async def _item_ids(session: AsyncSession, project_id: str, keys: list[str]) -> list[str]:
    found = {i.key: i for i in await items_repo.get_items(session, project_id, keys)}
    for index, key in enumerate(keys):
        if key not in found:
            raise ValidationFailed.at(
                f"/item_keys/{index}", "unknown item", detail=f"No item {key} in this project."
            )
    return sorted({found[k].id for k in keys})


async def _sprint_ids(session: AsyncSession, project_id: str, ids: list[str]) -> list[str]:
    found = {s.id for s in await sprints_repo.find_in_project(session, project_id, ids)}
    for index, sprint_id in enumerate(ids):
        if sprint_id not in found:
            raise ValidationFailed.at(f"/sprint_ids/{index}", "not a sprint of this project")
    return sorted(found)


def _breaks_unique_blocker(exc: IntegrityError) -> bool:
    """Whether the failure is risks' unique blocker id: PostgreSQL names the constraint,
    SQLite the column."""
    message = str(exc.orig)
    return "uq_risks_blocker_id" in message or "risks.blocker_id" in message


def _rate(risk: Risk, likelihood: int, impact: int) -> None:
    risk.likelihood, risk.impact, risk.score = likelihood, impact, likelihood * impact


async def create_risk(
    session: AsyncSession,
    access: ProjectAccess,
    data: RiskCreate,
    *,
    blocker_id: str | None = None,
) -> ShownRisk:
    """Add a risk; `blocker_id` records the blocker it is promoted from (`takt.blockers`)."""
    access.require_write()
    project_id = access.project.id
    owner = await _owner(session, project_id, data.owner) if data.owner else None
    item_ids = await _item_ids(session, project_id, data.item_keys or [])
    sprint_ids = await _sprint_ids(session, project_id, data.sprint_ids or [])
    risk = Risk(
        project_id=project_id,
        title=data.title,
        description=data.description or "",
        status=data.status or "open",
        owner_id=owner.id if owner else None,
        mitigation=data.mitigation or "",
        review_date=data.review_date,
        blocker_id=blocker_id,
        created_by_id=access.principal.id,
    )
    _rate(risk, data.likelihood, data.impact)
    session.add(risk)
    try:
        # The unique blocker id settles two promotions of one blocker that got past its lock.
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        if blocker_id is not None and _breaks_unique_blocker(exc):
            raise RiskAlreadyRecorded("This blocker was already promoted to a risk.") from exc
        raise  # any other constraint is not a promotion's clash: the generic handling answers
    await repo.set_items(session, risk.id, item_ids)
    await repo.set_sprints(session, risk.id, sprint_ids)
    keys = (await repo.item_keys_of(session, [risk.id])).get(risk.id, [])
    await emit(
        session,
        RiskCreated(
            id=risk.id,
            title=risk.title,
            likelihood=risk.likelihood,
            impact=risk.impact,
            score=risk.score,
            severity=severity_of(risk.score),
            status=risk.status,
            owner=owner.username if owner else None,
            blocker_id=blocker_id,
            item_keys=keys,
            sprint_ids=sprint_ids,
        ),
        access.project,
        access.principal,
        subject=risk,
    )
    return ShownRisk(risk, owner, keys, sprint_ids)


async def _apply(
    session: AsyncSession, ctx: RiskContext, data: RiskFields
) -> tuple[dict[str, list[Any]], User | None]:
    risk, project_id = ctx.risk, ctx.access.project.id
    sent = data.model_fields_set
    changes: dict[str, list[Any]] = {}

    def change(field: str, old: Any, new: Any) -> None:
        if old != new:
            changes[field] = [old, new]

    for field in ("title", "description", "mitigation", "status"):
        value = getattr(data, field)
        if value is not None:
            change(field, getattr(risk, field), value)
            setattr(risk, field, value)
    likelihood = data.likelihood or risk.likelihood
    impact = data.impact or risk.impact
    old_score = risk.score
    change("likelihood", risk.likelihood, likelihood)
    change("impact", risk.impact, impact)
    _rate(risk, likelihood, impact)
    change("score", old_score, risk.score)
    change("severity", severity_of(old_score), severity_of(risk.score))
    owner = ctx.owner
    if "owner" in sent:
        owner = await _owner(session, project_id, data.owner) if data.owner else None
        change(
            "owner",
            ctx.owner.username if ctx.owner else None,
            owner.username if owner else None,
        )
        risk.owner_id = owner.id if owner else None
    if "review_date" in sent:
        change("review_date", _iso(risk.review_date), _iso(data.review_date))
        risk.review_date = data.review_date
    if data.item_keys is not None:
        old_keys = (await repo.item_keys_of(session, [risk.id])).get(risk.id, [])
        item_ids = await _item_ids(session, project_id, data.item_keys)
        await repo.set_items(session, risk.id, item_ids)
        new_keys = (await repo.item_keys_of(session, [risk.id])).get(risk.id, [])
        change("item_keys", old_keys, new_keys)
    if data.sprint_ids is not None:
        old_ids = (await repo.sprint_ids_of(session, [risk.id])).get(risk.id, [])
        new_ids = await _sprint_ids(session, project_id, data.sprint_ids)
        await repo.set_sprints(session, risk.id, new_ids)
        change("sprint_ids", old_ids, new_ids)
    return changes, owner


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


async def update_risk(
    session: AsyncSession, ctx: RiskContext, data: RiskUpdate, *, if_match: str | None
) -> ShownRisk:
    """Change what was sent; one `risk.updated` lists each change as [old, new]. Closing a
    risk changes nothing else: a blocker promoted to it stays as it is."""
    ctx.access.require_write()
    await claim(session, ctx.risk, if_match)
    with session.no_autoflush:
        changes, owner = await _apply(session, ctx, data)
    if changes:
        ctx.risk.updated_at = utcnow()  # moves the version too, when only links changed
        await session.flush()
        await emit(
            session,
            RiskUpdated(id=ctx.risk.id),
            ctx.access.project,
            ctx.access.principal,
            RiskChanges.model_validate(changes),
            subject=ctx.risk,
        )
    return await show_risk(session, RiskContext(access=ctx.access, risk=ctx.risk, owner=owner))


async def delete_risk(session: AsyncSession, ctx: RiskContext, *, if_match: str | None) -> None:
    """Take the risk out of the register (its links go with it; a blocker promoted to it
    shows no risk any more and can be promoted again)."""
    ctx.access.require_write()
    await claim(session, ctx.risk, if_match)
    await risk_deleting.fire(session, RiskDeleting(ctx.access, ctx.risk))
    await emit(
        session,
        RiskDeleted(id=ctx.risk.id, title=ctx.risk.title),
        ctx.access.project,
        ctx.access.principal,
        subject=ctx.risk,
    )
    await session.delete(ctx.risk)
    await session.flush()


async def matrix(session: AsyncSession, access: ProjectAccess) -> dict[str, Any]:
    """The 5x5 counts of open risks (open or mitigating), with totals by severity."""
    counts = [[0] * 5 for _ in range(5)]
    by_severity = {name: 0 for name, _, _ in repo.BANDS}
    for likelihood, impact, count in await repo.matrix_counts(session, access.project.id):
        counts[likelihood - 1][impact - 1] += count
        by_severity[severity_of(likelihood * impact)] += count
    return {"counts": counts, "by_severity": by_severity, "total": sum(by_severity.values())}
