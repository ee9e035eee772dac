"""Every query of planning poker: a session with its facilitator, the project's list, the
session's participants, items, rounds and votes, the vote upsert, and the calibration query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from takt.auth.models import User
from takt.core.models import new_id
from takt.estimation.calibration import nearest_rank
from takt.estimation.models import (
    EstimationItem,
    EstimationParticipant,
    EstimationRound,
    EstimationSession,
    EstimationVote,
)
from takt.items.models import Item
from takt.projects.models import Project, ProjectMember
from takt.projects.repository import ChildFinder
from takt.workflow.models import Status

Facilitator = aliased(User, name="facilitator")
AnySelect = Select[*tuple[Any, ...]]
# The roles that may vote (viewers only read).
VOTING_ROLES = ("member", "admin")


# The session of an `/estimations/{session_id}` path with its project and its facilitator
# (`projects.service.load_in_project`): one statement.
SESSION_BY_ID = ChildFinder[EstimationSession](
    lambda: (
        select(EstimationSession, Project, Facilitator)
        .join(Project, Project.id == EstimationSession.project_id)
        .outerjoin(Facilitator, Facilitator.id == EstimationSession.facilitator_id)
        .where(EstimationSession.id == bindparam("session_id"))
    ),
    param="session_id",
)


def _count_items(*conditions: ColumnElement[bool]) -> Any:
    return (
        select(func.count())
        .select_from(EstimationItem)
        .where(EstimationItem.session_id == EstimationSession.id, *conditions)
        .scalar_subquery()
    )


def sessions_of(project_id: str, state: str | None) -> AnySelect:
    """The project's sessions with (facilitator, items, estimated, current item's key): a
    statement to page."""
    # Up now: the item at the current position, or the next one left if it was purged from
    # the trash (`service.show_session`).
    current_key = (
        select(Item.key)
        .join(EstimationItem, EstimationItem.item_id == Item.id)
        .where(
            EstimationItem.session_id == EstimationSession.id,
            EstimationItem.position >= EstimationSession.current_position,
        )
        .order_by(EstimationItem.position)
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(
            EstimationSession,
            Facilitator,
            _count_items(),
            _count_items(EstimationItem.state == "estimated"),
            current_key,
        )
        .outerjoin(Facilitator, Facilitator.id == EstimationSession.facilitator_id)
        .where(EstimationSession.project_id == project_id)
    )
    if state is not None:
        stmt = stmt.where(EstimationSession.state == state)
    return stmt


# Creating ------------------------------------------------------------------------------------


async def voting_members(
    session: AsyncSession, project_id: str, refs: Sequence[str] | None
) -> list[tuple[User, str]]:
    """(user, role) of the project's members named by id or username in `refs`, or of every
    member whose account is not disabled when `refs` is None."""
    stmt = (
        select(User, ProjectMember.role)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .where(ProjectMember.project_id == project_id)
    )
    if refs is None:
        stmt = stmt.where(User.is_active.is_(True))
    else:
        keys = [ref.strip().lower() for ref in refs]
        stmt = stmt.where(or_(User.id.in_(list(refs)), User.username_key.in_(keys)))
    return [(user, role) for user, role in await session.execute(stmt)]


# A session's parts ---------------------------------------------------------------------------


async def participants(session: AsyncSession, session_id: str) -> list[User]:
    return list(
        await session.scalars(
            select(User)
            .join(EstimationParticipant, EstimationParticipant.user_id == User.id)
            .where(EstimationParticipant.session_id == session_id)
            .order_by(User.username_key)
        )
    )


async def is_participant(session: AsyncSession, session_id: str, user_id: str) -> bool:
    found = await session.scalar(
        select(EstimationParticipant.user_id).where(
            EstimationParticipant.session_id == session_id,
            EstimationParticipant.user_id == user_id,
        )
    )
    return found is not None


def _votes_in_current_round() -> Any:
    return (
        select(func.count())
        .select_from(EstimationVote)
        .join(EstimationRound, EstimationRound.id == EstimationVote.round_id)
        .where(
            EstimationRound.session_item_id == EstimationItem.id,
            EstimationRound.number == EstimationItem.round,
        )
        .scalar_subquery()
    )


async def item_lines(
    session: AsyncSession, session_id: str
) -> list[tuple[EstimationItem, str, str, int]]:
    """(entry, item key, title, votes in its current round) of each item, in order."""
    rows = await session.execute(
        select(EstimationItem, Item.key, Item.title, _votes_in_current_round())
        .join(Item, Item.id == EstimationItem.item_id)
        .where(EstimationItem.session_id == session_id)
        .order_by(EstimationItem.position)
    )
    return [(entry, key, title, int(votes or 0)) for entry, key, title, votes in rows]


async def item_line(
    session: AsyncSession,
    session_id: str,
    *,
    item_key: str | None = None,
    position: int | None = None,
) -> tuple[EstimationItem, Item, int] | None:
    """(entry, item, votes in its current round) of the session's item with that key or at that
    position; None if the session has no such item."""
    stmt = (
        select(EstimationItem, Item, _votes_in_current_round())
        .join(Item, Item.id == EstimationItem.item_id)
        .where(EstimationItem.session_id == session_id)
    )
    if item_key is not None:
        stmt = stmt.where(Item.key == item_key)
    if position is not None:
        stmt = stmt.where(EstimationItem.position == position)
    row = (await session.execute(stmt)).first()
    return (row[0], row[1], int(row[2] or 0)) if row else None


async def next_pending(session: AsyncSession, session_id: str, after: int) -> EstimationItem | None:
    """The first item after position `after` that is not estimated yet."""
    result: EstimationItem | None = await session.scalar(
        select(EstimationItem)
        .where(
            EstimationItem.session_id == session_id,
            EstimationItem.position > after,
            EstimationItem.state == "pending",
        )
        .order_by(EstimationItem.position)
        .limit(1)
    )
    return result


async def first_from(
    session: AsyncSession, session_id: str, position: int
) -> EstimationItem | None:
    """The session's item with the lowest position from `position` on."""
    result: EstimationItem | None = await session.scalar(
        select(EstimationItem)
        .where(EstimationItem.session_id == session_id, EstimationItem.position >= position)
        .order_by(EstimationItem.position)
        .limit(1)
    )
    return result


async def count_estimated(session: AsyncSession, session_id: str) -> tuple[int, int]:
    """(items finalized, items) of the session."""
    row = (
        await session.execute(
            select(func.count().filter(EstimationItem.state == "estimated"), func.count()).where(
                EstimationItem.session_id == session_id
            )
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


async def rounds_of(session: AsyncSession, session_item_id: str) -> list[EstimationRound]:
    return list(
        await session.scalars(
            select(EstimationRound)
            .where(EstimationRound.session_item_id == session_item_id)
            .order_by(EstimationRound.number)
        )
    )


async def current_round(session: AsyncSession, entry: EstimationItem) -> EstimationRound:
    found = await session.scalar(
        select(EstimationRound).where(
            EstimationRound.session_item_id == entry.id, EstimationRound.number == entry.round
        )
    )
    assert found is not None  # an item being voted on always has its round
    return found


async def votes_of(
    session: AsyncSession, round_ids: Sequence[str]
) -> list[tuple[EstimationVote, User]]:
    """The votes of these rounds with their voters, in the order they were cast."""
    if not round_ids:
        return []
    rows = await session.execute(
        select(EstimationVote, User)
        .join(User, User.id == EstimationVote.voter_id)
        .where(EstimationVote.round_id.in_(list(round_ids)))
        .order_by(EstimationVote.voted_at, EstimationVote.id)
        # A vote this session read before an upsert changed its card shows the new card.
        .execution_options(populate_existing=True)
    )
    return [(vote, user) for vote, user in rows]


async def find_vote(session: AsyncSession, round_id: str, voter_id: str) -> EstimationVote | None:
    result: EstimationVote | None = await session.scalar(
        select(EstimationVote).where(
            EstimationVote.round_id == round_id, EstimationVote.voter_id == voter_id
        )
    )
    return result


async def upsert_vote(
    session: AsyncSession,
    round_id: str,
    voter_id: str,
    card: str,
    points: float | None,
    at: datetime,
) -> None:
    """The voter's card in the round: inserted, or replacing the one there. One statement, and
    the unique (round, voter) constraint decides: a participant never has two votes in a
    round, however their requests race."""
    dialect_insert: Any = (
        postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    )
    statement = dialect_insert(EstimationVote).values(
        id=new_id(),
        round_id=round_id,
        voter_id=voter_id,
        card=card,
        points=points,
        voted_at=at,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["round_id", "voter_id"],
            set_={
                "card": statement.excluded.card,
                "points": statement.excluded.points,
                "voted_at": statement.excluded.voted_at,
            },
        )
    )


# Calibration ---------------------------------------------------------------------------------


def _calibration_statement(dialect: str) -> AnySelect:
    """Per estimate among `values`: how many of the project's items finished with it, and their
    cycle times, grouped (one row per estimate).

    PostgreSQL: the nearest-rank median and 85th percentile themselves, `percentile_disc` over
    the intervals (its rank is ⌈p·n⌉, the same as `calibration.nearest_rank`). SQLite has no
    percentile: every cycle time in seconds, joined into one text per estimate
    (`group_concat`), which costs a third less than a row per item."""
    finished = Item.finished_at - Item.started_at
    if dialect == "postgresql":
        shown: tuple[Any, ...] = (
            func.percentile_disc(0.5).within_group(finished),
            func.percentile_disc(0.85).within_group(finished),
        )
    else:
        seconds = (func.julianday(Item.finished_at) - func.julianday(Item.started_at)) * 86400.0
        shown = (func.group_concat(seconds),)
    return (
        select(Item.estimate, func.count(), *shown)
        .join(Status, Status.id == Item.status_id)
        .where(
            Item.project_id == bindparam("project_id"),
            Item.deleted_at.is_(None),
            Item.started_at.is_not(None),
            Item.finished_at.is_not(None),
            Status.category == "done",
            Item.estimate.in_(bindparam("values", expanding=True)),
        )
        .group_by(Item.estimate)
    )


# Built once per database kind: a hot path of the reveal (building it costs more than running
# it on a small project).
_CALIBRATION: dict[str, AnySelect] = {}


async def cycle_times_by_estimate(
    session: AsyncSession, project_id: str, values: Sequence[float]
) -> list[tuple[float, int, float, float]]:
    """For each estimate in `values` that finished items of the project have: (estimate, how
    many, nearest-rank median and 85th-percentile cycle time in seconds). One statement.

    Finished: in a `done` status, with started_at and finished_at (cycle time = finished -
    started, METRICS.md, Flow), outside the trash."""
    if not values:
        return []
    dialect = session.get_bind().dialect.name
    stmt = _CALIBRATION.get(dialect)
    if stmt is None:
        stmt = _CALIBRATION[dialect] = _calibration_statement(dialect)
    rows = await session.execute(stmt, {"project_id": project_id, "values": list(values)})
    if dialect == "postgresql":
        return [
            (float(estimate), int(count), median.total_seconds(), p85.total_seconds())
            for estimate, count, median, p85 in rows
        ]
    found = []
    for estimate, count, joined in rows:
        cycles = sorted(float(text) for text in str(joined).split(","))
        found.append(
            (float(estimate), int(count), nearest_rank(cycles, 50), nearest_rank(cycles, 85))
        )
    return found
