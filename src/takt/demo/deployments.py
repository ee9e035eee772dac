"""The demo project's delivery history since the team started: commits landing on `main` of
`acme/checkout` (naming the items they finish), each built to development, promoted to staging
and then to production by CI reports (`deployments.service.record_deployment`, the code the
API's CI call runs), with what real teams see: runs that fail and are retried, a rollback, two
incidents fixed by hotfixes, and an incident still open on the latest production deployment.

So DORA (`GET /projects/DEMO/metrics/dora`) has numbers from the first minute (deployments a
few times a week, lead times of days, a change failure rate near 15 %, recoveries within hours),
and readiness says why the newest change is not ready for production: it is only on
development, and production has an open incident.

Deterministic: a fixed seed, and every moment derived from today and the demo's items.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.principal import Principal
from takt.core.time import clock_at, utcnow
from takt.delivery import ingest
from takt.delivery import repository as delivery_repo
from takt.delivery.facts import CommitFacts, Person, PushFacts
from takt.delivery.models import Repository
from takt.demo.backlog import demo_origin
from takt.demo.delivery import LOGINS, REPOSITORY
from takt.deployments import service as deployments
from takt.deployments.facts import DeploymentReport, DeploymentState
from takt.deployments.models import Deployment
from takt.incidents import service as incidents
from takt.incidents.schemas import IncidentCreate, IncidentUpdate
from takt.items import repository as items_repo
from takt.items.models import Item
from takt.projects.policies import ProjectAccess
from takt.workflow import repository as workflow_repo

CI = "GitHub Actions"
RUNS = f"https://github.com/{REPOSITORY}/actions/runs"
AUTHORS = ("leo", "leo", "sara", "omar", "maya")
CHORES = (
    "Bump the payment SDK",
    "Tune the database connection pool",
    "Refresh the test fixtures",
    "Cache dependencies in CI",
    "Log the card processor's latency",
    "Tidy the checkout logs",
    "Upgrade the web framework",
    "Split the slow integration tests",
)
FOLLOW_UPS = ("Address review comments", "Add tests", "Handle the empty case")
# The first day the history may start: the team's first working day after the demo origin.
FIRST_DAY_AFTER_ORIGIN = 1


def _sha(n: int) -> str:
    return hashlib.sha1(f"takt-demo-commit-{n}".encode()).hexdigest()  # noqa: S324 (an id)


def _at(day: date, hour: float) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC) + timedelta(hours=hour)


@dataclass
class _Commit:
    sha: str
    message: str
    author: str
    committed_at: datetime
    pushed_at: datetime
    branch: str = "main"


@dataclass(order=True)
class _Action:
    at: datetime
    order: int
    run: Callable[[], Awaitable[None]] = field(compare=False)


@dataclass
class _Environment:
    """What an environment runs: the commits shipped to it, in order, and its head."""

    name: str
    shipped: list[str] = field(default_factory=list)
    head: str | None = None
    version: str | None = None
    last: Deployment | None = None


class _History:
    """The demo's code and deployments, written in the order they happened."""

    def __init__(
        self,
        session: AsyncSession,
        lead: ProjectAccess,
        people: dict[str, Principal],
        repository: Repository,
        now: datetime,
    ) -> None:
        self.session, self.lead, self.people = session, lead, people
        self.repository, self.now = repository, now
        self.rng = random.Random(17)  # noqa: S311 (demo content, not security)
        self.commits: list[_Commit] = []
        self.landed: list[str] = []  # on main, pushed, in order
        self.envs = {name: _Environment(name) for name in ("development", "staging", "production")}
        self.pipeline = 4000
        self.release = 0
        self.actions: list[_Action] = []  # a heap: what is due next first
        self.scheduled = 0
        self.last_at = now - timedelta(hours=2)

    # Commits ---------------------------------------------------------------------------------

    def commit(
        self, message: str, author: str, committed: datetime, pushed: datetime, branch: str = "main"
    ) -> _Commit:
        made = _Commit(_sha(len(self.commits)), message, author, committed, pushed, branch)
        self.commits.append(made)
        return made

    async def push(self, commits: list[_Commit]) -> None:
        facts = PushFacts(
            ref=f"refs/heads/{commits[0].branch}",
            branch=commits[0].branch,
            pushed_at=commits[0].pushed_at,
            pusher=Person(login=LOGINS[commits[-1].author]),
            commits=tuple(
                CommitFacts(
                    sha=c.sha,
                    message=c.message,
                    author_name=c.author.capitalize(),
                    author_login=LOGINS[c.author],
                    committed_at=c.committed_at,
                )
                for c in commits
            ),
        )
        with clock_at(commits[0].pushed_at):
            await ingest.apply_push(self.session, self.repository, self.lead.project, facts)
        if commits[0].branch == "main":
            self.landed += [c.sha for c in commits]

    # Deployments -----------------------------------------------------------------------------

    async def deploy(
        self,
        environment: str,
        start: datetime,
        minutes: float,
        *,
        sha: str,
        commits: list[str] | None,
        version: str,
        state: DeploymentState = "success",
        sequence: int = 1,
        pipeline: int | None = None,
        ref: str = "main",
        hotfix: bool = False,
        fixes: Deployment | None = None,
    ) -> Deployment:
        if pipeline is None:
            self.pipeline += 1
            pipeline = self.pipeline
        end = start + timedelta(minutes=minutes)
        report = DeploymentReport(
            environment=environment,
            state=state,
            pipeline_id=str(pipeline),
            sequence=sequence,
            ref=ref,
            sha=sha,
            version=version,
            url=f"{RUNS}/{pipeline}",
            started_at=start,
            finished_at=end,
            triggered_by=CI,
            is_hotfix=hotfix,
            is_rollback=fixes is not None and not hotfix,
            fixes_deployment_id=fixes.id if fixes is not None else None,
            commits=tuple(commits) if commits is not None else None,
        )
        with clock_at(end):
            return await deployments.record_deployment(
                self.session, self.lead.project, report, actor=None, repository=self.repository
            )

    async def promote(
        self, name: str, start: datetime, *, source: str | None, flaky: float = 0.0
    ) -> Deployment | None:
        """Deploy to `name` what `source` runs (development: what landed on main), shipping
        the commits `name` doesn't run yet; a flaky run fails first and is retried."""
        env = self.envs[name]
        if source is None:
            ahead = [sha for sha in self.landed if sha not in set(env.shipped)]
            head = ahead[-1] if ahead else None
        else:
            upstream = self.envs[source]
            ahead = [sha for sha in upstream.shipped if sha not in set(env.shipped)]
            head = upstream.head
        if not ahead or head is None:
            return None
        if source is None:
            self.release += 1
            version = f"v1.{self.release}.0"
        else:
            version = self.envs[source].version or "v1.0.0"
        pipeline = None
        if self.rng.random() < flaky:
            await self.deploy(
                name, start, 6, sha=head, commits=None, version=version, state="failure"
            )
            pipeline = self.pipeline
            start += timedelta(minutes=40)
        deployed = await self.deploy(
            name,
            start,
            self.rng.uniform(5, 14),
            sha=head,
            commits=ahead,
            version=version,
            sequence=2 if pipeline is not None else 1,
            pipeline=pipeline,
        )
        env.shipped += ahead
        env.head, env.version, env.last = head, version, deployed
        return deployed

    async def hotfix(
        self, target: Deployment, message: str, author: str, pushed: datetime
    ) -> Deployment:
        """A fix committed on main and deployed straight to production, fixing `target`."""
        fix = self.commit(message, author, pushed - timedelta(minutes=20), pushed)
        await self.push([fix])
        prod = self.envs["production"]
        version = (prod.version or "v1.0.0").rsplit(".", 1)[0] + ".1"
        deployed = await self.deploy(
            "production",
            pushed + timedelta(minutes=15),
            9,
            sha=fix.sha,
            commits=[fix.sha],
            version=version,
            hotfix=True,
            fixes=target,
        )
        prod.shipped.append(fix.sha)
        prod.head, prod.version, prod.last = fix.sha, version, deployed
        return deployed

    async def rollback(self, target: Deployment, previous: _Environment, start: datetime) -> None:
        """Production goes back to what it ran before `target`."""
        prod = self.envs["production"]
        assert previous.head is not None
        rolled = await self.deploy(
            "production",
            start,
            7,
            sha=previous.head,
            commits=[],
            version=previous.version or "v1.0.0",
            fixes=target,
        )
        prod.shipped = list(previous.shipped)
        prod.head, prod.version, prod.last = previous.head, previous.version, rolled

    # Incidents -------------------------------------------------------------------------------

    def _acting(self, name: str) -> ProjectAccess:
        role = "admin" if name == "maya" else "member"
        return ProjectAccess(self.lead.project, self.people[name], member_role=role)

    async def incident(
        self,
        caused_by: Deployment,
        opened: datetime,
        *,
        title: str,
        description: str,
        severity: str,
        by: str,
    ) -> incidents.ShownIncident:
        data = IncidentCreate(
            title=title,
            description=description,
            severity=severity,
            environment="production",
            opened_at=opened,
            caused_by_deployment_id=caused_by.id,
        )
        with clock_at(opened):
            return await incidents.create_incident(self.session, self._acting(by), data)

    async def resolve(
        self, shown: incidents.ShownIncident, at: datetime, fixed_by: Deployment, by: str
    ) -> None:
        ctx = incidents.IncidentContext(
            access=self._acting(by),
            incident=shown.incident,
            environment=shown.environment,
            opened_by=None,
        )
        change = IncidentUpdate(
            state="resolved", resolved_at=at, fixed_by_deployment_id=fixed_by.id
        )
        with clock_at(at):
            await incidents.update_incident(self.session, ctx, change, if_match=None)

    # The plan --------------------------------------------------------------------------------

    def later(self, at: datetime, run: Callable[[], Awaitable[None]]) -> None:
        """Do `run` at `at` (never: when that is not in the past yet)."""
        if at < self.now:
            self.scheduled += 1
            heapq.heappush(self.actions, _Action(at, self.scheduled, run))

    def routine(self, at: datetime, run: Callable[[], Awaitable[None]]) -> None:
        """Do routine work (a push to main, a build, a promotion to staging) at `at`, unless it
        falls in the last hour: that hour's work is the newest change (`_unpromoted`), which
        must be the newest push and development build whatever the time of day."""
        if at < self.now - ROUTINE_STOPS_BEFORE_NOW:
            self.later(at, run)

    async def run(self) -> None:
        """Everything planned, in the order it happened; what an action plans for later is
        done in its turn."""
        while self.actions:
            action = heapq.heappop(self.actions)
            self.last_at = action.at
            await action.run()


ROUTINE_STOPS_BEFORE_NOW = timedelta(hours=1)
RELEASE_DONE = 12.0  # hours after midnight UTC: a release day's morning is over


def _working_days(start: date, end: date) -> list[date]:
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return [day for day in days if day.weekday() < 5]


def _closest(days: list[date], target: date, taken: set[date]) -> date:
    return min((d for d in days if d not in taken), key=lambda d: (abs((d - target).days), d))


async def _code(history: _History, work: list[Item], names: dict[str, str], start: date) -> None:
    """Commits on main: one to three per finished item, landing when its pull request merged,
    and a chore now and then."""
    rng = history.rng
    earliest = _at(start, 8)
    for item in sorted(work, key=lambda i: (i.finished_at or earliest, i.key)):
        if item.finished_at is None or item.finished_at <= earliest + timedelta(hours=4):
            continue
        merged = item.finished_at - timedelta(minutes=rng.randint(10, 80))
        begin = max(item.started_at or merged - timedelta(days=2), merged - timedelta(days=3))
        begin = max(begin, earliest)
        author = names.get(item.assignee_id or "") or rng.choice(AUTHORS)
        count = rng.choice((1, 1, 2, 2, 3))
        messages = [f"{item.key} {item.title}", *(f"{item.key} {m}" for m in FOLLOW_UPS)]
        made = [
            history.commit(
                messages[n], author, begin + (merged - begin) * (n + 1) / (count + 1), merged
            )
            for n in range(count)
        ]
        history.routine(merged, partial(history.push, made))
    for n, day in enumerate(_working_days(start, history.now.date())[1::3]):
        at = _at(day, 13.5 + rng.uniform(-2, 2))
        chore = history.commit(
            CHORES[n % len(CHORES)], rng.choice(AUTHORS), at - timedelta(hours=1), at
        )
        history.routine(at, partial(history.push, [chore]))


async def load_deployments(
    session: AsyncSession, lead: ProjectAccess, people: dict[str, Principal]
) -> None:
    """The delivery history, from the team's first working day to now (after
    `load_delivery`, whose repository and linked logins it uses)."""
    project = lead.project
    now = utcnow()
    repository = (await session.scalars(delivery_repo.repositories_of(project.id))).first()
    if repository is None:
        return
    start = demo_origin(now.date()) + timedelta(days=FIRST_DAY_AFTER_ORIGIN)
    history = _History(session, lead, people, repository, now)
    names = {principal.id: name for name, principal in people.items()}
    categories = {s.id: s.category for s in await workflow_repo.statuses(session, project.id)}
    items = [i for i in await items_repo.project_items(session, project.id) if i.type != "epic"]
    done = [i for i in items if categories.get(i.status_id) == "done"]
    await _code(history, done, names, start)

    days = _working_days(start, now.date())
    # A day's release counts once its morning is over: the release, the incident it may open
    # (up to 90 minutes after) and then the newest change's push must all fit before now, or the
    # demo would start without that change (`_unpromoted`) for the hour after each release.
    release_days = [d for d in days if d.weekday() in (0, 2, 4) and _at(d, RELEASE_DONE) < now]
    release_days = [d for d in release_days if d > start + timedelta(days=3)]
    taken: set[date] = {release_days[-1]}
    first_incident = _closest(release_days, now.date() - timedelta(days=44), taken)
    taken.add(first_incident)
    rolled_back = _closest(release_days, now.date() - timedelta(days=30), taken)
    taken.add(rolled_back)
    second_incident = _closest(release_days, now.date() - timedelta(days=13), taken)
    taken.add(second_incident)
    skipped = {d for d in release_days if d not in taken and history.rng.random() < 0.12}

    async def build(at: datetime) -> None:
        await history.promote("development", at, source=None, flaky=0.05)

    async def stage(at: datetime) -> None:
        await history.promote("staging", at, source="development", flaky=0.08)

    stories = {first_incident: "first", rolled_back: "rollback", second_incident: "second"}
    # A release that ships nothing new (staging had nothing since the last one: early in the
    # history, which starts closer to the targets on some weekdays than on others) hands its
    # story to the next release that ships something, so the demo never loses an incident.
    carried: list[str] = []

    async def release(day: date) -> None:
        prod = history.envs["production"]
        before = _Environment("production", list(prod.shipped), prod.head, prod.version)
        deployed = await history.promote("production", _at(day, 9.5), source="staging")
        if deployed is None and day == release_days[-1]:
            deployed = prod.last  # nothing new: the incident hits what runs
        story = stories.get(day)
        if deployed is None:
            if story is not None:
                carried.append(story)
            return
        if story is None and carried and day != release_days[-1]:
            story = carried.pop(0)
        done_at = deployed.finished_at or _at(day, 9.75)
        if story == "first":
            _first_incident(history, deployed, done_at)
        elif story == "rollback" and before.head is not None:
            target = deployed
            history.later(
                done_at + timedelta(minutes=25),
                lambda: history.rollback(target, before, done_at + timedelta(minutes=25)),
            )
        elif story == "second":
            _second_incident(history, deployed, day)
        elif day == release_days[-1]:
            _open_incident(history, deployed, done_at)

    for day in days:
        history.routine(_at(day, 15.5), partial(build, _at(day, 15.5)))
        if day.weekday() in (1, 3) or history.rng.random() < 0.5:
            history.routine(_at(day, 13.0), partial(stage, _at(day, 13.0)))
        if day in release_days and day not in skipped:
            history.later(_at(day, 9.5), partial(release, day))
    await history.run()
    await _unpromoted(history, items, categories, names)


def _first_incident(history: _History, deployed: Deployment, done_at: datetime) -> None:
    """Card payments time out after a release; a hotfix raises the timeout within two hours."""
    opened = done_at + timedelta(minutes=35)
    pushed = opened + timedelta(minutes=50)

    async def open_it() -> None:
        shown = await history.incident(
            deployed,
            opened,
            title="Card payments time out on 3-D Secure",
            description="Payments needing a 3-D Secure challenge time out after 10 s; the "
            "bank's challenge page takes up to 25 s. About 30 % of card payments fail.",
            severity="sev2",
            by="sara",
        )

        async def fix_it() -> None:
            fix = await history.hotfix(
                deployed, "Raise the 3-D Secure timeout to 40 s", "leo", pushed
            )
            resolved = (fix.finished_at or pushed) + timedelta(minutes=15)
            history.later(resolved, lambda: history.resolve(shown, resolved, fix, "maya"))

        history.later(pushed, fix_it)

    history.later(opened, open_it)


def _second_incident(history: _History, deployed: Deployment, day: date) -> None:
    """Refund emails go out twice from the afternoon on; fixed the next working morning."""
    next_day = day + timedelta(days=3 if day.weekday() == 4 else 1)  # Friday: Monday
    opened, pushed = _at(day, 15.0), _at(next_day, 8.3)

    async def open_it() -> None:
        shown = await history.incident(
            deployed,
            opened,
            title="Refund confirmations are emailed twice",
            description="Every refund since this morning's release sent its confirmation twice.",
            severity="sev3",
            by="omar",
        )

        async def fix_it() -> None:
            fix = await history.hotfix(
                deployed, "Send the refund confirmation once", "sara", pushed
            )
            resolved = (fix.finished_at or pushed) + timedelta(minutes=20)
            history.later(resolved, lambda: history.resolve(shown, resolved, fix, "maya"))

        history.later(pushed, fix_it)

    history.later(opened, open_it)


def _open_incident(history: _History, deployed: Deployment, done_at: datetime) -> None:
    """The latest release broke Apple Pay on Safari: open as the demo starts."""
    now = history.now
    opened = max(min(done_at + timedelta(minutes=90), now - timedelta(minutes=10)), done_at)

    async def open_it() -> None:
        await history.incident(
            deployed,
            opened,
            title="Apple Pay button missing on Safari",
            description="Safari users on iOS 18 see no Apple Pay button at checkout; card "
            "payments still work. Conversion on iOS is down 6 %.",
            severity="sev2",
            by="sara",
        )

    history.later(opened, open_it)


async def _unpromoted(
    history: _History, items: list[Item], categories: dict[str, str], names: dict[str, str]
) -> None:
    """The newest change: an item being worked on, its branch built to development only."""
    order = {"in_review": 0, "in_progress": 1}
    working = sorted(
        (i for i in items if categories.get(i.status_id) in order),
        key=lambda i: (order[categories[i.status_id]], i.number),
    )
    if not working:
        return
    item = working[0]
    pushed = max(history.last_at + timedelta(minutes=5), history.now - timedelta(minutes=50))
    if pushed >= history.now - timedelta(minutes=15):
        return
    branch = f"feature/{item.key.lower()}"
    author = names.get(item.assignee_id or "") or "leo"
    change = history.commit(
        f"{item.key} {item.title}", author, pushed - timedelta(minutes=30), pushed, branch
    )
    await history.push([change])
    history.release += 1
    await history.deploy(
        "development",
        pushed + timedelta(minutes=5),
        6,
        sha=change.sha,
        commits=[change.sha],
        version=f"v1.{history.release}.0-rc.1",
        ref=branch,
    )
