"""Votes: each participant spends a budget on a retro's groups during `vote`, at most a maximum
on one group. Both limits hold under any concurrency, and nothing a vote writes says who cast it
or, while voting lasts, on which group."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.principal import Principal
from takt.core.errors import Conflict, NotFound, ValidationFailed
from takt.core.events import emit
from takt.core.models import new_id
from takt.core.time import utcnow
from takt.projects.policies import ProjectAccess
from takt.projects.service import load_in_project
from takt.retros import repository as repo
from takt.retros.events import RetroVoteCast, RetroVoteRemoved
from takt.retros.schemas import VoteCreate
from takt.retros.service import RetroContext, RetroWrongPhase, require_phase, wrong_phase


class VoteBudgetExhausted(Conflict):
    """You have cast all the votes the retro's `vote_budget` gives you. Take one back
    (`DELETE /retros/{id}/votes/{vote_id}`) to vote elsewhere."""

    code = "vote-budget-exhausted"
    title = "No votes left"


class GroupVoteLimitReached(Conflict):
    """You have put as many votes on this group as the retro's `max_votes_per_group` allows.
    Vote for another group, or take a vote back."""

    code = "group-vote-limit-reached"
    title = "Votes on this group at the limit"


@dataclass(frozen=True)
class CastVote:
    id: str
    retro_id: str
    group_id: str
    created_at: datetime
    votes_left: int
    on_group: int


async def cast_vote_at(
    session: AsyncSession, principal: Principal, retro_id: str, data: VoteCreate
) -> CastVote:
    """`POST /retros/{retro_id}/votes`: the retro in the path (404 unless the caller sees its
    project), then `cast_vote`'s rules. The hot path of a retro (see `repository.VOTER_TARGET`):
    the retro loads as its id and project, with the voter's lock, in one statement."""
    dialect = session.get_bind().dialect.name
    found = await load_in_project(
        session,
        principal,
        repo.VOTER_TARGET["postgresql" if dialect == "postgresql" else "sqlite"],
        retro_id,
        missing="No such retro.",
        params={"voter_lock": repo.voter_lock_key(retro_id, principal.id)},
    )
    return await _cast(session, found.access, found.child, data)


async def cast_vote(session: AsyncSession, ctx: RetroContext, data: VoteCreate) -> CastVote:
    """One vote of the caller on a group, during `vote`, within the caller's budget and the
    per-group maximum. Both hold under any concurrency: a participant's votes in a retro are
    decided one at a time (a transaction lock per participant and retro; SQLite writes one at
    a time anyway), and each counts the votes the previous ones committed."""
    await repo.hold_voter_lock(session, ctx.retro.id, ctx.viewer_id)
    return await _cast(session, ctx.access, ctx.retro.id, data)


async def _cast(
    session: AsyncSession, access: ProjectAccess, retro_id: str, data: VoteCreate
) -> CastVote:
    """Under the voter's lock: the checks, the vote and its event (one statement on PostgreSQL;
    on SQLite the state, the vote, then the event). Refusals in the order phase, group, budget,
    per-group maximum."""
    access.require_write()
    vote_id, now = new_id(), utcnow()
    state = await repo.cast_vote_if_allowed(
        session,
        vote_id=vote_id,
        retro_id=retro_id,
        group_id=data.group_id,
        voter_id=access.principal.id,
        project_id=access.project.id,
        now=now,
    )
    if not state.cast:
        raise _refusal(state)
    if not state.event_written:
        await emit(
            session,
            RetroVoteCast(retro_id=retro_id, votes_cast=state.everyone + 1),
            access.project,
            None,  # never who voted
            subject=retro_id,
            occurred_at=now,
        )
    return CastVote(
        id=vote_id,
        retro_id=retro_id,
        group_id=data.group_id,
        created_at=now,
        votes_left=state.vote_budget - state.mine - 1,
        on_group=state.on_group + 1,
    )


def _refusal(state: repo.VoteState) -> Exception:
    if state.phase != "vote":
        return RetroWrongPhase(wrong_phase(state.phase, ("vote",)))
    if not state.has_group:
        return ValidationFailed.at("/group_id", "no such group in this retro")
    if state.mine >= state.vote_budget:
        return VoteBudgetExhausted(f"You have cast all {state.vote_budget} of your votes.")
    return GroupVoteLimitReached(
        f"You have {state.on_group} votes on this group; the retro allows "
        f"{state.max_votes_per_group}."
    )


async def remove_vote(session: AsyncSession, ctx: RetroContext, vote_id: str) -> None:
    """Take one of your votes back, during `vote`. Someone else's vote is not found. Under the
    same locks as `cast_vote`, taken in the same order (the voter's, then the retro's row
    shared), so the same vote taken back twice at once is taken back once: the second finds it
    gone (404)."""
    access, retro = ctx.access, ctx.retro
    access.require_write()
    voter = access.principal.id
    await repo.hold_voter_lock(session, retro.id, voter)
    await require_phase(session, ctx, "vote")
    vote = await repo.vote_of(session, retro.id, voter, vote_id)
    if vote is None:
        raise NotFound("No such vote of yours in this retro.")
    await session.delete(vote)
    await session.flush()
    await emit(
        session,
        RetroVoteRemoved(retro_id=retro.id, votes_cast=await repo.votes_cast(session, retro.id)),
        access.project,
        None,
        subject=retro,
    )
