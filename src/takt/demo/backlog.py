"""The demo project's backlog: ~200 items over six epics, with a history spread over the last
six weeks. Deterministic (seeded), and written through the same services as the API, so every
item has a real event history; only the timestamps are moved into the past afterwards."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.principal import Principal
from takt.core.events import Event
from takt.core.time import utcnow
from takt.items import relations
from takt.items import repository as repo
from takt.items import service as items
from takt.items.models import Item
from takt.items.schemas import ItemCreate, ItemUpdate
from takt.projects.policies import ProjectAccess
from takt.workflow import service as workflow
from takt.workflow.schemas import LabelCreate

LABELS = {
    "api": "#2563eb",
    "web": "#16a34a",
    "mobile": "#9333ea",
    "payments": "#ea580c",
    "infra": "#475569",
    "security": "#dc2626",
    "ux": "#db2777",
    "tech-debt": "#a16207",
}
EPICS = [
    ("Card payments with 3-D Secure", ["payments", "api"]),
    ("One-page checkout", ["web", "ux"]),
    ("Mobile wallet support", ["mobile", "payments"]),
    ("Fraud screening", ["security", "payments"]),
    ("Checkout observability", ["infra"]),
    ("Retire the legacy cart service", ["tech-debt", "api"]),
]
STORY_VERBS = [
    "Let buyers",
    "Allow support to",
    "Show",
    "Let merchants",
    "Notify buyers when",
    "Record",
    "Let finance",
    "Explain to buyers why",
]
STORY_OBJECTS = [
    "save a card for later",
    "retry a declined payment",
    "see the order total with tax",
    "refund part of an order",
    "a payment is pending review",
    "every payment attempt",
    "export daily settlements",
    "a card was declined",
    "pay with Apple Pay",
    "pay with Google Pay",
    "split a payment across two cards",
    "apply a voucher code",
]
TASKS = [
    "Add the endpoint",
    "Write the migration",
    "Cover it with contract tests",
    "Add metrics and alerts",
    "Update the API docs",
    "Wire up the feature flag",
    "Design the error states",
    "Load-test the happy path",
]
BUGS = [
    "Checkout times out when the bank is slow",
    "Voucher applied twice on refresh",
    "Wrong currency symbol for CHF",
    "3-D Secure popup blocked on Safari",
    "Refund webhook retried forever",
    "Tax rounding off by one cent",
    "Saved card list shows expired cards",
    "Order confirmation email sent twice",
    "Apple Pay button missing on iPad",
    "Settlement export drops the last row",
    "Declined payment shows a generic error",
    "Cart badge count stale after login",
]
COMMENTS = [
    "@{who} can you take a look?",
    "Reproduced on staging, see the logs.",
    "I think this overlaps with {other}.",
    "Blocked until the bank sandbox is back.",
    "Pairing with @{who} on this tomorrow.",
    "Merged, waiting for the deploy.",
    "Let's split this: the UI part can wait.",
]
FIBONACCI = [1, 2, 3, 5, 8, 13]
DAYS = 42


@dataclass
class Plan:
    """What will happen to one item and when (minutes after the demo's start)."""

    create_at: int
    steps: list[tuple[int, str]] = field(default_factory=list)  # (minute, status)


def _plan(rng: random.Random, age_days: float) -> Plan:
    start = int((DAYS - age_days) * 24 * 60)
    plan = Plan(create_at=start)
    # Older items are further along; anything over ten days old may well be done.
    progress = rng.random() ** 0.6 * min(1.0, age_days / 10)
    now = start
    for status, threshold in (
        ("To Do", 0.15),
        ("In Progress", 0.35),
        ("In Review", 0.6),
        ("Done", 0.75),
    ):
        if progress < threshold:
            break
        now += rng.randint(60, int(max(120, age_days * 24 * 60 / 5)))
        plan.steps.append((min(now, DAYS * 24 * 60 - 5), status))
    return plan


async def load_backlog(
    session: AsyncSession, access: ProjectAccess, people: dict[str, Principal], seed: int = 7
) -> int:
    rng = random.Random(seed)  # noqa: S311 (demo content, not security)
    workers = [people[n] for n in ("leo", "sara", "omar", "maya")]
    lead = people["maya"]
    for name, color in LABELS.items():
        await workflow.create_label(session, access, LabelCreate(name=name, color=color))
    plans: dict[str, Plan] = {}
    created: list[Item] = []

    def acting(principal: Principal) -> ProjectAccess:
        return ProjectAccess(project=access.project, principal=principal, member_role="member")

    async def add(principal: Principal, data: ItemCreate, age: float) -> Item:
        item = await items.create_item(session, acting(principal), data)
        plans[item.id] = _plan(rng, age)
        created.append(item)
        return item

    for epic_title, epic_labels in EPICS:
        epic_age = rng.uniform(30, DAYS)
        epic = await add(
            lead,
            ItemCreate(type="epic", title=epic_title, labels=epic_labels, priority="high"),
            epic_age,
        )
        for _ in range(rng.randint(6, 9)):
            title = f"{rng.choice(STORY_VERBS)} {rng.choice(STORY_OBJECTS)}"
            story_age = rng.uniform(3, epic_age)
            story = await add(
                lead,
                ItemCreate(
                    type="story",
                    title=title,
                    parent_key=epic.key,
                    labels=epic_labels[:1],
                    estimate=rng.choice(FIBONACCI),
                    priority=rng.choice(["low", "medium", "high"]),
                    assignee=rng.choice(workers).user.username,
                    description=f"**Why:** buyers asked for it.\n\n"
                    f"**Done when:** {title.lower()} works end to end.",
                ),
                story_age,
            )
            for task_title in rng.sample(TASKS, rng.randint(1, 3)):
                await add(
                    rng.choice(workers),
                    ItemCreate(
                        type="task",
                        title=task_title,
                        parent_key=story.key,
                        estimate=rng.choice(FIBONACCI[:4]),
                        assignee=rng.choice(workers).user.username,
                    ),
                    rng.uniform(1, story_age),
                )
    epics = [i for i in created if i.type == "epic"]
    while len(created) < 200:
        await add(
            rng.choice(workers),
            ItemCreate(
                type="bug",
                title=rng.choice(BUGS),
                parent_key=rng.choice(epics).key,
                priority=rng.choice(["medium", "high", "urgent"]),
                labels=[rng.choice(list(LABELS))],
                estimate=rng.choice([1, 2, 3]),
                assignee=rng.choice(workers).user.username,
                description="Steps to reproduce:\n1. Add an item to the cart\n2. Pay\n\n"
                "Expected: it works.",
            ),
            rng.uniform(0.5, DAYS),
        )

    for item in created:
        mover = acting(rng.choice(workers))
        for _, status in plans[item.id].steps:
            await items.update_item(session, mover, item, ItemUpdate(status=status), if_match=None)
    bugs = [i for i in created if i.type == "bug"]
    for _ in range(25):
        a, b = rng.sample(created, 2)
        kind = rng.choice(["blocks", "relates_to"])
        if not await _linked(session, a, b):
            await relations.create_link(session, access, a, kind, b.key)
    for a, b in zip(bugs[::7], bugs[1::7], strict=False):
        if not await _linked(session, a, b):
            await relations.create_link(session, access, a, "duplicates", b.key)
    for item in rng.sample(created, 50):
        text = rng.choice(COMMENTS).format(
            who=rng.choice(workers).user.username, other=rng.choice(created).key
        )
        await relations.add_comment(session, acting(rng.choice(workers)), item, text)
    # A groomed backlog: a few urgent bugs pulled to the top.
    top = created[0]
    for bug in [b for b in bugs if b.priority == 4][:8]:
        await items.move_item(session, access, bug, before=top.key, after=None)
        top = bug
    await _backdate(session, created, plans)
    return len(created)


async def _linked(session: AsyncSession, a: Item, b: Item) -> bool:
    return any(key == b.key for _, key, _, _ in await repo.links_of(session, a.id))


async def _backdate(session: AsyncSession, created: list[Item], plans: dict[str, Plan]) -> None:
    """Spread each item's history over the last six weeks, following its plan."""
    origin = utcnow() - timedelta(days=DAYS)

    def at(minute: int) -> datetime:
        return origin + timedelta(minutes=minute)

    for item in created:
        plan = plans[item.id]
        events = list(
            await session.scalars(
                select(Event).where(Event.subject_id == item.id).order_by(Event.seq)
            )
        )
        moments = [plan.create_at] + [m for m, _ in plan.steps]
        last = moments[-1]
        for index, event in enumerate(events):
            minute = (
                moments[index]
                if index < len(moments)
                else min(last + 30 * (index - len(moments) + 1), DAYS * 24 * 60 - 1)
            )
            event.occurred_at = at(minute)
        started = next((m for m, s in plan.steps if s == "In Progress"), None)
        finished = next((m for m, s in plan.steps if s == "Done"), None)
        await session.execute(
            update(Item)
            .where(Item.id == item.id)
            .values(
                created_at=at(plan.create_at),
                updated_at=at(max(moments)),
                started_at=at(started) if started is not None else None,
                finished_at=at(finished) if finished is not None else None,
            )
            .execution_options(synchronize_session=False)
        )
    await session.flush()
