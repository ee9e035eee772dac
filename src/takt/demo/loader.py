"""Builds the demo project through the same services the API uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth import repository as users_repo
from takt.auth import service as auth_service
from takt.auth.models import User
from takt.auth.principal import Principal
from takt.auth.schemas import RegisterRequest
from takt.auth.service import Security
from takt.core.audit import ClientContext
from takt.core.time import clock_at, utcnow
from takt.demo.backlog import demo_origin, load_backlog
from takt.projects import service as projects
from takt.projects.policies import ProjectAccess
from takt.projects.schemas import MemberAdd, ProjectCreate, ProjectSettings
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
    return list(PEOPLE)


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
