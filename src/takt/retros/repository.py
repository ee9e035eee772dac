"""Every query of retrospectives: the retro in a path, lists, its cards, groups and vote counts,
the locks its writes take, its action items with their work items, and the sprint's blockers
its evidence cards name."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    and_,
    bindparam,
    case,
    func,
    insert,
    null,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from takt.auth.models import User
from takt.blockers import repository as blockers_repo
from takt.blockers.models import Blocker
from takt.blockers.repository import BlockerRow
from takt.core.events import EVENTS_EMITTED
from takt.core.models import UTCDateTime, new_id
from takt.deployments.models import Deployment, Environment
from takt.incidents.models import Incident
from takt.items.models import Item
from takt.projects.models import Project
from takt.projects.repository import ChildFinder
from takt.retros.events import RetroVoteCast
from takt.retros.models import Retro, RetroAction, RetroCard, RetroGroup, RetroVote
from takt.workflow.models import Status

Facilitator = aliased(User, name="facilitator")
Author = aliased(User, name="author")
Assignee = aliased(User, name="assignee")

# The retro of a `/retros/{retro_id}` path with its project and facilitator
# (`projects.service.load_in_project`): one statement.
RETRO_BY_ID = ChildFinder[Retro](
    lambda: (
        select(Retro, Project, Facilitator)
        .join(Project, Project.id == Retro.project_id)
        .outerjoin(Facilitator, Facilitator.id == Retro.facilitator_id)
        .where(Retro.id == bindparam("retro_id"))
    ),
    param="retro_id",
)


def retros_of(
    project_id: str, *, phase: str | None = None, sprint_id: str | None = None
) -> Select[tuple[Retro, User]]:
    """The project's retros with their facilitators (a statement to page)."""
    stmt = (
        select(Retro, Facilitator)
        .outerjoin(Facilitator, Facilitator.id == Retro.facilitator_id)
        .where(Retro.project_id == project_id)
    )
    if phase is not None:
        stmt = stmt.where(Retro.phase == phase)
    if sprint_id is not None:
        stmt = stmt.where(Retro.sprint_id == sprint_id)
    return stmt  # type: ignore[return-value]


async def latest_retro_id(session: AsyncSession, project_id: str) -> str | None:
    """The project's newest retro (the "previous retro" of the one being created)."""
    return await session.scalar(
        select(Retro.id)
        .where(Retro.project_id == project_id)
        .order_by(Retro.created_at.desc(), Retro.id.desc())
        .limit(1)
    )


async def user_by_id(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


def _postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def committed_phase(session: AsyncSession, retro_id: str) -> str:
    """The retro's phase as committed now, in a statement that holds the retro's row in share
    mode until the transaction ends.

    Votes and card edits share the row, so many run at once; advancing the phase locks it
    exclusively (`claim`), so it waits for them, and they wait for it and then see the new
    phase. SQLite's write transactions already run one at a time (BEGIN IMMEDIATE)."""
    stmt = select(Retro.phase).where(Retro.id == retro_id)
    if _postgres(session):
        stmt = stmt.with_for_update(read=True)
    phase: str = (await session.execute(stmt)).scalar_one()
    return phase


# Cards -----------------------------------------------------------------------------------------


def board_order(retro: Retro) -> list[Any]:
    """The order of a retro's cards wherever they are listed (the board, a group's cards, the
    groups made of loose cards entering `vote`): the evidence first, in its order. Then the
    participants' cards: in a retro that names authors, oldest first; in an anonymous one, by
    prompt and then by id (random), so that neither a card's place nor its neighbours say when
    it was written (whoever saw someone post at a moment must not find which card it was)."""
    evidence_first = case((RetroCard.kind == "evidence", 0), else_=1)
    if not retro.anonymous:
        return [evidence_first, RetroCard.created_at, RetroCard.id]
    prompts = [str(p["id"]) for p in retro.prompts]
    prompt_place = case(
        {prompt: place for place, prompt in enumerate(prompts)},
        value=RetroCard.prompt_id,
        else_=len(prompts),
    )
    evidence_time = case((RetroCard.kind == "evidence", RetroCard.created_at), else_=null())
    return [evidence_first, prompt_place, evidence_time, RetroCard.id]


@dataclass(frozen=True)
class CardRow:
    """A card and, in a retro that is not anonymous, its author."""

    card: RetroCard
    author: User | None = None


async def cards_of(session: AsyncSession, retro: Retro) -> list[CardRow]:
    """The retro's cards in `board_order`; their authors' accounts only in a retro that is not
    anonymous (never read for an anonymous one)."""
    if retro.anonymous:
        cards = await session.scalars(
            select(RetroCard).where(RetroCard.retro_id == retro.id).order_by(*board_order(retro))
        )
        return [CardRow(card) for card in cards]
    rows = await session.execute(
        select(RetroCard, Author)
        .outerjoin(Author, Author.id == RetroCard.author_id)
        .where(RetroCard.retro_id == retro.id)
        .order_by(*board_order(retro))
    )
    return [CardRow(card, author) for card, author in rows]


async def card_in(session: AsyncSession, retro_id: str, card_id: str) -> RetroCard | None:
    return await session.scalar(
        select(RetroCard).where(RetroCard.id == card_id, RetroCard.retro_id == retro_id)
    )


async def author_of(session: AsyncSession, card: RetroCard) -> User | None:
    return await session.get(User, card.author_id) if card.author_id else None


async def count_cards(session: AsyncSession, retro_id: str) -> int:
    count = await session.scalar(
        select(func.count()).select_from(RetroCard).where(RetroCard.retro_id == retro_id)
    )
    return int(count or 0)


async def card_groups(session: AsyncSession, retro: Retro) -> dict[str, str | None]:
    """{card id: its group id} of every card of the retro, in `board_order`."""
    rows = await session.execute(
        select(RetroCard.id, RetroCard.group_id)
        .where(RetroCard.retro_id == retro.id)
        .order_by(*board_order(retro))
    )
    return {str(card_id): group_id for card_id, group_id in rows}


async def cards_by_id(session: AsyncSession, retro_id: str, ids: Sequence[str]) -> list[RetroCard]:
    return list(
        await session.scalars(
            select(RetroCard).where(RetroCard.retro_id == retro_id, RetroCard.id.in_(ids))
        )
    )


async def ungrouped_cards(session: AsyncSession, retro: Retro) -> list[RetroCard]:
    """Participants' cards outside any group, in `board_order` (evidence cards stay outside)."""
    return list(
        await session.scalars(
            select(RetroCard)
            .where(
                RetroCard.retro_id == retro.id,
                RetroCard.kind == "card",
                RetroCard.group_id.is_(None),
            )
            .order_by(*board_order(retro))
        )
    )


# Groups ----------------------------------------------------------------------------------------


async def groups_of(session: AsyncSession, retro_id: str) -> list[RetroGroup]:
    return list(
        await session.scalars(
            select(RetroGroup).where(RetroGroup.retro_id == retro_id).order_by(RetroGroup.position)
        )
    )


async def group_in(session: AsyncSession, retro_id: str, group_id: str) -> RetroGroup | None:
    return await session.scalar(
        select(RetroGroup).where(RetroGroup.id == group_id, RetroGroup.retro_id == retro_id)
    )


async def groups_by_id(
    session: AsyncSession, retro_id: str, ids: Sequence[str]
) -> list[RetroGroup]:
    return list(
        await session.scalars(
            select(RetroGroup).where(RetroGroup.retro_id == retro_id, RetroGroup.id.in_(ids))
        )
    )


async def group_stats(session: AsyncSession, retro_id: str) -> tuple[int, int]:
    """(how many groups the retro has, the next free position)."""
    count, top = (
        await session.execute(
            select(func.count(), func.max(RetroGroup.position)).where(
                RetroGroup.retro_id == retro_id
            )
        )
    ).one()
    return int(count or 0), int(top if top is not None else -1) + 1


# Votes -----------------------------------------------------------------------------------------


# Casting a vote: performance-specialised (docs/architecture.md) -----------------------------
#
# Issue 15 asks a vote to answer in p99 <= 20 ms with 50 participants voting at once
# (bench/retros.py). The plain recipe cost six statements and about 5.4 ms of the server's CPU a
# vote: the retro and its facilitator as entities, then its phase (held shared), the voter's
# lock, the counts, the vote and its event, each a statement of its own. Here, on PostgreSQL,
# two: (1) the retro in the path (its id and project, no facilitator) with the voter's lock,
# (2) the phase (held shared), the counts, the checks, the vote and its event; both built once.
# SQLite's write transactions run one at a time (BEGIN IMMEDIATE), so it needs no lock; it has
# no INSERT inside WITH, so it reads the state, then inserts the vote, then `emit`s the event.
# tests/retros/test_concurrency.py holds both databases to the budget and the per-group cap.


def voter_lock_key(retro_id: str, voter_id: str) -> int:
    """The transaction lock a participant's votes in a retro are decided under, one at a time
    (PostgreSQL's advisory lock key: a stable signed 64-bit number)."""
    digest = hashlib.blake2b(f"retro-votes:{retro_id}:{voter_id}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


_VOTER_LOCK = func.pg_advisory_xact_lock(bindparam("voter_lock", type_=BigInteger))


def _voter_target(*, lock: bool) -> Select[*tuple[Any, ...]]:
    stmt: Select[*tuple[Any, ...]] = (
        select(Retro.id, Project)
        .join(Project, Project.id == Retro.project_id)
        .where(Retro.id == bindparam("retro_id"))
    )
    # Evaluated for the one row found: a retro the caller can't see takes no lock.
    return stmt.add_columns(_VOTER_LOCK) if lock else stmt


# The retro of a `/retros/{retro_id}/votes` path as its id, with its project; on PostgreSQL the
# same statement takes the voter's lock (`voter_lock` bound to `voter_lock_key`), so every
# statement after it sees the votes the voter's previous transactions committed.
VOTER_TARGET = {
    "postgresql": ChildFinder[str](lambda: _voter_target(lock=True), param="retro_id"),
    "sqlite": ChildFinder[str](lambda: _voter_target(lock=False), param="retro_id"),
}


async def hold_voter_lock(session: AsyncSession, retro_id: str, voter_id: str) -> None:
    """The voter's lock on its own (PostgreSQL; callers that hold the retro already)."""
    if _postgres(session):
        await session.execute(
            select(_VOTER_LOCK), {"voter_lock": voter_lock_key(retro_id, voter_id)}
        )


# The retro's phase and limits, whether the group is one of its groups, the voter's votes in the
# retro and on the group, everyone's votes in the retro. `{lock}`: PostgreSQL holds the retro's
# row shared (advancing the phase locks it exclusively, so a vote lands before the phase ends or
# sees the new phase).
_VOTE_STATE = """
    SELECT r.phase AS phase, r.vote_budget AS vote_budget,
           r.max_votes_per_group AS max_votes_per_group,
           EXISTS (SELECT 1 FROM retro_groups AS g
                   WHERE g.id = :group_id AND g.retro_id = r.id) AS has_group,
           (SELECT count(*) FROM retro_votes AS v
            WHERE v.retro_id = r.id AND v.voter_id = :voter_id) AS mine,
           (SELECT count(*) FROM retro_votes AS v
            WHERE v.retro_id = r.id AND v.voter_id = :voter_id
              AND v.group_id = :group_id) AS on_group,
           (SELECT count(*) FROM retro_votes AS v WHERE v.retro_id = r.id) AS everyone
    FROM retros AS r WHERE r.id = :retro_id {lock}"""

_VOTE_STATE_SQLITE = text(_VOTE_STATE.format(lock=""))

# PostgreSQL: the state and, when it allows the vote, the vote and its `retro.vote_cast` event,
# in one statement. The counts run after the voter's lock was taken (by an earlier statement),
# so under READ COMMITTED they include every vote the voter's earlier transactions committed.
# The event's data is `RetroVoteCast`'s, its keys taken from the model (`_cast_params`); the
# event log's other columns keep their defaults, as `core.events.emit` leaves them.
_CAST_POSTGRES = text(
    f"""
    WITH state AS ({_VOTE_STATE.format(lock="FOR SHARE OF r")}),"""  # noqa: S608 (constants)
    """
    cast_vote AS (
        INSERT INTO retro_votes (id, retro_id, group_id, voter_id, created_at)
        SELECT CAST(:vote_id AS VARCHAR), CAST(:retro_id AS VARCHAR),
               CAST(:group_id AS VARCHAR), CAST(:voter_id AS VARCHAR),
               CAST(:now AS TIMESTAMP WITH TIME ZONE)
        FROM state
        WHERE state.phase = 'vote' AND state.has_group
          AND state.mine < state.vote_budget AND state.on_group < state.max_votes_per_group
        RETURNING 1
    ),
    cast_event AS (
        INSERT INTO events (id, type, project_id, subject_id, actor_id, occurred_at, data)
        SELECT CAST(:event_id AS VARCHAR), CAST(:event_type AS VARCHAR),
               CAST(:project_id AS VARCHAR), CAST(:retro_id AS VARCHAR), NULL,
               CAST(:now AS TIMESTAMP WITH TIME ZONE),
               jsonb_build_object(CAST(:retro_id_key AS TEXT), CAST(:retro_id AS VARCHAR),
                                  CAST(:votes_cast_key AS TEXT), state.everyone + 1)
        FROM cast_vote CROSS JOIN state
        RETURNING 1
    )
    SELECT state.*, EXISTS (SELECT 1 FROM cast_vote) AS cast FROM state"""
).bindparams(bindparam("now", type_=UTCDateTime()))
_CAST_EVENT_KEYS = {
    "event_type": RetroVoteCast.event_type,
    "retro_id_key": RetroVoteCast.payload_key("retro_id"),
    "votes_cast_key": RetroVoteCast.payload_key("votes_cast"),
}
if set(RetroVoteCast.model_fields) != {"retro_id", "votes_cast"}:
    raise TypeError("RetroVoteCast changed: write its new fields in _CAST_POSTGRES too")


@dataclass(frozen=True)
class VoteState:
    """What a vote was decided on (the counts before it), and whether it was cast."""

    phase: str
    vote_budget: int
    max_votes_per_group: int
    has_group: bool
    mine: int
    on_group: int
    everyone: int
    cast: bool = False
    event_written: bool = False

    @property
    def allows_a_vote(self) -> bool:
        """The rule; `_CAST_POSTGRES` says the same in SQL."""
        return (
            self.phase == "vote"
            and self.has_group
            and self.mine < self.vote_budget
            and self.on_group < self.max_votes_per_group
        )


def _vote_state(row: Any, *, cast: bool) -> VoteState:
    phase, budget, per_group, has_group, mine, on_group, everyone = row[:7]
    return VoteState(
        phase, budget, per_group, bool(has_group), mine, on_group, everyone, cast, cast
    )


async def cast_vote_if_allowed(
    session: AsyncSession,
    *,
    vote_id: str,
    retro_id: str,
    group_id: str,
    voter_id: str,
    project_id: str,
    now: datetime,
) -> VoteState:
    """Insert the vote if the retro's state allows it (`VoteState.allows_a_vote`) and, on
    PostgreSQL, its `retro.vote_cast` event; the state it was decided on either way. Call
    under the voter's lock. One statement on PostgreSQL; on SQLite two, and the caller emits the
    event (`VoteState.event_written` is False)."""
    params = {"retro_id": retro_id, "group_id": group_id, "voter_id": voter_id}
    if _postgres(session):
        bound = {
            **params,
            **_CAST_EVENT_KEYS,
            "vote_id": vote_id,
            "event_id": new_id(),
            "project_id": project_id,
            "now": now,
        }
        row = (await session.execute(_CAST_POSTGRES, bound)).one()
        state = _vote_state(row, cast=bool(row[7]))
        if state.cast:
            session.info[EVENTS_EMITTED] = True  # as `emit` does: the commit wakes the readers
        return state
    row = (await session.execute(_VOTE_STATE_SQLITE, params)).one()
    state = _vote_state(row, cast=False)
    if not state.allows_a_vote:
        return state
    await session.execute(
        insert(RetroVote).values(
            id=vote_id, retro_id=retro_id, group_id=group_id, voter_id=voter_id, created_at=now
        )
    )
    return replace(state, cast=True)


async def votes_cast(session: AsyncSession, retro_id: str) -> int:
    count = await session.scalar(
        select(func.count()).select_from(RetroVote).where(RetroVote.retro_id == retro_id)
    )
    return int(count or 0)


async def tallies(session: AsyncSession, retro_id: str) -> dict[str, int]:
    """{group id: votes on it} (groups without votes left out)."""
    rows = await session.execute(
        select(RetroVote.group_id, func.count())
        .where(RetroVote.retro_id == retro_id)
        .group_by(RetroVote.group_id)
    )
    return {group_id: int(count) for group_id, count in rows}


async def votes_of(session: AsyncSession, retro_id: str, voter_id: str) -> list[RetroVote]:
    return list(
        await session.scalars(
            select(RetroVote)
            .where(RetroVote.retro_id == retro_id, RetroVote.voter_id == voter_id)
            .order_by(RetroVote.created_at, RetroVote.id)
        )
    )


async def vote_of(
    session: AsyncSession, retro_id: str, voter_id: str, vote_id: str
) -> RetroVote | None:
    """The voter's own vote (someone else's is not found)."""
    return await session.scalar(
        select(RetroVote).where(
            RetroVote.id == vote_id,
            RetroVote.retro_id == retro_id,
            RetroVote.voter_id == voter_id,
        )
    )


# Action items ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRow:
    """An action item with its work item as it is now."""

    action: RetroAction
    item: Item
    status: Status
    assignee: User | None


async def actions_of(session: AsyncSession, retro_ids: Sequence[str]) -> list[ActionRow]:
    """The action items of these retros (in the trash or not), oldest first, in one
    statement."""
    if not retro_ids:
        return []
    rows = await session.execute(
        select(RetroAction, Item, Status, Assignee)
        .join(Item, Item.id == RetroAction.item_id)
        .join(Status, Status.id == Item.status_id)
        .outerjoin(Assignee, Assignee.id == Item.assignee_id)
        .where(RetroAction.retro_id.in_(retro_ids))
        .order_by(RetroAction.created_at, RetroAction.id)
    )
    return [ActionRow(*row) for row in rows]


async def count_actions(session: AsyncSession, retro_id: str) -> int:
    count = await session.scalar(
        select(func.count()).select_from(RetroAction).where(RetroAction.retro_id == retro_id)
    )
    return int(count or 0)


async def action_row(session: AsyncSession, action_id: str) -> ActionRow:
    rows = await session.execute(
        select(RetroAction, Item, Status, Assignee)
        .join(Item, Item.id == RetroAction.item_id)
        .join(Status, Status.id == Item.status_id)
        .outerjoin(Assignee, Assignee.id == Item.assignee_id)
        .where(RetroAction.id == action_id)
    )
    return ActionRow(*rows.one())


# Evidence: the sprint's blockers --------------------------------------------------------------

# A sprint's item ids go into IN lists in chunks of this many (PostgreSQL's bind parameters are
# counted in 16 bits).
ID_CHUNK = 5000


async def blockers_during(
    session: AsyncSession,
    project_id: str,
    item_ids: Sequence[str],
    start: datetime,
    end: datetime,
    limit: int,
) -> list[BlockerRow]:
    """The oldest-raised blockers on these items (outside the trash) that were open at some
    moment from `start` to `end`, at most `limit`; read through blockers' own statement."""
    found: list[Any] = []
    for at in range(0, len(item_ids), ID_CHUNK):
        stmt = (
            blockers_repo.blockers_of(project_id)
            .where(
                Blocker.item_id.in_(item_ids[at : at + ID_CHUNK]),
                Blocker.raised_at <= end,
                or_(Blocker.resolved_at.is_(None), Blocker.resolved_at >= start),
            )
            .order_by(Blocker.raised_at, Blocker.id)
            .limit(limit)
        )
        found += list(await session.execute(stmt))
    found.sort(key=lambda row: (row[0].raised_at, row[0].id))
    return [BlockerRow.of(row) for row in found[:limit]]


@dataclass(frozen=True)
class FailedDeploymentRow:
    """A deployment that needed remediation, with what says why: the first incident it
    caused (its number and title), whether a hotfix fixed it."""

    deployment: Deployment
    environment: str
    incident_number: int | None
    incident_title: str | None
    hotfixed: bool


async def failed_deployments_during(
    session: AsyncSession, project_id: str, start: datetime, end: datetime, limit: int
) -> tuple[int, list[FailedDeploymentRow]]:
    """How many of the project's deployments failed (needed remediation: `failed_at`) from
    `start` to `end`, and the first `limit` of them, earliest failure first; two statements."""
    failed = and_(
        Deployment.project_id == project_id,
        Deployment.failed_at >= start,
        Deployment.failed_at < end,
    )
    total = await session.scalar(select(func.count()).select_from(Deployment).where(failed))
    first_incident = (
        select(Incident.number, Incident.title)
        .where(Incident.caused_by_deployment_id == Deployment.id)
        .order_by(Incident.opened_at, Incident.number)
        .limit(1)
        .correlate(Deployment)
    )
    fixer = aliased(Deployment)
    hotfixed = (
        select(fixer.id)
        .where(fixer.fixes_deployment_id == Deployment.id, fixer.is_hotfix.is_(True))
        .exists()
    )
    rows = await session.execute(
        select(
            Deployment,
            Environment.name,
            first_incident.with_only_columns(Incident.number).scalar_subquery(),
            first_incident.with_only_columns(Incident.title).scalar_subquery(),
            hotfixed,
        )
        .join(Environment, Environment.id == Deployment.environment_id)
        .where(failed)
        .order_by(Deployment.failed_at, Deployment.id)
        .limit(limit)
    )
    return int(total or 0), [FailedDeploymentRow(*row) for row in rows.all()]
