"""The demo project's retrospectives, run through the same services the API uses: the last
completed sprint's retro, closed, whose action items are partly done by now, and a retro of
the active sprint waiting in the vote phase (it opens with those action items)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.principal import Principal
from takt.core.time import clock_at, utcnow
from takt.items import repository as items_repo
from takt.items import service as items
from takt.items.schemas import ItemUpdate
from takt.projects.policies import ProjectAccess
from takt.retros import actions, board, voting
from takt.retros import repository as retros_repo
from takt.retros import service as retros
from takt.retros.schemas import (
    ActionCreate,
    AdvanceRequest,
    CardCreate,
    GroupCreate,
    RetroCreate,
    VoteCreate,
)
from takt.sprints import repository as sprint_repo

# (who, prompt, text) of the closed retro (template "Went well / To improve / Ideas").
PAST_CARDS = [
    ("leo", "went_well", "Pairing on the payment adapter saved us days"),
    ("sara", "went_well", "The test plan was ready before the first story"),
    ("omar", "went_well", "Designs were reviewed with the whole team"),
    ("leo", "to_improve", "Pull requests waited two days for a review"),
    ("sara", "to_improve", "Reviews piled up at the end of the sprint"),
    ("omar", "to_improve", "Scope grew after the start: two bugs came in mid-sprint"),
    ("sara", "to_improve", "Staging was down twice and nobody knew who owned it"),
    ("leo", "ideas", "A reviewer of the day"),
    ("omar", "ideas", "Keep a buffer for urgent bugs in planning"),
]
# Groups of the closed retro: title, indexes into PAST_CARDS.
PAST_GROUPS = [
    ("Reviews are slow", [3, 4, 7]),
    ("Scope grows mid-sprint", [5, 8]),
    ("Nobody owns staging", [6]),
]
# Votes of the closed retro: who, group index, how many.
PAST_VOTES = [
    ("leo", 0, 3),
    ("leo", 1, 2),
    ("sara", 0, 2),
    ("sara", 2, 3),
    ("omar", 1, 3),
    ("omar", 0, 2),
]
# Action items: title, owner, group index, what became of them (a status name).
PAST_ACTIONS = [
    ("Name a reviewer of the day in the stand-up", "leo", 0, "Done"),
    ("Plan with a buffer of 10 % for urgent bugs", "maya", 1, "Done"),
    ("Write down who owns staging, and how to reach them", "sara", 2, "In Progress"),
]
OPEN_CARDS = [
    ("leo", "start", "Split stories smaller before planning"),
    ("sara", "start", "Demo to the product owner every Thursday"),
    ("omar", "stop", "Starting new work while reviews wait"),
    ("leo", "stop", "Merging without a green build"),
    ("sara", "continue", "Reviewer of the day: reviews are faster"),
    ("omar", "continue", "Pairing on tricky bugs"),
]


def _access(lead: ProjectAccess, people: dict[str, Principal], name: str) -> ProjectAccess:
    role = "admin" if name == "maya" else "member"
    return ProjectAccess(project=lead.project, principal=people[name], member_role=role)


async def _step(session: AsyncSession, ctx: retros.RetroContext, times: int = 1) -> None:
    for _ in range(times):
        await retros.advance(session, ctx, AdvanceRequest(), if_match=None)


async def _closed_retro(
    session: AsyncSession, lead: ProjectAccess, people: dict[str, Principal], at: datetime
) -> None:
    sprint = (await sprint_repo.completed_sprints(session, lead.project.id, 1))[0]
    minutes = iter(range(1000))

    def tick() -> AbstractContextManager[None]:
        """The retro's next minute: each act a minute after the one before."""
        return clock_at(at + timedelta(minutes=next(minutes)))

    with tick():
        facilitator = await retros.create_retro(
            session,
            lead,
            RetroCreate(title=f"{sprint.name} retro", template="went_well", sprint_id=sprint.id),
        )
    retro = facilitator.retro

    def as_(name: str) -> retros.RetroContext:
        return retros.RetroContext(access=_access(lead, people, name), retro=retro)

    cards = []
    for who, prompt, text in PAST_CARDS:
        with tick():
            row = await board.add_card(session, as_(who), CardCreate(prompt_id=prompt, text=text))
        cards.append(row.card.id)
    with tick():
        await _step(session, facilitator)
    for title, indexes in PAST_GROUPS:
        with tick():
            body = GroupCreate(title=title, card_ids=[cards[i] for i in indexes])
            await board.create_group(session, as_("sara"), body)
    with tick():
        await _step(session, facilitator)
    groups = [g.id for g in await retros_repo.groups_of(session, retro.id)]
    for who, group, count in PAST_VOTES:
        for _ in range(count):
            with tick():
                await voting.cast_vote(session, as_(who), VoteCreate(group_id=groups[group]))
    with tick():
        await _step(session, facilitator)
    keys = []
    for title, owner, group, _ in PAST_ACTIONS:
        with tick():
            action = await actions.create_action(
                session,
                facilitator,
                ActionCreate(title=title, owner=owner, group_id=groups[group]),
            )
        keys.append(action.item.key)
    with tick():
        await _step(session, facilitator)
    # What became of them since: some done, one under way.
    for days, key, (_, owner, _, status) in zip((2, 4, 6), keys, PAST_ACTIONS, strict=True):
        item = await items_repo.get_item(session, lead.project.id, key)
        assert item is not None
        with clock_at(min(at + timedelta(days=days), utcnow())):
            await items.update_item(
                session,
                _access(lead, people, owner),
                item,
                ItemUpdate(status=status),
                if_match=None,
            )


async def _voting_retro(
    session: AsyncSession, lead: ProjectAccess, people: dict[str, Principal]
) -> None:
    sprint = await sprint_repo.active_sprint(session, lead.project.id)
    now = utcnow()
    with clock_at(now - timedelta(minutes=50)):
        facilitator = await retros.create_retro(
            session,
            lead,
            RetroCreate(
                title=f"{sprint.name}: mid-sprint retro" if sprint else "Mid-sprint retro",
                sprint_id=sprint.id if sprint else None,
            ),
        )
    retro = facilitator.retro

    def as_(name: str) -> retros.RetroContext:
        return retros.RetroContext(access=_access(lead, people, name), retro=retro)

    cards = []
    for minute, (who, prompt, text) in enumerate(OPEN_CARDS):
        with clock_at(now - timedelta(minutes=45 - minute)):
            row = await board.add_card(session, as_(who), CardCreate(prompt_id=prompt, text=text))
        cards.append(row.card.id)
    with clock_at(now - timedelta(minutes=30)):
        await _step(session, facilitator)
        body = GroupCreate(title="Reviews first", card_ids=[cards[2], cards[4]])
        await board.create_group(session, as_("omar"), body)
    with clock_at(now - timedelta(minutes=20)):
        await _step(session, facilitator)  # every loose card becomes a group of its own
    groups = [g.id for g in await retros_repo.groups_of(session, retro.id)]
    # Leo and Sara have voted; Omar and Maya not yet.
    for minute, (who, group) in enumerate(
        [("leo", 0), ("leo", 0), ("leo", 1), ("sara", 0), ("sara", 2), ("sara", 2)]
    ):
        with clock_at(now - timedelta(minutes=15 - minute)):
            await voting.cast_vote(session, as_(who), VoteCreate(group_id=groups[group]))


async def load_retros(
    session: AsyncSession, access: ProjectAccess, people: dict[str, Principal]
) -> None:
    """A closed retro of the last completed sprint (held the morning after it ended) with its
    action items, and an open one of the active sprint in the vote phase."""
    completed = await sprint_repo.completed_sprints(session, access.project.id, 1)
    if not completed or completed[0].completed_at is None:
        return
    await _closed_retro(session, access, people, completed[0].completed_at + timedelta(hours=1))
    await _voting_retro(session, access, people)
