"""Membership and key rules hold when requests race (each request its own transaction; on
PostgreSQL they really overlap, on SQLite writes take turns)."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.core.db import Database
from takt.projects.models import Project, ProjectMember
from tests.support import Account, add_member, make_project, make_user, team

PROJECTS = "/api/v1/projects"
MEMBERS = f"{PROJECTS}/API/members"


async def _admin_team(app: FastAPI, db: Database, names: tuple[str, ...]) -> list[Account]:
    people = [await make_user(app, db, name) for name in names]
    project_id = await make_project(db, people[0], "API")
    for person in people[1:]:
        await add_member(db, project_id, person, "admin")
    return people


async def _roles(client: AsyncClient, who: Account) -> dict[str, str]:
    listed = await client.get(MEMBERS, params={"limit": 100}, headers=who.headers)
    assert listed.status_code == 200, listed.text
    return {m["user"]["username"]: m["role"] for m in listed.json()["data"]}


async def test_two_admins_demoting_each_other_at_once_keep_an_admin(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada, bob = await _admin_team(app, db, ("ada", "bob"))
    answers = await asyncio.gather(
        client.patch(f"{MEMBERS}/{bob.id}", json={"role": "member"}, headers=ada.headers),
        client.patch(f"{MEMBERS}/{ada.id}", json={"role": "member"}, headers=bob.headers),
    )
    assert [a.status_code for a in answers].count(200) == 1, [a.text for a in answers]
    # Refused as the last admin, or (when the other change went first) as no admin any more.
    assert {a.json()["code"] for a in answers if a.status_code != 200} <= {
        "last-admin",
        "forbidden",
    }
    roles = await _roles(client, ada if answers[0].status_code == 200 else bob)
    assert list(roles.values()).count("admin") == 1


async def test_two_admins_removing_each_other_at_once_keep_an_admin(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada, bob = await _admin_team(app, db, ("ada", "bob"))
    answers = await asyncio.gather(
        client.delete(f"{MEMBERS}/{bob.id}", headers=ada.headers),
        client.delete(f"{MEMBERS}/{ada.id}", headers=bob.headers),
    )
    assert [a.status_code for a in answers].count(204) == 1, [a.text for a in answers]
    # Refused as the last admin, or (when the other removal went first) as a stranger.
    assert {a.json()["code"] for a in answers if a.status_code != 204} <= {
        "last-admin",
        "not-found",
    }
    async with db.transaction() as session:
        admins = await session.scalar(
            select(func.count()).select_from(ProjectMember).where(ProjectMember.role == "admin")
        )
    assert admins == 1


async def test_an_admin_demoted_meanwhile_no_longer_changes_roles(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Of two admins demoting each other at once (a third stays admin), the one demoted first
    is no admin any more when their own change runs: it is refused, as it would be a moment
    later."""
    ada, bob, _ = await _admin_team(app, db, ("ada", "bob", "cat"))
    answers = await asyncio.gather(
        client.patch(f"{MEMBERS}/{bob.id}", json={"role": "member"}, headers=ada.headers),
        client.patch(f"{MEMBERS}/{ada.id}", json={"role": "member"}, headers=bob.headers),
    )
    assert sorted(a.status_code for a in answers) == [200, 403], [a.text for a in answers]
    roles = await _roles(client, ada)
    assert sorted(roles.values()) == ["admin", "admin", "member"]


async def test_an_admin_removed_meanwhile_no_longer_removes_members(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada, bob, cat = await _admin_team(app, db, ("ada", "bob", "cat"))
    answers = await asyncio.gather(
        client.delete(f"{MEMBERS}/{bob.id}", headers=ada.headers),
        client.delete(f"{MEMBERS}/{ada.id}", headers=bob.headers),
    )
    codes = sorted(a.status_code for a in answers)
    # The one removed first can't see the project any more: 404, as for any stranger.
    assert codes == [204, 404], [a.text for a in answers]
    assert len(await _roles(client, cat)) == 2


async def test_the_same_user_added_at_once_is_one_membership(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, sam = people["ada"], people["sam"]
    # ada finds sam by name or email once they share a project (anyone by id).
    await add_member(db, await make_project(db, ada, "WEB"), sam, "member")
    bodies = [
        {"username": "sam"},
        {"username": "SAM"},
        {"email": "Sam@Example.com"},
        {"user_id": sam.id},
    ]
    answers = await asyncio.gather(
        *(client.post(MEMBERS, json={**b, "role": "member"}, headers=ada.headers) for b in bodies)
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"already-member"}
    assert list(await _roles(client, ada)).count("sam") == 1


async def test_concurrent_projects_with_one_key_make_one_project(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Keys are upper case only (a lower-case key is refused with 422), so one key has one
    spelling; four creates of it at once make one project."""
    ada = await make_user(app, db, "ada")
    answers = await asyncio.gather(
        *(
            client.post(PROJECTS, json={"key": "WEB", "name": f"Web {n}"}, headers=ada.headers)
            for n in range(4)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"project-key-taken"}
    lower = await client.post(PROJECTS, json={"key": "web", "name": "web"}, headers=ada.headers)
    assert lower.status_code == 422
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Project)) == 1
