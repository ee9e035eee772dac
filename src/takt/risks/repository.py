"""Every query of the risk register: risks, their links, the matrix."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from takt.auth.models import User
from takt.items.models import Item
from takt.items.repository import LIVE
from takt.projects.models import Project
from takt.projects.repository import ChildFinder
from takt.risks.models import LIVE_STATUSES, Risk, RiskItem, RiskSprint

Owner = aliased(User, name="owner")

# The risk of a `/risks/{risk_id}` path with its project and its owner
# (`projects.service.load_in_project`).
RISK_BY_ID = ChildFinder[Risk](
    lambda: (
        select(Risk, Project, Owner)
        .join(Project, Project.id == Risk.project_id)
        .outerjoin(Owner, Owner.id == Risk.owner_id)
        .where(Risk.id == bindparam("risk_id"))
    ),
    param="risk_id",
)

# The severity bands of a score (the score of a 5x5 matrix is one of 1..25).
BANDS = (("low", 1, 4), ("medium", 5, 9), ("high", 10, 16), ("critical", 20, 25))


def band_of(severity: str) -> tuple[int, int]:
    for name, low, high in BANDS:
        if name == severity:
            return low, high
    raise ValueError(severity)


def not_closed_past(today: date) -> ColumnElement[bool]:
    """Past its review date on `today` and not closed: overdue."""
    return and_(Risk.review_date < today, Risk.status != "closed")


def risks_of(
    project_id: str,
    *,
    status: str | None = None,
    severity: tuple[int, int] | None = None,
    overdue_on: date | None = None,
    overdue: bool | None = None,
    owner_ref: str | None = None,
    item_key: str | None = None,
    sprint_id: str | None = None,
) -> Select[Risk, User]:
    """The project's risks with their owner, narrowed by the filters given (a statement to page)."""
    stmt = (
        select(Risk, Owner)
        .outerjoin(Owner, Owner.id == Risk.owner_id)
        .where(Risk.project_id == project_id)
    )
    if status is not None:
        stmt = stmt.where(Risk.status == status)
    if severity is not None:
        stmt = stmt.where(Risk.score.between(*severity))
    if overdue is not None and overdue_on is not None:
        past = not_closed_past(overdue_on)
        stmt = stmt.where(past if overdue else or_(Risk.review_date.is_(None), ~past))
    if owner_ref is not None:
        stmt = stmt.where(or_(Owner.id == owner_ref, Owner.username_key == owner_ref.lower()))
    if item_key is not None:
        stmt = stmt.where(
            Risk.id.in_(
                select(RiskItem.risk_id)
                .join(Item, Item.id == RiskItem.item_id)
                .where(Item.key == item_key, Item.project_id == project_id)
            )
        )
    if sprint_id is not None:
        stmt = stmt.where(
            Risk.id.in_(select(RiskSprint.risk_id).where(RiskSprint.sprint_id == sprint_id))
        )
    return stmt


async def item_keys_of(session: AsyncSession, risk_ids: Sequence[str]) -> dict[str, list[str]]:
    """The keys of the (live) items each risk threatens, by key (one statement for a page)."""
    found: dict[str, list[str]] = defaultdict(list)
    if not risk_ids:
        return found
    rows = await session.execute(
        select(RiskItem.risk_id, Item.key)
        .join(Item, Item.id == RiskItem.item_id)
        .where(RiskItem.risk_id.in_(list(risk_ids)), LIVE)
        .order_by(Item.number)
    )
    for risk_id, key in rows:
        found[risk_id].append(key)
    return found


async def sprint_ids_of(session: AsyncSession, risk_ids: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    if not risk_ids:
        return found
    rows = await session.execute(
        select(RiskSprint.risk_id, RiskSprint.sprint_id)
        .where(RiskSprint.risk_id.in_(list(risk_ids)))
        .order_by(RiskSprint.sprint_id)
    )
    for risk_id, sprint_id in rows:
        found[risk_id].append(sprint_id)
    return found


async def set_items(session: AsyncSession, risk_id: str, item_ids: Sequence[str]) -> None:
    await session.execute(delete(RiskItem).where(RiskItem.risk_id == risk_id))
    if item_ids:
        await session.execute(
            insert(RiskItem), [{"risk_id": risk_id, "item_id": i} for i in item_ids]
        )


async def set_sprints(session: AsyncSession, risk_id: str, sprint_ids: Sequence[str]) -> None:
    await session.execute(delete(RiskSprint).where(RiskSprint.risk_id == risk_id))
    if sprint_ids:
        await session.execute(
            insert(RiskSprint), [{"risk_id": risk_id, "sprint_id": s} for s in sprint_ids]
        )


async def matrix_counts(session: AsyncSession, project_id: str) -> list[tuple[int, int, int]]:
    """(likelihood, impact, count) of the project's open risks, for each pair that has any."""
    rows = await session.execute(
        select(Risk.likelihood, Risk.impact, func.count())
        .where(Risk.project_id == project_id, Risk.status.in_(LIVE_STATUSES))
        .group_by(Risk.likelihood, Risk.impact)
    )
    return [(int(lk), int(im), int(n)) for lk, im, n in rows]


# Export and import (`takt.transfer`) ----------------------------------------------------------


async def project_risks(session: AsyncSession, project_id: str) -> list[Risk]:
    """The project's risks, oldest first."""
    return list(
        await session.scalars(
            select(Risk).where(Risk.project_id == project_id).order_by(Risk.created_at, Risk.id)
        )
    )


async def project_risk_links(
    session: AsyncSession, project_id: str
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(risk id, item id) of each link of the project's risks to an item outside the trash, and
    (risk id, sprint id) of each link to a sprint: two statements for the whole register."""
    items = await session.execute(
        select(RiskItem.risk_id, RiskItem.item_id)
        .join(Risk, Risk.id == RiskItem.risk_id)
        .join(Item, Item.id == RiskItem.item_id)
        .where(Risk.project_id == project_id, LIVE)
        .order_by(Item.number)
    )
    sprints = await session.execute(
        select(RiskSprint.risk_id, RiskSprint.sprint_id)
        .join(Risk, Risk.id == RiskSprint.risk_id)
        .where(Risk.project_id == project_id)
    )
    return [(r, i) for r, i in items], [(r, s) for r, s in sprints]


async def insert_imported(
    session: AsyncSession,
    *,
    risks: Sequence[dict[str, object]],
    items: Sequence[dict[str, object]],
    sprints: Sequence[dict[str, object]],
) -> None:
    """An imported project's risk register and its links, in one INSERT per table."""
    for model, rows in ((Risk, risks), (RiskItem, items), (RiskSprint, sprints)):
        if rows:
            await session.execute(insert(model), list(rows))
