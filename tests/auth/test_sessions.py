"""Sessions and credentials over their life: refresh rotation under concurrency, the first
account's admin right, and what a password change or a disabled account ends."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from takt.auth.models import RefreshToken, User
from takt.core.db import Database
from tests.support import PASSWORD, bearer, login, make_pat, make_user

REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/users/me"
NEW_PASSWORD = "a-brand-new-password"


async def refresh(client: AsyncClient, token: str) -> Response:
    return await client.post(REFRESH, json={"refresh_token": token})


async def test_concurrent_refreshes_of_one_token_let_one_through_and_kill_the_family(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    token = (await login(client, "ada"))["refresh_token"]
    responses = await asyncio.gather(*(refresh(client, token) for _ in range(20)))
    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1, [r.status_code for r in responses]
    assert {r.status_code for r in responses if r not in winners} == {401}
    # A loser is a second holder of the token: the family, with the winner's new link, is dead.
    assert (await refresh(client, winners[0].json()["refresh_token"])).status_code == 401
    async with db.transaction() as session:
        live = await session.scalar(
            select(func.count()).select_from(RefreshToken).where(RefreshToken.revoked_at.is_(None))
        )
    assert live == 0


async def test_rotation_without_a_race_keeps_the_family_alive(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    token = (await login(client, "ada"))["refresh_token"]
    for _ in range(3):
        rotated = await refresh(client, token)
        assert rotated.status_code == 200
        token = rotated.json()["refresh_token"]


async def test_concurrent_first_registrations_make_exactly_one_instance_admin(
    client: AsyncClient,
) -> None:
    bodies = [
        {"username": f"user{i}", "email": f"user{i}@example.com", "password": PASSWORD}
        for i in range(10)
    ]
    responses = await asyncio.gather(
        *(client.post("/api/v1/auth/register", json=body) for body in bodies)
    )
    assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
    assert sum(r.json()["is_admin"] for r in responses) == 1


async def two_sessions(client: AsyncClient) -> tuple[dict[str, str], dict[str, str]]:
    return await login(client, "ada"), await login(client, "ada")


async def test_password_change_ends_every_other_session_but_this_one(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    this, other = await two_sessions(client)
    _, pat = await make_pat(app, db, (await make_user(app, db, "bob")), ["read"])
    changed = await client.patch(
        ME,
        json={"password": NEW_PASSWORD, "current_password": PASSWORD},
        headers=bearer(this["access_token"]),
    )
    assert changed.status_code == 200, changed.text
    assert (await refresh(client, other["refresh_token"])).status_code == 401
    kept = await refresh(client, this["refresh_token"])
    assert kept.status_code == 200
    assert (await client.get(ME, headers=bearer(kept.json()["access_token"]))).status_code == 200
    # Someone else's credentials are untouched.
    assert (await client.get(ME, headers=bearer(pat))).status_code == 200


async def test_password_change_with_a_personal_access_token_ends_every_session(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    first, second = await two_sessions(client)
    _, pat = await make_pat(app, db, ada, ["read", "write"])
    changed = await client.patch(
        ME, json={"password": NEW_PASSWORD, "current_password": PASSWORD}, headers=bearer(pat)
    )
    assert changed.status_code == 200, changed.text
    for session in (first, second):
        assert (await refresh(client, session["refresh_token"])).status_code == 401
    await login(client, "ada", NEW_PASSWORD)


async def test_profile_change_without_a_new_password_ends_no_session(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    this, other = await two_sessions(client)
    renamed = await client.patch(
        ME, json={"display_name": "Ada L."}, headers=bearer(this["access_token"])
    )
    assert renamed.status_code == 200
    assert (await refresh(client, other["refresh_token"])).status_code == 200


async def test_disabling_a_user_ends_their_sessions_and_tokens_at_once(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    root = await make_user(app, db, "root", admin=True)
    bob = await make_user(app, db, "bob")
    session = await login(client, "bob")
    _, pat = await make_pat(app, db, bob, ["read", "write"])
    credentials = [bearer(pat), bearer(session["access_token"]), bob.headers]
    for headers in credentials:  # resolved once, so the principal cache holds each
        assert (await client.get(ME, headers=headers)).status_code == 200

    disabled = await client.patch(
        f"/api/v1/users/{bob.id}", json={"is_active": False}, headers=root.headers
    )
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["is_active"] is False
    for headers in credentials:
        assert (await client.get(ME, headers=headers)).status_code == 401
    assert (await refresh(client, session["refresh_token"])).status_code == 401
    refused = await client.post(
        "/api/v1/auth/token", data={"username": "bob", "password": PASSWORD}
    )
    assert refused.status_code == 401

    enabled = await client.patch(
        f"/api/v1/users/{bob.id}", json={"is_active": True}, headers=root.headers
    )
    assert enabled.status_code == 200
    assert enabled.json()["is_active"] is True
    # Enabling restores the account, not the credentials it had.
    assert (await client.get(ME, headers=bearer(pat))).status_code == 401
    assert (await refresh(client, session["refresh_token"])).status_code == 401
    await login(client, "bob")


async def test_admin_cannot_disable_own_account_or_an_unknown_one(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    root = await make_user(app, db, "root", admin=True)
    own = await client.patch(
        f"/api/v1/users/{root.id}", json={"is_active": False}, headers=root.headers
    )
    assert own.status_code == 403
    assert own.headers["content-type"] == "application/problem+json"
    unknown = await client.patch(
        "/api/v1/users/no-such-user", json={"is_active": False}, headers=root.headers
    )
    assert unknown.status_code == 404
    async with db.transaction() as session:
        assert await session.scalar(select(User.is_active).where(User.id == root.id)) is True


async def test_disabling_needs_a_boolean(client: AsyncClient, app: FastAPI, db: Database) -> None:
    root = await make_user(app, db, "root", admin=True)
    bob = await make_user(app, db, "bob")
    for body in ({}, {"is_active": None}, {"is_active": False, "is_admin": True}):
        response = await client.patch(f"/api/v1/users/{bob.id}", json=body, headers=root.headers)
        assert response.status_code == 422, body
