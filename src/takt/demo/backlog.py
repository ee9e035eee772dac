"""The demo project's work: ~200 items over six epics, three completed sprints and an active one,
with seven weeks of history.

Every change is made through the same services as the API, in time order, with the clock pinned
to the moment it "happened" (`clock_at`), so the event log, burndowns, velocity and forecasts are
all real. Deterministic for a given day (seeded).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.principal import Principal
from takt.core.time import clock_at, utcnow
from takt.items import relations
from takt.items import repository as items_repo
from takt.items import service as items
from takt.items.models import Item
from takt.items.schemas import ItemCreate, ItemUpdate
from takt.projects.policies import ProjectAccess
from takt.sprints import repository as sprint_repo
from takt.sprints import service as sprints
from takt.sprints.models import Sprint
from takt.sprints.schemas import CompleteRequest, SprintCreate
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
STORIES = [
    "Buyers can save a card for later",
    "Buyers can retry a declined payment",
    "Show the order total with tax",
    "Merchants can refund part of an order",
    "Tell buyers when a payment is pending review",
    "Record every payment attempt",
    "Finance can export daily settlements",
    "Explain to buyers why a card was declined",
    "Pay with Apple Pay",
    "Pay with Google Pay",
    "Split a payment across two cards",
    "Apply a voucher code at checkout",
    "Remember the last shipping address",
    "Guest checkout without an account",
    "Show delivery estimates before paying",
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
    "Waiting for the bank sandbox to come back.",
    "Pairing with @{who} on this tomorrow.",
    "Merged, waiting for the deploy.",
    "Let's split this: the UI part can wait.",
]
FIBONACCI = [1, 2, 3, 5, 8]
SPRINT_DAYS = 14


def sprint_starts(today: date) -> list[date]:
    """Four two-week sprints starting on Mondays; the last one started on last week's Monday, so
    it is about half way through."""
    current = today - timedelta(days=today.weekday() + 7)
    return [current - timedelta(days=SPRINT_DAYS * n) for n in (3, 2, 1, 0)]


def demo_origin(today: date) -> date:
    """When the demo team started: five days before the first sprint."""
    return sprint_starts(today)[0] - timedelta(days=5)


@dataclass(order=True)
class Action:
    at: datetime
    order: int
    run: Callable[[], Awaitable[None]] = field(compare=False)


def _moment(day: date, hour: float) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC) + timedelta(hours=hour)


def _working(day: date) -> bool:
    return day.weekday() < 5


class DemoTimeline:
    def __init__(
        self, session: AsyncSession, access: ProjectAccess, people: dict[str, Principal], seed: int
    ) -> None:
        self.session = session
        self.lead = access
        self.rng = random.Random(seed)  # noqa: S311 (demo content, not security)
        self.workers = [people[n] for n in ("leo", "sara", "omar", "maya")]
        self.actions: list[Action] = []
        self.items: list[Item] = []
        self.today = utcnow().date()
        self.sprint_starts = sprint_starts(self.today)
        self.origin = demo_origin(self.today)

    def acting(self, principal: Principal) -> ProjectAccess:
        return ProjectAccess(project=self.lead.project, principal=principal, member_role="member")

    def at(self, when: datetime, run: Callable[[], Awaitable[None]]) -> None:
        if when <= utcnow():
            self.actions.append(Action(when, len(self.actions), run))

    def worker(self) -> Principal:
        return self.rng.choice(self.workers)

    async def run(self) -> int:
        self.plan_backlog()
        self.plan_sprints()
        self.plan_chatter()
        for action in sorted(self.actions):
            with clock_at(action.at):
                await action.run()
        return len(self.items)

    # Backlog ---------------------------------------------------------------------------------

    def create(self, when: datetime, who: Principal, data: ItemCreate) -> None:
        async def run() -> None:
            created = await items.create_item(self.session, self.acting(who), data)
            self.items.append(created.item)

        self.at(when, run)

    def plan_backlog(self) -> None:
        rng = self.rng
        start = _moment(self.origin, 9)

        async def labels() -> None:
            for name, color in LABELS.items():
                await workflow.create_label(
                    self.session, self.lead, LabelCreate(name=name, color=color)
                )

        self.at(start, labels)
        span = (self.today - self.origin).days
        for index, (title, tags) in enumerate(EPICS):
            epic_key = f"{self.lead.project.key}-{index + 1}"
            self.create(
                start + timedelta(minutes=index + 1),
                self.lead.principal,
                ItemCreate(type="epic", title=title, labels=tags, priority="high"),
            )
            for story in rng.sample(STORIES, rng.randint(5, 7)):
                when = start + timedelta(days=rng.uniform(0, span * 0.8), minutes=10 + index)
                self.create(
                    when,
                    self.lead.principal,
                    ItemCreate(
                        type="story",
                        title=story,
                        parent_key=epic_key,
                        labels=tags[:1],
                        estimate=rng.choice(FIBONACCI),
                        priority=rng.choice(["low", "medium", "high"]),
                        description=f"**Why:** buyers asked for it.\n\n"
                        f"**Done when:** {story.lower()}.",
                    ),
                )
        for _ in range(155):
            when = start + timedelta(days=rng.uniform(0.2, span - 0.5))
            if rng.random() < 0.6:
                self.create(
                    when,
                    self.worker(),
                    ItemCreate(
                        type="task",
                        title=rng.choice(TASKS),
                        estimate=rng.choice(FIBONACCI[:3]),
                        assignee=self.worker().user.username,
                    ),
                )
            else:
                self.create(
                    when,
                    self.worker(),
                    ItemCreate(
                        type="bug",
                        title=rng.choice(BUGS),
                        labels=[rng.choice(list(LABELS))],
                        priority=rng.choice(["medium", "high", "urgent"]),
                        estimate=rng.choice([1, 2, 3]),
                        description="Steps to reproduce:\n1. Add an item to the cart\n2. Pay\n\n"
                        "Expected: it works.",
                    ),
                )

    # Sprints ---------------------------------------------------------------------------------

    def plan_sprints(self) -> None:
        previous: list[Sprint] = []
        for number, start in enumerate(self.sprint_starts, start=1):
            end = start + timedelta(days=SPRINT_DAYS - 1)
            self.plan_sprint(number, start, end, previous)

    def plan_sprint(self, number: int, start: date, end: date, previous: list[Sprint]) -> None:
        rng = self.rng
        holder: list[Sprint] = []

        async def plan() -> None:
            carried = await sprint_repo.next_planned(self.session, self.lead.project.id, "")
            sprint = carried or await sprints.create_sprint(
                self.session,
                self.lead,
                SprintCreate(name=f"Sprint {number}", start_date=start, end_date=end),
            )
            sprint.name, sprint.goal = (
                f"Sprint {number}",
                rng.choice(
                    [
                        "Card payments live in the EU",
                        "Wallets on mobile",
                        "Faster checkout",
                        "Fewer declined payments",
                    ]
                ),
            )
            sprint.start_date, sprint.end_date = start, end
            holder.append(sprint)
            ctx = sprints.SprintContext(access=self.lead, sprint=sprint)
            open_items = [
                i
                for i in self.items
                if i.sprint_id is None and i.type != "epic" and i.finished_at is None
            ]
            chosen = rng.sample(open_items, min(len(open_items), rng.randint(11, 15)))
            if chosen:
                await sprints.add_items(self.session, ctx, [i.key for i in chosen])
            await sprints.start_sprint(self.session, ctx)

        self.at(_moment(start, 9.5), plan)

        for day_offset in range(SPRINT_DAYS):
            day = start + timedelta(days=day_offset)
            if not _working(day):
                continue
            for slot in range(rng.randint(2, 4)):
                hour = 10 + slot * 2 + rng.random()
                self.at(_moment(day, hour), self.progress(holder, day_offset))
            if day_offset in (3, 6) and rng.random() < 0.7:
                self.at(_moment(day, 16), self.scope_change(holder))

        if end < self.today:

            async def complete() -> None:
                ctx = sprints.SprintContext(access=self.lead, sprint=holder[0])
                await sprints.complete_sprint(
                    self.session, ctx, CompleteRequest(carry_over_to="next")
                )

            self.at(_moment(end, 17), complete)
        previous.extend(holder)

    def progress(self, holder: list[Sprint], day_offset: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if not holder:
                return
            sprint = holder[0]
            steps = {
                "backlog": "To Do",
                "todo": "In Progress",
                "in_progress": "In Review",
                "in_review": "Done",
            }
            candidates = [
                (i, c)
                for i, c in await sprint_repo.items_with_category(self.session, sprint.id)
                if c in steps
            ]
            if not candidates:
                return
            # Work flows: items further along move first, about one in four stall.
            candidates.sort(key=lambda ic: list(steps).index(ic[1]), reverse=True)
            for item, category in candidates[: self.rng.randint(1, 3)]:
                if self.rng.random() < 0.25:
                    continue
                await items.update_item(
                    self.session,
                    self.acting(self.worker()),
                    item,
                    ItemUpdate(status=steps[category]),
                    if_match=None,
                )

        return run

    def scope_change(self, holder: list[Sprint]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if not holder:
                return
            sprint = holder[0]
            ctx = sprints.SprintContext(access=self.lead, sprint=sprint)
            open_items = [
                i
                for i in self.items
                if i.sprint_id is None and i.type == "bug" and i.finished_at is None
            ]
            if open_items:
                await sprints.add_items(self.session, ctx, [self.rng.choice(open_items).key])
            in_sprint = await sprint_repo.items_with_category(self.session, sprint.id)
            if in_sprint and self.rng.random() < 0.5:
                item = self.rng.choice(in_sprint)[0]
                await items.update_item(
                    self.session,
                    self.acting(self.worker()),
                    item,
                    ItemUpdate(estimate=self.rng.choice(FIBONACCI)),
                    if_match=None,
                )

        return run

    # Links, comments, grooming ---------------------------------------------------------------

    def plan_chatter(self) -> None:
        rng = self.rng
        span = (self.today - self.origin).days
        for _ in range(50):
            when = _moment(self.origin, 9) + timedelta(days=rng.uniform(1, span))

            async def comment(seed: float = rng.random()) -> None:
                if len(self.items) < 2:
                    return
                local = random.Random(seed)  # noqa: S311
                item, other = local.sample(self.items, 2)
                author = local.choice(self.workers)
                text = local.choice(COMMENTS).format(
                    who=local.choice(self.workers).user.username, other=other.key
                )
                await relations.add_comment(self.session, self.acting(author), item, text)

            self.at(when, comment)
        for _ in range(25):
            when = _moment(self.origin, 9) + timedelta(days=rng.uniform(2, span))

            async def link(seed: float = rng.random()) -> None:
                local = random.Random(seed)  # noqa: S311
                if len(self.items) < 2:
                    return
                a, b = local.sample(self.items, 2)
                if any(k == b.key for _, k, _, _ in await items_repo.links_of(self.session, a.id)):
                    return
                kind = (
                    "duplicates"
                    if a.type == b.type == "bug"
                    else local.choice(["blocks", "relates_to"])
                )
                await relations.create_link(self.session, self.lead, a, kind, b.key)

            self.at(when, link)

        async def groom() -> None:
            urgent = [
                i
                for i in self.items
                if i.type == "bug" and i.priority == 4 and i.finished_at is None
            ][:6]
            top = min(self.items, key=lambda i: i.rank)
            for bug in urgent:
                if bug.id != top.id:
                    await items.move_item(self.session, self.lead, bug, before=top.key, after=None)
                    top = bug

        self.at(utcnow() - timedelta(hours=2), groom)


async def load_backlog(
    session: AsyncSession, access: ProjectAccess, people: dict[str, Principal], seed: int = 7
) -> int:
    return await DemoTimeline(session, access, people, seed).run()
