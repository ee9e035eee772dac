"""Planning poker: a session over items of a project with the project's scale, hidden votes,
the reveal (every card, the spread, the calibration against past cycle times), finalize (the
estimate written to the item through items' service) and reset (a new round; the old one
keeps its votes).

Every write to a session first claims the session's row (`claim`: `FOR UPDATE` on PostgreSQL,
SQLite's one write lock), so votes, reveals, resets and finalizes of one session apply one after
the other: a reveal reads every vote committed before it, and a vote that comes after a reveal
finds the round revealed (409).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import User
from takt.core.concurrency import claim
from takt.core.errors import NotFound
from takt.core.events import emit
from takt.core.pagination import PageRequest, SortKey
from takt.core.time import utcnow
from takt.estimation import repository as repo
from takt.estimation import starting
from takt.estimation.calibration import (
    calibrate,
    card_points,
    spread_of,
    stats_of,
)
from takt.estimation.errors import (
    EstimationFinishedError,
    ItemInTrash,
    NotAParticipant,
    NotTheCurrentItem,
    NotTheFacilitator,
    NoVotes,
    RoundNotRevealed,
    RoundRevealed,
    TooManyRounds,
    UnknownCard,
)
from takt.estimation.events import (
    EstimationCreated,
    EstimationFinalized,
    EstimationFinished,
    EstimationReset,
    EstimationRevealed,
    EstimationVoteCast,
    RevealedVote,
)
from takt.estimation.models import (
    EstimationItem,
    EstimationParticipant,
    EstimationRound,
    EstimationSession,
    EstimationVote,
)
from takt.estimation.schemas import (
    MAX_ROUNDS,
    EstimationCreate,
    EstimationFilters,
    FinalizeWrite,
    VoteWrite,
)
from takt.items import service as items
from takt.items.models import Item
from takt.items.schemas import ItemUpdate
from takt.projects.policies import ProjectAccess

# What a request hands around ------------------------------------------------------------------


@dataclass(frozen=True)
class EstimationContext:
    """A session of a project the caller can see, with its facilitator."""

    access: ProjectAccess
    estimation: EstimationSession
    facilitator: User | None

    @property
    def can_facilitate(self) -> bool:
        """The caller may run the session's rounds (reveal, reset, finalize, end): its
        facilitator, or a project admin (a token with the admin scope), with a token that may
        write. `_require_facilitator` enforces the same rule."""
        access = self.access
        if access.role not in ("member", "admin") or not access.principal.has_scope("write"):
            return False
        if self.estimation.facilitator_id == access.principal.id:
            return True
        return access.role == "admin" and access.principal.has_scope("admin")


@dataclass(frozen=True)
class ShownRound:
    round: EstimationRound
    votes: list[tuple[EstimationVote, User]]


@dataclass(frozen=True)
class ItemLine:
    entry: EstimationItem
    key: str
    title: str
    votes_cast: int


@dataclass(frozen=True)
class ShownItem:
    line: ItemLine
    estimated_by: User | None
    rounds: list[ShownRound]


@dataclass(frozen=True)
class ShownSession:
    ctx: EstimationContext
    participants: list[User]
    lines: list[ItemLine]
    current: ShownItem | None


@dataclass(frozen=True)
class SessionLine:
    """A session as the project's list shows it."""

    estimation: EstimationSession
    facilitator: User | None
    items: int
    estimated: int
    current_key: str | None


# Reads ----------------------------------------------------------------------------------------


async def list_sessions(
    session: AsyncSession, access: ProjectAccess, *, filters: EstimationFilters, page: PageRequest
) -> tuple[list[SessionLine], str | None]:
    """One page of the project's sessions, the newest first."""
    rows, next_cursor = await page.fetch(
        session,
        repo.sessions_of(access.project.id, filters.state),
        keys=[
            SortKey(EstimationSession.created_at, descending=True),
            SortKey(EstimationSession.id, descending=True),
        ],
        key_of=lambda row: (row[0].created_at, row[0].id),
        sort_name="estimations-newest",
        scalars=False,
    )
    return [
        SessionLine(row[0], row[1], int(row[2] or 0), int(row[3] or 0), row[4]) for row in rows
    ], next_cursor


async def show_session(session: AsyncSession, ctx: EstimationContext) -> ShownSession:
    """The session with its participants, its items and the item up now with its rounds."""
    estimation = ctx.estimation
    people = await repo.participants(session, estimation.id)
    lines = [ItemLine(*row) for row in await repo.item_lines(session, estimation.id)]
    # Up now: the item at the current position or, if that one was purged from the trash
    # meanwhile, the next one left (`_current` brings it up at the next write).
    up = estimation.current_position
    current = next((line for line in lines if up is not None and line.entry.position >= up), None)
    shown = await _show_item(session, current) if current is not None else None
    return ShownSession(ctx=ctx, participants=people, lines=lines, current=shown)


async def show_item(session: AsyncSession, ctx: EstimationContext, item_key: str) -> ShownItem:
    """One item of the session with every round."""
    entry, item, votes_cast = await _line(session, ctx, item_key)
    return await _show_item(session, ItemLine(entry, item.key, item.title, votes_cast))


async def _show_item(session: AsyncSession, line: ItemLine) -> ShownItem:
    rounds = await repo.rounds_of(session, line.entry.id)
    votes = await repo.votes_of(session, [r.id for r in rounds])
    by_round: dict[str, list[tuple[EstimationVote, User]]] = {r.id: [] for r in rounds}
    for vote, voter in votes:
        by_round[vote.round_id].append((vote, voter))
    estimated_by = (
        await session.get(User, line.entry.estimated_by_id) if line.entry.estimated_by_id else None
    )
    return ShownItem(
        line=line,
        estimated_by=estimated_by,
        rounds=[ShownRound(r, by_round[r.id]) for r in rounds],
    )


async def _line(
    session: AsyncSession, ctx: EstimationContext, item_key: str
) -> tuple[EstimationItem, Item, int]:
    found = await repo.item_line(session, ctx.estimation.id, item_key=item_key)
    if found is None:
        raise NotFound(f"No item {item_key} in this estimation session.")
    return found


# Creating -------------------------------------------------------------------------------------


async def create_session(
    session: AsyncSession, access: ProjectAccess, data: EstimationCreate
) -> EstimationContext:
    """Start a session over items of the project; the caller facilitates it, and its first item
    is up with round 1 open."""
    access.require_write()
    kind, deck = starting.deck(access, data)
    chosen = await starting.items(session, access, data.item_keys)
    people = await starting.participants(session, access, data.participants)
    now = utcnow()
    estimation = EstimationSession(
        project_id=access.project.id,
        title=data.title,
        facilitator_id=access.principal.id,
        scale=kind,
        cards=deck,
        state="open",
        current_position=1,
    )
    session.add(estimation)
    await session.flush()
    session.add_all(EstimationParticipant(session_id=estimation.id, user_id=u.id) for u in people)
    entries = [
        EstimationItem(
            session_id=estimation.id,
            item_id=item.id,
            position=position,
            state="voting" if position == 1 else "pending",
            round=1 if position == 1 else 0,
        )
        for position, item in enumerate(chosen, start=1)
    ]
    session.add_all(entries)
    await session.flush()
    session.add(EstimationRound(session_item_id=entries[0].id, number=1, started_at=now))
    await session.flush()
    await emit(
        session,
        EstimationCreated(
            id=estimation.id,
            title=estimation.title,
            scale=kind,
            item_keys=[item.key for item in chosen],
            participants=sorted(u.username for u in people),
            facilitator=access.principal.username,
        ),
        access.project,
        access.principal,
        subject=estimation,
    )
    facilitator = await session.get(User, access.principal.id)
    return EstimationContext(access=access, estimation=estimation, facilitator=facilitator)


# Rules of every write -----------------------------------------------------------------------------


def _require_facilitator(ctx: EstimationContext) -> None:
    """The facilitator, or a project admin acting as one (instance admins act as admins)."""
    access = ctx.access
    access.require_write()
    if ctx.estimation.facilitator_id == access.principal.id:
        return
    if access.role != "admin":
        raise NotTheFacilitator(
            "Only the facilitator or a project admin runs this session's rounds."
        )
    access.require_admin("Running another member's estimation session")


async def _claim_open(session: AsyncSession, ctx: EstimationContext) -> EstimationSession:
    """The session's row, locked for this write and read again (see the module's docstring);
    409 once it is finished."""
    estimation = ctx.estimation
    await claim(session, estimation, None)
    if estimation.state != "open":
        raise EstimationFinishedError("This session is finished.")
    return estimation


async def _current(
    session: AsyncSession, ctx: EstimationContext, item_key: str
) -> tuple[EstimationItem, Item, int]:
    """The session's item with that key, which must be the one up now (read after the claim,
    so its state is current)."""
    entry, item, votes_cast = await _line(session, ctx, item_key)
    estimation = ctx.estimation
    if entry.position != estimation.current_position:
        if not await _up_after_a_purge(session, estimation, entry):
            raise NotTheCurrentItem(
                f"{item_key} is not the item up now; `current_item_key` of the session names it."
            )
        _bring_up(session, estimation, entry, utcnow())
    return entry, item, votes_cast


async def _up_after_a_purge(
    session: AsyncSession, estimation: EstimationSession, entry: EstimationItem
) -> bool:
    """Whether `entry` is up now because the item at the current position is gone (purged from
    the trash, which deletes its place in the session): it is the first item from there."""
    up = estimation.current_position
    if up is None or entry.state != "pending" or entry.position < up:
        return False
    first = await repo.first_from(session, estimation.id, up)
    return first is not None and first.id == entry.id


def _bring_up(
    session: AsyncSession, estimation: EstimationSession, entry: EstimationItem, now: datetime
) -> None:
    """`entry` is the item up now, its first round open."""
    entry.state = "voting"
    entry.round = 1
    session.add(EstimationRound(session_item_id=entry.id, number=1, started_at=now))
    estimation.current_position = entry.position


def _touch(estimation: EstimationSession) -> None:
    """What the session shows changed: a new version (and ETag) at the next flush."""
    estimation.updated_at = utcnow()


# Votes ------------------------------------------------------------------------------------------


async def cast_vote(
    session: AsyncSession, ctx: EstimationContext, item_key: str, data: VoteWrite
) -> ShownItem:
    """Play a card in the current round of the item up now, or change it: one vote per
    participant per round."""
    access = ctx.access
    access.require_write()
    if not await repo.is_participant(session, ctx.estimation.id, access.principal.id):
        raise NotAParticipant("You are not among this session's participants.")
    estimation = await _claim_open(session, ctx)
    entry, item, votes_cast = await _current(session, ctx, item_key)
    if entry.state == "revealed":
        raise RoundRevealed("This round is revealed; the facilitator can reset it for a re-vote.")
    deck = card_points(estimation.cards)
    if data.card not in deck:
        labels = ", ".join(deck)
        raise UnknownCard.at(
            "/card",
            f"not a card of this session's deck ({labels})",
            detail=f"{data.card!r} is not a card of this session's deck ({labels}).",
        )
    current = await repo.current_round(session, entry)
    had = await repo.find_vote(session, current.id, access.principal.id)
    await repo.upsert_vote(
        session, current.id, access.principal.id, data.card, deck[data.card], utcnow()
    )
    _touch(estimation)
    await session.flush()
    votes_cast += 0 if had is not None else 1
    people = len(await repo.participants(session, estimation.id))
    await emit(
        session,
        EstimationVoteCast(
            id=estimation.id,
            item_key=item.key,
            round=entry.round,
            voter=access.principal.username,
            changed=had is not None,
            votes_cast=votes_cast,
            participants=people,
        ),
        access.project,
        access.principal,
        subject=estimation,
    )
    return await _show_item(session, ItemLine(entry, item.key, item.title, votes_cast))


async def calibration(
    session: AsyncSession, project_id: str, deck: list[dict[str, object]]
) -> list[dict[str, object]]:
    """For each card with points: the project's finished items with that estimate, their
    median and p85 cycle days, and whether the value overlaps the next (one statement)."""
    values = [float(card["points"]) for card in deck if card["points"] is not None]  # type: ignore[arg-type]
    stats = stats_of(await repo.cycle_times_by_estimate(session, project_id, values))
    return calibrate(deck, stats)


async def reveal(session: AsyncSession, ctx: EstimationContext, item_key: str) -> ShownItem:
    """Turn the round's cards over: every card, the spread and the calibration become visible
    to everyone who sees the session."""
    _require_facilitator(ctx)
    access = ctx.access
    estimation = await _claim_open(session, ctx)
    entry, item, _ = await _current(session, ctx, item_key)
    if entry.state == "revealed":
        raise RoundRevealed("This round is revealed already.")
    current = await repo.current_round(session, entry)
    # Read under the session's lock: every vote committed before this reveal is here.
    votes = await repo.votes_of(session, [current.id])
    if not votes:
        raise NoVotes("Nobody has voted in this round yet.")
    spread = spread_of(vote.points for vote, _ in votes)
    now = utcnow()
    current.revealed_at = now
    current.calibration = await calibration(session, access.project.id, estimation.cards)
    entry.state = "revealed"
    _touch(estimation)
    await session.flush()
    await emit(
        session,
        EstimationRevealed(
            id=estimation.id,
            item_key=item.key,
            round=entry.round,
            votes=[
                RevealedVote(voter=voter.username, card=vote.card, points=vote.points)
                for vote, voter in votes
            ],
            min=spread.min,
            max=spread.max,
            median=spread.median,
            mode=spread.mode,
            agreement=spread.agreement,
        ),
        access.project,
        access.principal,
        subject=estimation,
    )
    return await _show_item(session, ItemLine(entry, item.key, item.title, len(votes)))


async def reset(session: AsyncSession, ctx: EstimationContext, item_key: str) -> ShownItem:
    """Close the item's round and open the next for a re-vote. The closed round keeps its
    votes; if it was never revealed, its cards stay secret."""
    _require_facilitator(ctx)
    access = ctx.access
    estimation = await _claim_open(session, ctx)
    entry, item, _ = await _current(session, ctx, item_key)
    if entry.round >= MAX_ROUNDS:
        raise TooManyRounds(f"{item.key} has had {MAX_ROUNDS} rounds in this session.")
    closed = await repo.current_round(session, entry)
    now = utcnow()
    closed.reset_at = now
    entry.round += 1
    entry.state = "voting"
    session.add(EstimationRound(session_item_id=entry.id, number=entry.round, started_at=now))
    _touch(estimation)
    await session.flush()
    await emit(
        session,
        EstimationReset(
            id=estimation.id,
            item_key=item.key,
            round=entry.round,
            was_revealed=closed.revealed_at is not None,
        ),
        access.project,
        access.principal,
        subject=estimation,
    )
    return await _show_item(session, ItemLine(entry, item.key, item.title, 0))


# Finalize and finish ------------------------------------------------------------------------------


async def finalize(
    session: AsyncSession, ctx: EstimationContext, item_key: str, data: FinalizeWrite
) -> ShownSession:
    """Write the estimate to the item (through items' service: the item's own change, in its
    history, by the caller) and move to the next item, or finish the session after the last."""
    _require_facilitator(ctx)
    access = ctx.access
    estimation = await _claim_open(session, ctx)
    entry, item, _ = await _current(session, ctx, item_key)
    if entry.state != "revealed":
        raise RoundNotRevealed("Reveal the round before setting the estimate.")
    # The item's row, locked and read again (as items' own writes do) before it is checked: a
    # trash or an estimate committed meanwhile is seen here, not overwritten.
    await claim(session, item, None)
    if item.deleted_at is not None:
        raise ItemInTrash(f"{item.key} is in the trash.")
    previous = item.estimate
    await items.update_item(
        session, access, item, ItemUpdate(estimate=data.estimate), if_match=None
    )
    now = utcnow()
    entry.state = "estimated"
    entry.estimate = data.estimate
    entry.estimated_at = now
    entry.estimated_by_id = access.principal.id
    following = await repo.next_pending(session, estimation.id, entry.position)
    next_key = None
    if following is not None:
        _bring_up(session, estimation, following, now)
        next_key = await _key_of(session, following)
    else:
        estimation.state = "finished"
        estimation.current_position = None
        estimation.finished_at = now
    _touch(estimation)
    await session.flush()
    await emit(
        session,
        EstimationFinalized(
            id=estimation.id,
            item_key=item.key,
            round=entry.round,
            estimate=data.estimate,
            previous_estimate=previous,
            next_item_key=next_key,
        ),
        access.project,
        access.principal,
        subject=estimation,
    )
    if following is None:
        await _emit_finished(session, ctx, "all estimated")
    return await show_session(session, ctx)


async def _key_of(session: AsyncSession, entry: EstimationItem) -> str:
    item = await session.get(Item, entry.item_id)
    assert item is not None  # the foreign key cascades: a session's item exists
    return item.key


async def finish(session: AsyncSession, ctx: EstimationContext) -> ShownSession:
    """End the session before every item is estimated. Items not reached stay unestimated; the
    item up now keeps its rounds as they were (unrevealed cards stay secret)."""
    _require_facilitator(ctx)
    estimation = await _claim_open(session, ctx)
    estimation.state = "finished"
    estimation.current_position = None
    estimation.finished_at = utcnow()
    _touch(estimation)
    await session.flush()
    await _emit_finished(session, ctx, "ended")
    return await show_session(session, ctx)


async def _emit_finished(session: AsyncSession, ctx: EstimationContext, reason: str) -> None:
    estimated, total = await repo.count_estimated(session, ctx.estimation.id)
    await emit(
        session,
        EstimationFinished(id=ctx.estimation.id, reason=reason, estimated=estimated, items=total),
        ctx.access.project,
        ctx.access.principal,
        subject=ctx.estimation,
    )
