"""The demo project's planning poker: a re-estimation session half done, so the reveal, the
spread and the calibration (docs/estimation.md) can be seen on `make run`'s data.

Made through the services the API uses, in the hour before the load: Maya facilitates a session
over five estimated stories of the backlog below its top (the top belongs to the refinement
queue, docs/refinement.md, and keeps its state); the team estimates the first (one round), argues
over the second (a wide spread, a reset, a second round), has the third's cards on the table
(revealed, not finalized yet); the last two wait.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.principal import Principal
from takt.core.time import clock_at, utcnow
from takt.estimation import service as poker
from takt.estimation.schemas import EstimationCreate, FinalizeWrite, VoteWrite
from takt.items import repository as items_repo
from takt.projects.policies import ProjectAccess

TITLE = "Re-estimate the checkout stories"
# Items at the top of the backlog that the session leaves alone (the refinement queue's).
SKIP_TOP = 12
ITEMS = 5
# Per item, its rounds: each round's cards by voter, then the estimate (None: not finalized).
ROUNDS: tuple[tuple[list[dict[str, str]], float | None], ...] = (
    ([{"leo": "3", "sara": "5", "omar": "3", "maya": "3"}], 3),
    (
        [
            {"leo": "2", "sara": "8", "omar": "5", "maya": "3"},
            {"leo": "5", "sara": "5", "omar": "5", "maya": "8"},
        ],
        5,
    ),
    ([{"leo": "8", "sara": "8", "omar": "13", "maya": "8"}], None),
)


async def load_estimation(
    session: AsyncSession, lead: ProjectAccess, people: dict[str, Principal]
) -> None:
    """The session, as described above; nothing when the backlog is too short."""
    backlog = [
        item
        for item in await items_repo.items_in_rank_order(session, lead.project.id)
        if item.sprint_id is None and item.started_at is None and item.estimate is not None
    ]
    chosen = backlog[SKIP_TOP : SKIP_TOP + ITEMS]
    if len(chosen) < ITEMS:
        return

    def acting(name: str) -> ProjectAccess:
        role = "admin" if name == "maya" else "member"
        return ProjectAccess(project=lead.project, principal=people[name], member_role=role)

    moment = utcnow() - timedelta(minutes=50)

    def tick(minutes: float) -> None:
        nonlocal moment
        moment += timedelta(minutes=minutes)

    maya = acting("maya")
    with clock_at(moment):
        ctx = await poker.create_session(
            session, maya, EstimationCreate(title=TITLE, item_keys=[i.key for i in chosen])
        )
    for item, (rounds, estimate) in zip(chosen, ROUNDS, strict=False):
        for number, cards in enumerate(rounds):
            if number:
                tick(2)
                with clock_at(moment):
                    await poker.reset(session, ctx, item.key)
            for name, card in cards.items():
                tick(0.5)
                voter = poker.EstimationContext(acting(name), ctx.estimation, ctx.facilitator)
                with clock_at(moment):
                    await poker.cast_vote(session, voter, item.key, VoteWrite(card=card))
            tick(1)
            with clock_at(moment):
                await poker.reveal(session, ctx, item.key)
        if estimate is not None:
            tick(3)
            with clock_at(moment):
                await poker.finalize(session, ctx, item.key, FinalizeWrite(estimate=estimate))
