"""The demo project's refinement: a Definition of Ready, and the top of the backlog half refined
against it, so the refinement queue (docs/refinement.md) starts with real work.

Made through the services the API uses, an hour before the load: the lead writes the
checklist (a `project.updated` event), the team ticks what the top items meet and describes two
of them (`item.updated`), and three new stories arrive at the top without an estimate. Depends
only on the backlog's order, so it is as deterministic as the backlog.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.principal import Principal
from takt.core.time import clock_at, utcnow
from takt.items import readiness
from takt.items import repository as items_repo
from takt.items import service as items
from takt.items.models import Item
from takt.items.schemas import ItemCreate, ItemUpdate
from takt.items.sprint_directory import directory
from takt.projects import service as projects
from takt.projects.policies import ProjectAccess
from takt.projects.schemas import DorEntry, ProjectSettingsUpdate, ProjectUpdate

DEFINITION_OF_READY = (
    DorEntry(id="acceptance-criteria", text="Acceptance criteria written"),
    DorEntry(id="dependencies", text="Dependencies known, none blocking"),
    DorEntry(id="one-sprint", text="Small enough for one sprint"),
)
NEW_STORIES = (
    (
        "Buyers can pay in instalments",
        "**Why:** larger baskets get abandoned at the payment step.\n\n"
        "**Done when:** a buyer can split an order over 3 monthly payments.",
    ),
    (
        "Show saved cards' expiry dates",
        "**Why:** buyers pick an expired card and get declined.\n\n"
        "**Done when:** each saved card shows its expiry date.",
    ),
    (
        "Let merchants set a minimum order value",
        "**Why:** small orders cost more to ship than they earn.\n\n"
        "**Done when:** checkout refuses orders under the merchant's minimum.",
    ),
)
# How many of the queue's top items the team refined, and how far.
FULLY_REFINED = 3
PARTLY_REFINED = 3


async def load_refinement(
    session: AsyncSession, lead: ProjectAccess, people: dict[str, Principal]
) -> None:
    """The checklist, the top of the queue refined (three items made ready, three half way), and
    three unestimated stories on top."""
    start = utcnow() - timedelta(hours=1)

    def acting(name: str) -> ProjectAccess:
        return ProjectAccess(project=lead.project, principal=people[name], member_role="member")

    with clock_at(start):
        settings = ProjectSettingsUpdate(definition_of_ready=list(DEFINITION_OF_READY))
        await projects.update_project(
            session, lead, ProjectUpdate(settings=settings), if_match=None
        )
    ids = readiness.of_project(lead.project)
    top = await _queue_top(session, lead, FULLY_REFINED + PARTLY_REFINED)
    for index, item in enumerate(top):
        who = acting(("sara", "leo")[index % 2])
        with clock_at(start + timedelta(minutes=5 + index * 3)):
            if index < FULLY_REFINED:
                if not item.description:
                    await items.update_item(
                        session,
                        who,
                        item,
                        ItemUpdate(description=f"**Done when:** {item.title.lower()}."),
                        if_match=None,
                    )
                if item.estimate is None:
                    await items.update_item(
                        session, who, item, ItemUpdate(estimate=3), if_match=None
                    )
                await readiness.set_checked(session, who, item, ids, if_match=None)
            else:
                # Half way: the first entries ticked, the last one still open.
                await readiness.set_checked(session, who, item, ids[: 1 + index % 2], if_match=None)
    # The new stories go right after the items just made ready, at the head of the queue.
    following = await _queue_top(session, lead, 1)
    first = following[0] if following else None
    for index, (title, description) in enumerate(NEW_STORIES):
        with clock_at(start + timedelta(minutes=40 + index)):
            created = await items.create_item(
                session,
                lead,
                ItemCreate(type="story", title=title, description=description, priority="high"),
            )
            if first is not None:
                await items.move_item(session, lead, created.item, before=first.key, after=None)


async def _queue_top(session: AsyncSession, lead: ProjectAccess, count: int) -> list[Item]:
    """The first `count` items of the refinement queue, as entities."""
    project = lead.project
    stmt = items_repo.refinement_queue(
        project.id,
        readiness.of_project(project),
        active_sprint_ids=directory().active_ids(project.id),
        dialect=session.get_bind().dialect.name,
    )
    rows = (await session.execute(stmt.order_by(Item.rank, Item.id).limit(count))).all()
    found = {
        i.key: i for i in await items_repo.get_items(session, project.id, [r.key for r in rows])
    }
    return [found[row.key] for row in rows]
