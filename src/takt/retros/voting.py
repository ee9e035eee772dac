"""Votes: each participant spends a budget on a retro's groups during `vote`, at most a maximum
on one group. Both limits hold under any concurrency, and nothing a vote writes says who cast it
or, while voting lasts, on which group."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.errors import Conflict, NotFound, ValidationFailed
from takt.core.events import emit
from takt.core.locks import hold_transaction_lock
from takt.retros import repository as repo
from takt.retros.events import RetroVoteCast, RetroVoteRemoved
from takt.retros.models import RetroVote
from takt.retros.schemas import VoteCreate
from takt.retros.service import RetroContext, require_phase


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


def _voter_lock(retro_id: str, voter_id: str) -> str:
    """The lock a participant's votes in a retro are decided under, one at a time."""
    return f"retro-votes:{retro_id}:{voter_id}"


@dataclass(frozen=True)
class CastVote:
    vote: RetroVote
    votes_left: int
    on_group: int


async def cast_vote(session: AsyncSession, ctx: RetroContext, data: VoteCreate) -> CastVote:
    """One vote of the caller on a group, during `vote`, within the caller's budget and the
    per-group maximum. Both hold under any concurrency: a participant's votes in a retro are
    decided one at a time (a transaction lock per participant and retro; SQLite writes one at
    a time anyway), and each counts the votes the previous ones committed."""
    access, retro = ctx.access, ctx.retro
    access.require_write()
    voter = access.principal.id
    if not await require_phase(session, ctx, "vote", group_id=data.group_id):
        raise ValidationFailed.at("/group_id", "no such group in this retro")
    await hold_transaction_lock(session, _voter_lock(retro.id, voter))
    mine, on_group, everyone = await repo.vote_counts(session, retro.id, voter, data.group_id)
    if mine >= retro.vote_budget:
        raise VoteBudgetExhausted(f"You have cast all {retro.vote_budget} of your votes.")
    if on_group >= retro.max_votes_per_group:
        raise GroupVoteLimitReached(
            f"You have {on_group} votes on this group; the retro allows "
            f"{retro.max_votes_per_group}."
        )
    vote = RetroVote(retro_id=retro.id, group_id=data.group_id, voter_id=voter)
    session.add(vote)
    await session.flush()
    await emit(
        session,
        RetroVoteCast(retro_id=retro.id, votes_cast=everyone + 1),
        access.project,
        None,  # never who voted
        subject=retro,
    )
    return CastVote(vote=vote, votes_left=retro.vote_budget - mine - 1, on_group=on_group + 1)


async def remove_vote(session: AsyncSession, ctx: RetroContext, vote_id: str) -> None:
    """Take one of your votes back, during `vote`. Someone else's vote is not found. Under the
    same lock as `cast_vote` (after the retro's row, in the same order), so the same vote taken
    back twice at once is taken back once: the second finds it gone (404)."""
    access, retro = ctx.access, ctx.retro
    access.require_write()
    voter = access.principal.id
    await require_phase(session, ctx, "vote")
    await hold_transaction_lock(session, _voter_lock(retro.id, voter))
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
