"""Retrospectives: create one (from a template, optionally on a sprint, opening with evidence
cards and the previous retro's action items), read it as the caller may see it, and advance its
phases; the rules every act shares (who facilitates, which phase allows what, who an event
names). Cards and groups are in `board`, votes in `voting`, action items in `actions`.

Anonymity is enforced here: the author of a card is stored (for `mine` and the author's own
edits) but no answer, event or error of an anonymous retro names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from takt.auth.models import User
from takt.core.concurrency import claim
from takt.core.errors import Conflict, Forbidden, ValidationFailed
from takt.core.events import emit
from takt.core.pagination import PageRequest, SortKey
from takt.core.time import utcnow
from takt.projects.policies import ProjectAccess
from takt.retros import repository as repo
from takt.retros.events import GroupTally, RetroAdvanced, RetroCreated
from takt.retros.evidence import evidence_for
from takt.retros.models import PHASES, Retro, RetroCard, RetroGroup, RetroVote
from takt.retros.repository import ActionRow, CardRow
from takt.retros.schemas import AdvanceRequest, RetroCreate, RetroFilters
from takt.sprints import repository as sprints_repo

TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "start_stop_continue": [("start", "Start"), ("stop", "Stop"), ("continue", "Continue")],
    "mad_sad_glad": [("mad", "Mad"), ("sad", "Sad"), ("glad", "Glad")],
    "4ls": [
        ("liked", "Liked"),
        ("learned", "Learned"),
        ("lacked", "Lacked"),
        ("longed_for", "Longed for"),
    ],
    "went_well": [("went_well", "Went well"), ("to_improve", "To improve"), ("ideas", "Ideas")],
}
MAX_CARDS = 500
MAX_GROUPS = 200
# Every answer about the retro lists its action items (and the next retro's, its
# predecessor's), so they are bounded like its cards and groups.
MAX_ACTIONS = 100


class RetroWrongPhase(Conflict):
    """The retro is not in the phase this is done in. Cards are added in `collect` and edited
    or removed by their author in `collect` and `group`; groups change in `group`; votes are
    cast and taken back in `vote`; action items are created in `discuss`; nothing changes once
    the retro is `closed`. `GET /retros/{id}` shows its `phase`; its facilitator advances it."""

    code = "retro-wrong-phase"
    title = "Not in this phase of the retro"


class RetroPhaseOrder(Conflict):
    """Phases go `collect → group → vote → discuss → closed`, one step at a time: the phase
    you named is not the next one (someone may have advanced it already), or the retro is
    closed. Read the retro again and advance from its current phase."""

    code = "retro-phase-order"
    title = "Not the next phase"


class NotRetroFacilitator(Forbidden):
    """Only the retro's facilitator (who created it) or a project admin advances its phases."""

    code = "not-retro-facilitator"
    title = "Not the facilitator"


class NotCardAuthor(Forbidden):
    """Only a card's author changes or removes it (evidence cards come from the data and
    nobody changes them)."""

    code = "not-card-author"
    title = "Not your card"


class RetroFull(Conflict):
    """A retro holds at most 500 cards, 200 groups and 100 action items. Group what is there,
    gather action items into fewer, or start another retro."""

    code = "retro-full"
    title = "Retro full"


@dataclass(frozen=True)
class RetroContext:
    """A retro of a project the caller can see, with its facilitator."""

    access: ProjectAccess
    retro: Retro
    facilitator: User | None = None

    @property
    def viewer_id(self) -> str:
        return self.access.principal.id

    @property
    def is_facilitator(self) -> bool:
        """The caller may advance it: its creator, or an admin of the project (token scope
        permitting)."""
        access = self.access
        if access.role not in ("member", "admin") or not access.principal.has_scope("write"):
            return False
        if self.retro.facilitator_id == access.principal.id:
            return True
        return access.role == "admin" and access.principal.has_scope("admin")


def phase_after(phase: str) -> str | None:
    at = PHASES.index(phase)
    return PHASES[at + 1] if at + 1 < len(PHASES) else None


def cards_hidden(retro: Retro) -> bool:
    """Whether participants see only their own cards now."""
    return retro.phase == "collect" and retro.hide_cards_during_collect


def votes_public(retro: Retro) -> bool:
    return retro.phase in ("discuss", "closed")


def actor_of(ctx: RetroContext) -> str | None:
    """Who an event of a card, group or vote names: nobody in an anonymous retro."""
    return None if ctx.retro.anonymous else ctx.viewer_id


async def require_phase(session: AsyncSession, ctx: RetroContext, *phases: str) -> None:
    """Hold the retro's row (shared) and refuse unless it is in one of `phases`."""
    phase = await repo.committed_phase(session, ctx.retro.id)
    # As committed now (a facilitator may have advanced it since the path loaded it); set
    # without marking the row changed, so the retro's version stays.
    set_committed_value(ctx.retro, "phase", phase)
    if phase not in phases:
        raise RetroWrongPhase(wrong_phase(phase, phases))


async def require_phase_exclusive(session: AsyncSession, ctx: RetroContext, *phases: str) -> None:
    """Lock the retro's row (writes that must run one at a time per retro), then as
    `require_phase`."""
    await claim(session, ctx.retro, None)
    if ctx.retro.phase not in phases:
        raise RetroWrongPhase(wrong_phase(ctx.retro.phase, phases))


def wrong_phase(phase: str, phases: tuple[str, ...]) -> str:
    allowed = " or ".join(f"`{p}`" for p in phases)
    return f"This is done in the {allowed} phase; the retro is in `{phase}`."


# Reads -----------------------------------------------------------------------------------------


async def list_retros(
    session: AsyncSession, access: ProjectAccess, *, filters: RetroFilters, page: PageRequest
) -> tuple[list[tuple[Retro, User | None]], str | None]:
    """One page of the project's retros, newest first."""
    rows, next_cursor = await page.fetch(
        session,
        repo.retros_of(access.project.id, phase=filters.phase, sprint_id=filters.sprint_id),
        keys=[SortKey(Retro.created_at, descending=True), SortKey(Retro.id, descending=True)],
        key_of=lambda row: (row[0].created_at, row[0].id),
        sort_name="retros-newest",
        scalars=False,
    )
    return [(retro, facilitator) for retro, facilitator in rows], next_cursor


@dataclass(frozen=True)
class GroupView:
    group: RetroGroup
    card_ids: list[str]
    votes: int | None
    my_votes: int
    rank: int | None


@dataclass(frozen=True)
class RetroDetail:
    """A retro as one caller may see it."""

    ctx: RetroContext
    cards: list[CardRow]
    hidden_cards: int
    groups: list[GroupView]
    my_votes: list[RetroVote]
    votes_cast: int | None
    actions: list[ActionRow]
    previous_actions: list[ActionRow] = field(default_factory=list)


def _ordered_groups(
    retro: Retro,
    groups: list[RetroGroup],
    members: dict[str, list[str]],
    counts: dict[str, int],
    mine: dict[str, int],
) -> list[GroupView]:
    """Groups in creation order; once votes are public, with their totals, most votes first
    (ties: the older group first)."""
    if not votes_public(retro):
        return [GroupView(g, members.get(g.id, []), None, mine.get(g.id, 0), None) for g in groups]
    ranked = sorted(groups, key=lambda g: (-counts.get(g.id, 0), g.position))
    return [
        GroupView(g, members.get(g.id, []), counts.get(g.id, 0), mine.get(g.id, 0), rank)
        for rank, g in enumerate(ranked, start=1)
    ]


async def get_retro(session: AsyncSession, ctx: RetroContext) -> RetroDetail:
    """The retro as the caller may see it: during `collect` (when the retro hides cards) only
    their own cards and the evidence; votes per group only once voting is over; never an
    author in an anonymous retro."""
    retro, viewer = ctx.retro, ctx.viewer_id
    rows = await repo.cards_of(session, retro)
    hide = cards_hidden(retro)
    shown = [r for r in rows if not (hide and r.card.kind == "card" and r.card.author_id != viewer)]
    members: dict[str, list[str]] = {}
    for row in rows:
        if row.card.group_id is not None:
            members.setdefault(row.card.group_id, []).append(row.card.id)
    groups = await repo.groups_of(session, retro.id)
    my_votes = await repo.votes_of(session, retro.id, viewer)
    mine: dict[str, int] = {}
    for vote in my_votes:
        mine[vote.group_id] = mine.get(vote.group_id, 0) + 1
    counts = await repo.tallies(session, retro.id) if votes_public(retro) else {}
    cast = None
    if retro.phase in ("vote", "discuss", "closed"):
        cast = (
            sum(counts.values())
            if votes_public(retro)
            else await repo.votes_cast(session, retro.id)
        )
    ids = [retro.id] + ([retro.previous_retro_id] if retro.previous_retro_id else [])
    actions = await repo.actions_of(session, ids)
    return RetroDetail(
        ctx=ctx,
        cards=shown,
        hidden_cards=len(rows) - len(shown),
        groups=_ordered_groups(retro, groups, members, counts, mine),
        my_votes=my_votes,
        votes_cast=cast,
        actions=[a for a in actions if a.action.retro_id == retro.id],
        previous_actions=[a for a in actions if a.action.retro_id != retro.id],
    )


# Creating and advancing ------------------------------------------------------------------------


def _prompts(data: RetroCreate) -> list[dict[str, str]]:
    if data.template == "custom":
        if not data.prompts:
            raise ValidationFailed.at("/prompts", "a custom retro needs 1 to 8 prompts")
        return [{"id": f"p{n}", "text": text} for n, text in enumerate(data.prompts, start=1)]
    if data.prompts is not None:
        raise ValidationFailed.at(
            "/prompts", "prompts are given only with template `custom`; leave them out"
        )
    return [{"id": key, "text": text} for key, text in TEMPLATES[data.template]]


async def create_retro(
    session: AsyncSession, access: ProjectAccess, data: RetroCreate
) -> RetroContext:
    """A retro in `collect`, facilitated by its creator; on a sprint it opens with evidence
    cards from the sprint's data; it opens with the action items of the project's retro
    before it. 422 at `/sprint_id` for a sprint not of the project."""
    access.require_write()
    project = access.project
    prompts = _prompts(data)
    if data.max_votes_per_group > data.vote_budget:
        raise ValidationFailed.at(
            "/max_votes_per_group", "must be at most vote_budget (a participant's whole budget)"
        )
    sprint = None
    if data.sprint_id is not None:
        sprint = await sprints_repo.get_in_project(session, project.id, data.sprint_id)
        if sprint is None:
            raise ValidationFailed.at("/sprint_id", "not a sprint of this project")
    now = utcnow()
    title = data.title or (f"Retro: {sprint.name}" if sprint else f"Retro {now:%Y-%m-%d}")
    retro = Retro(
        project_id=project.id,
        sprint_id=sprint.id if sprint else None,
        title=title[:255],
        template=data.template,
        prompts=prompts,
        phase="collect",
        anonymous=data.anonymous,
        hide_cards_during_collect=data.hide_cards_during_collect,
        vote_budget=data.vote_budget,
        max_votes_per_group=data.max_votes_per_group,
        facilitator_id=access.principal.id,
        previous_retro_id=await repo.latest_retro_id(session, project.id),
        phase_changed_at=now,
    )
    session.add(retro)
    await session.flush()
    evidence = await evidence_for(session, project, sprint) if sprint else []
    for order, found in enumerate(evidence):
        session.add(
            RetroCard(
                retro_id=retro.id,
                # A microsecond apart: cards are shown in creation order, these in theirs.
                created_at=now + timedelta(microseconds=order),
                kind="evidence",
                text=found.text,
                metric=found.metric,
                value=found.value,
                source=found.source,
            )
        )
    await session.flush()
    await emit(
        session,
        RetroCreated(
            id=retro.id,
            title=retro.title,
            template=retro.template,
            sprint_id=retro.sprint_id,
            anonymous=retro.anonymous,
            evidence_cards=len(evidence),
        ),
        project,
        access.principal,
        subject=retro,
    )
    facilitator = await repo.user_by_id(session, access.principal.id)
    return RetroContext(access=access, retro=retro, facilitator=facilitator)


async def _wrap_ungrouped(session: AsyncSession, retro: Retro) -> int:
    """Entering `vote`: each participant's card outside a group becomes a group of its own
    (titled by the card), so every card can be voted for."""
    cards = await repo.ungrouped_cards(session, retro)
    _, position = await repo.group_stats(session, retro.id)
    for card in cards:
        group = RetroGroup(retro_id=retro.id, title=_title_of(card.text), position=position)
        position += 1
        session.add(group)
        await session.flush()
        card.group_id = group.id
    await session.flush()
    return len(cards)


def _title_of(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "Card"
    return line if len(line) <= 255 else line[:254] + "…"


async def advance(
    session: AsyncSession, ctx: RetroContext, data: AdvanceRequest, *, if_match: str | None
) -> RetroContext:
    """Move the retro to its next phase (its facilitator or a project admin). Entering `vote`,
    cards outside groups become groups of their own; entering `discuss`, votes become public
    and the event carries the discussion order."""
    access, retro = ctx.access, ctx.retro
    access.require_write()
    if not ctx.is_facilitator:
        raise NotRetroFacilitator("Only the retro's facilitator or a project admin advances it.")
    await claim(session, retro, if_match)  # one advance at a time; votes in flight finish first
    following = phase_after(retro.phase)
    if following is None:
        raise RetroPhaseOrder("The retro is closed; it has no next phase.")
    if data.to is not None and data.to != following:
        raise RetroPhaseOrder(
            f"The retro is in `{retro.phase}`; its next phase is `{following}`, not `{data.to}`."
        )
    previous, now = retro.phase, utcnow()
    created = await _wrap_ungrouped(session, retro) if following == "vote" else 0
    order = None
    if following == "discuss":
        counts = await repo.tallies(session, retro.id)
        groups = sorted(
            await repo.groups_of(session, retro.id),
            key=lambda g: (-counts.get(g.id, 0), g.position),
        )
        order = [
            GroupTally(group_id=g.id, title=g.title, votes=counts.get(g.id, 0)) for g in groups
        ]
    retro.phase = following
    retro.phase_changed_at = now
    retro.updated_at = now
    if following == "closed":
        retro.closed_at = now
    await session.flush()
    await emit(
        session,
        RetroAdvanced(
            id=retro.id,
            previous=previous,
            phase=following,
            groups_created=created,
            discussion_order=order,
        ),
        access.project,
        access.principal,
        subject=retro,
    )
    return ctx
