"""Account rules hold when requests race (each request its own transaction; on PostgreSQL they
really overlap, on SQLite writes take turns): usernames and emails are unique in any case, and
instance admins can't take each other out at once. (The first account's admin rights and
refresh-token rotation: tests/auth/test_sessions.py.)"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.auth.models import User
from takt.core.db import Database
from tests.support import PASSWORD, make_user

REGISTER = "/api/v1/auth/register"


async def _accounts(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def test_one_username_registered_at_once_in_any_case_makes_one_account(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "someone")  # not the first account: no lock for that
    names = ("Grace", "GRACE", "grace", "gRaCe")
    answers = await asyncio.gather(
        *(
            client.post(
                REGISTER,
                json={"username": name, "email": f"{n}@example.com", "password": PASSWORD},
            )
            for n, name in enumerate(names)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"account-exists"}
    assert await _accounts(db) == 2


async def test_one_email_registered_at_once_in_any_case_makes_one_account(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "someone")
    emails = ("Grace@Example.com", "grace@example.com", "GRACE@EXAMPLE.COM", "grace@EXAMPLE.com")
    answers = await asyncio.gather(
        *(
            client.post(
                REGISTER, json={"username": f"grace{n}", "email": email, "password": PASSWORD}
            )
            for n, email in enumerate(emails)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"account-exists"}
    assert await _accounts(db) == 2


async def test_first_registrations_of_one_name_make_one_account_and_one_admin(
    client: AsyncClient,
) -> None:
    answers = await asyncio.gather(
        *(
            client.post(
                REGISTER,
                json={"username": name, "email": f"{name}{n}@example.com", "password": PASSWORD},
            )
            for n, name in enumerate(("root", "ROOT", "Root"))
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409], [a.text for a in answers]
    assert next(a for a in answers if a.status_code == 201).json()["is_admin"] is True


async def test_users_taking_one_email_at_once_in_any_case_leave_it_to_one(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = [await make_user(app, db, name) for name in ("ann", "ben", "cyd", "dot")]
    emails = (
        "Shared@Example.com",
        "shared@example.com",
        "SHARED@EXAMPLE.COM",
        "shared@EXAMPLE.com",
    )
    answers = await asyncio.gather(
        *(
            client.patch("/api/v1/users/me", json={"email": email}, headers=who.headers)
            for who, email in zip(people, emails, strict=True)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409], [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"account-exists"}


async def test_two_instance_admins_disabling_each_other_at_once_leave_one_active(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """One after the other, the second is disabled already and can't act; at once, the one
    disabled first is refused as well."""
    ada = await make_user(app, db, "ada", admin=True)
    bob = await make_user(app, db, "bob", admin=True)
    for _ in range(3):
        answers = await asyncio.gather(
            client.patch(f"/api/v1/users/{bob.id}", json={"is_active": False}, headers=ada.headers),
            client.patch(f"/api/v1/users/{ada.id}", json={"is_active": False}, headers=bob.headers),
        )
        codes = sorted(a.status_code for a in answers)
        assert codes[0] == 200, [a.text for a in answers]
        assert codes[1] in (401, 403), [a.text for a in answers]
        async with db.transaction() as session:
            active = await session.scalar(
                select(func.count()).select_from(User).where(User.is_active.is_(True))
            )
        assert active == 1
        # Enable the other again for the next round, through the one still active.
        winner, loser = (ada, bob) if answers[0].status_code == 200 else (bob, ada)
        enabled = await client.patch(
            f"/api/v1/users/{loser.id}", json={"is_active": True}, headers=winner.headers
        )
        assert enabled.status_code == 200, enabled.text
