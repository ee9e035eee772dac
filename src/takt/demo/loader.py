"""Builds the demo project through the same services the API uses."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth import repository as users_repo
from takt.auth import service as auth_service
from takt.auth.models import User
from takt.auth.principal import Principal
from takt.auth.schemas import RegisterRequest
from takt.auth.service import Security
from takt.blockers import service as blockers
from takt.blockers.schemas import (
    BlockerCreate,
    PromoteRequest,
    WaitingOnExternal,
    WaitingOnItem,
    WaitingOnPerson,
    WaitingOnTeam,
)
from takt.core.audit import ClientContext
from takt.core.time import clock_at, local_date, utcnow, working_cutoff
from takt.demo.backlog import demo_origin, load_backlog
from takt.demo.delivery import load_delivery
from takt.demo.deployments import load_deployments
from takt.demo.estimation import load_estimation
from takt.demo.refinement import load_refinement
from takt.demo.retros import load_retros
from takt.projects import service as projects
from takt.projects.policies import ProjectAccess
from takt.projects.schemas import MemberAdd, ProjectCreate, ProjectSettings
from takt.risks import service as risks
from takt.risks.schemas import RiskCreate
from takt.sprints import repository as sprint_repo
from takt.standups import drafts as standup_drafts
from takt.standups import service as standups
from takt.standups import summary as standup_summary
from takt.standups.schemas import EntryWrite, StandupConfigWrite
from takt.wiring import connect

DEMO_PASSWORD = "takt-demo-password"
DEMO_PROJECT = "DEMO"
CLIENT = ClientContext(address="demo-loader")


@dataclass(frozen=True)
class DemoPerson:
    username: str
    display_name: str
    role: str  # in the demo project; "instance-admin" for the instance admin


PEOPLE = (
    DemoPerson("admin", "Ada Admin", "instance-admin"),
    DemoPerson("maya", "Maya Lead", "admin"),
    DemoPerson("leo", "Leo Developer", "member"),
    DemoPerson("sara", "Sara Tester", "member"),
    DemoPerson("omar", "Omar Designer", "member"),
    DemoPerson("vera", "Vera Stakeholder", "viewer"),
)


async def is_empty(session: AsyncSession) -> bool:
    return await users_repo.count_users(session) == 0


async def demo_logins(session: AsyncSession, security: Security) -> list[DemoPerson]:
    """The demo people who can still log in with the demo password (their account is there,
    active, and its password unchanged): what `takt demo --if-empty` prints when the demo was
    loaded by an earlier start."""
    people = []
    for person in PEOPLE:
        user = await users_repo.find_user(
            session, user_id=None, username=person.username, email=None
        )
        if (
            user is not None
            and user.is_active
            and await security.passwords.verify(user.password_hash, DEMO_PASSWORD)
        ):
            people.append(person)
    return people


async def load_demo(session: AsyncSession, security: Security) -> list[DemoPerson]:
    """Create the demo people and project, then its history. Returns the people."""
    connect()  # the CLI runs this without an app: the services' hooks must be wired
    # The team and project exist from the start of the demo's history.
    with clock_at(datetime.combine(demo_origin(utcnow().date()), time(8), tzinfo=UTC)):
        users, access = await _team(session, security)
    await load_backlog(session, access, {name: Principal.of(u) for name, u in users.items()})
    await _standups(session, access, users)
    await _blockers_and_risks(session, access, users)
    await load_refinement(session, access, {name: Principal.of(u) for name, u in users.items()})
    await load_estimation(session, access, {name: Principal.of(u) for name, u in users.items()})
    await load_retros(session, access, {name: Principal.of(u) for name, u in users.items()})
    await load_delivery(session, access, {name: Principal.of(u) for name, u in users.items()})
    await load_deployments(session, access, {name: Principal.of(u) for name, u in users.items()})
    return list(PEOPLE)


async def _standups(session: AsyncSession, lead: ProjectAccess, users: dict[str, User]) -> None:
    """Two weeks of stand-ups: on each working day every member checks in with their draft,
    most before the 10:00 (Berlin) cut-off, some after it, now and then someone forgets; each
    past day's summary is recorded at its cut-off, as the worker does."""
    rng = random.Random(14)  # noqa: S311 (demo content, not security)
    now = utcnow()
    with clock_at(now - timedelta(days=15)):
        config = await standups.put_config(session, lead, StandupConfigWrite(), if_match=None)
    calendar = config.calendar
    today = calendar.today(now)
    for day in (today - timedelta(days=back) for back in range(14, -1, -1)):
        if not calendar.runs_on(day):
            continue
        for person in PEOPLE:
            if person.role not in ("admin", "member") or rng.random() < 0.1:
                continue  # viewers don't take part; the others forget one time in ten
            at = calendar.cutoff_at(day) + timedelta(minutes=rng.randint(-90, 15))
            if at > now:
                continue
            member = ProjectAccess(
                project=lead.project,
                principal=Principal.of(users[person.username]),
                member_role=person.role,
            )
            with clock_at(at):
                draft = await standup_drafts.build(session, config, member.principal.id, day)
                said = {key: value for key, value in draft.answers.items() if value != ""}
                answers = {
                    "yesterday": "Reviews and pairing.",
                    "today": "The next item on the board.",
                    "blockers": "Nothing.",
                    **{
                        key: value[:4000] if isinstance(value, str) else value
                        for key, value in said.items()
                    },
                }
                body = EntryWrite(answers=answers, blocked=draft.blocked)
                await standups.submit_entry(session, member, day, body)
        recorded_at = calendar.cutoff_at(day) + timedelta(minutes=5)
        if recorded_at <= now:
            with clock_at(recorded_at):
                await standup_summary.record(session, lead.project, day)


async def _blockers_and_risks(
    session: AsyncSession, lead: ProjectAccess, users: dict[str, User]
) -> None:
    """Blockers of various ages on the active sprint's unfinished work (one past the two working
    days after which blockers escalate, escalated as the worker's sweep would; two resolved),
    that one promoted to a risk, and a risk register with a risk in each severity band."""
    now = utcnow()
    calendar = blockers.calendar_of(lead.project)
    sprint = await sprint_repo.active_sprint(session, lead.project.id)
    scope = await sprint_repo.items_with_category(session, sprint.id) if sprint else []
    work = [item.key for item, category in scope if category not in ("done", "cancelled")]
    if sprint is None or len(work) < 6:
        return

    def acting(name: str) -> ProjectAccess:
        role = "admin" if name == "maya" else "member"
        return ProjectAccess(lead.project, Principal.of(users[name]), member_role=role)

    plan = [  # who, working hours ago, resolved working hours ago, item, reason, waiting on
        (
            "leo",
            30.5,
            None,
            work[0],
            "The processor's sandbox rejects every 3-D Secure challenge",
            WaitingOnExternal(kind="external", name="Card processor support"),
        ),
        (
            "sara",
            9.5,
            None,
            work[1],
            "Which refunds may be partial? Needs a product decision",
            WaitingOnPerson(kind="person", user="maya"),
        ),
        (
            "omar",
            3.5,
            None,
            work[2],
            f"The designs need the final copy of {work[3]}",
            WaitingOnItem(kind="item", item_key=work[3]),
        ),
        (
            "leo",
            28.0,
            20.0,
            work[4],
            "The staging database is out of disk",
            WaitingOnTeam(kind="team", name="Platform team"),
        ),
        (
            "sara",
            12.0,
            6.0,
            work[5],
            "The bank's sandbox locked our test accounts",
            WaitingOnExternal(kind="external", name="Bank sandbox support"),
        ),
    ]
    raised = []
    for who, ago, resolved_ago, key, reason, waiting_on in plan:
        data = BlockerCreate(item_key=key, reason=reason, waiting_on=waiting_on)
        with clock_at(working_cutoff(now, ago, calendar)):
            row = await blockers.raise_blocker(session, acting(who), data)
        raised.append(blockers.BlockerContext(acting(who), row))
        if resolved_ago is not None:
            with clock_at(working_cutoff(now, resolved_ago, calendar)):
                await blockers.resolve_blocker(session, raised[-1])
    await blockers.escalate_due(session)
    mitigation = "Mock the challenge in our tests; ask the processor's account manager for a date."
    await blockers.promote_blocker(session, raised[0], PromoteRequest(mitigation=mitigation))
    today = local_date(now, calendar.zone)
    register = [  # who, title, likelihood, impact, status, review in days, owner, links
        ("omar", "The designer is away in the sprint's last week", 2, 2, "open", 10, "omar", {}),
        ("maya", "Tax rates change at the turn of the year", 2, 4, "mitigating", -3, "maya", {}),
        (
            "sara",
            "Fraud rules block legitimate first purchases",
            3,
            4,
            "open",
            5,
            "sara",
            {"item_keys": [work[1]]},
        ),
        (
            "maya",
            "The legacy cart is switched off before checkout is ready",
            4,
            5,
            "open",
            7,
            "maya",
            {"sprint_ids": [sprint.id]},
        ),
        ("leo", "The Apple Pay certificate expires", 3, 3, "closed", None, "leo", {}),
    ]
    for who, title, likelihood, impact, status, review_in, owner, links in register:
        review = today + timedelta(days=review_in) if review_in is not None else None
        risk = RiskCreate(
            title=title,
            likelihood=likelihood,
            impact=impact,
            status=status,
            review_date=review,
            owner=owner,
            **links,
        )
        await risks.create_risk(session, acting(who), risk)


async def _team(session: AsyncSession, security: Security) -> tuple[dict[str, User], ProjectAccess]:
    users: dict[str, User] = {}
    for person in PEOPLE:
        data = RegisterRequest(
            username=person.username,
            email=f"{person.username}@demo.takt.example",
            password=DEMO_PASSWORD,
            display_name=person.display_name,
        )
        if person.role == "instance-admin":
            users[person.username] = await auth_service.create_admin(session, security, data)
        else:
            users[person.username] = await auth_service._create_user(
                session, security, data, is_admin=False
            )
    lead = Principal.of(users["maya"])
    access = await projects.create_project(
        session,
        lead,
        ProjectCreate(
            key=DEMO_PROJECT,
            name="Takt Demo: Checkout Service",
            description="A payments team rebuilding its checkout service. Explore freely.",
            settings=ProjectSettings(time_zone="Europe/Berlin", sprint_length_days=14),
        ),
        client=CLIENT,
    )
    for person in PEOPLE:
        if person.role in ("member", "viewer"):
            await projects.add_member(
                session,
                access,
                MemberAdd(user_id=users[person.username].id, role=person.role),
                client=CLIENT,
            )
    return users, access
