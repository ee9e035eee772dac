"""Registration, login, throttling and the user's own profile."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import select

from takt.auth.models import User
from takt.config import Settings
from takt.core.db import Database
from takt.core.security import Passwords
from takt.main import create_app
from tests.support import PASSWORD, login, make_user

REGISTER = "/api/v1/auth/register"


def registration(username: str = "ada", **extra: object) -> dict[str, object]:
    return {"username": username, "email": f"{username}@example.com", "password": PASSWORD, **extra}


async def test_first_user_becomes_instance_admin(client: AsyncClient) -> None:
    first = await client.post(REGISTER, json=registration("ada"))
    second = await client.post(REGISTER, json=registration("grace"))
    assert first.status_code == 201
    assert first.json()["is_admin"] is True
    assert second.json()["is_admin"] is False
    assert "password" not in first.text
    assert "argon2" not in first.text


async def test_username_is_unique_ignoring_case(client: AsyncClient) -> None:
    await client.post(REGISTER, json=registration("ada"))
    clash = await client.post(
        REGISTER, json={"username": "ADA", "email": "other@example.com", "password": PASSWORD}
    )
    assert clash.status_code == 409
    assert clash.json()["code"] == "account-exists"


async def test_email_is_unique_ignoring_case(client: AsyncClient) -> None:
    await client.post(REGISTER, json=registration("ada"))
    clash = await client.post(
        REGISTER, json={"username": "ada2", "email": "ADA@example.com", "password": PASSWORD}
    )
    assert clash.status_code == 409


async def test_bad_registrations_get_422_with_pointers(client: AsyncClient) -> None:
    cases = {
        "/email": registration(email="not-an-email"),
        "/password": registration(password="short"),
        "/username": registration(username="a b"),
        "/is_admin": registration(is_admin=True),
        "/id": registration(id="x"),
    }
    for pointer, body in cases.items():
        response = await client.post(REGISTER, json=body)
        assert response.status_code == 422, (pointer, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert pointer in [e["pointer"] for e in response.json()["errors"]], response.text


async def test_password_equal_to_username_is_refused(client: AsyncClient) -> None:
    response = await client.post(
        REGISTER,
        json={"username": "longusername", "email": "l@example.com", "password": "LongUserName"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/password"


async def test_signup_closed_refuses_all_but_the_first_account(
    settings: Settings, db: Database
) -> None:
    closed = create_app(settings.model_copy(update={"allow_signup": False}), database=db)
    async with AsyncClient(transport=ASGITransport(app=closed), base_url="http://t") as c:
        first = await c.post(REGISTER, json=registration("root"))
        second = await c.post(REGISTER, json=registration("eve"))
    assert first.status_code == 201
    assert second.status_code == 403
    assert second.json()["code"] == "signup-closed"


async def test_login_returns_access_and_refresh_tokens(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    tokens = await login(client, "ada")
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 15 * 60
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["username"] == "ada"
    assert me.headers["cache-control"] == "no-store"


async def test_login_by_email_works(client: AsyncClient, app: FastAPI, db: Database) -> None:
    await make_user(app, db, "ada")
    assert (await login(client, "ADA@example.com"))["access_token"]


async def test_unknown_user_and_wrong_password_look_the_same(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    wrong = await client.post(
        "/api/v1/auth/token", data={"username": "ada", "password": "wrong-password"}
    )
    unknown = await client.post(
        "/api/v1/auth/token", data={"username": "nobody", "password": "wrong-password"}
    )
    assert wrong.status_code == unknown.status_code == 401

    def strip(response: Response) -> dict[str, Any]:
        return {k: v for k, v in response.json().items() if k != "request_id"}

    assert strip(wrong) == strip(unknown)
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"] == "Bearer"


async def test_repeated_failures_for_one_account_are_throttled(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    for _ in range(5):
        failed = await client.post(
            "/api/v1/auth/token", data={"username": "ada", "password": "wrong-password"}
        )
        assert failed.status_code == 401
    throttled = await client.post(
        "/api/v1/auth/token", data={"username": "ada", "password": PASSWORD}
    )
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert throttled.json()["code"] == "rate-limited"


async def test_success_resets_the_account_counter(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    for _round in range(2):
        for _ in range(4):
            await client.post(
                "/api/v1/auth/token", data={"username": "ada", "password": "wrong-password"}
            )
        await login(client, "ada")


async def test_one_address_failing_on_many_accounts_is_throttled(client: AsyncClient) -> None:
    statuses = []
    for i in range(26):
        response = await client.post(
            "/api/v1/auth/token", data={"username": f"user{i}", "password": "wrong-password"}
        )
        statuses.append(response.status_code)
    assert statuses[:25] == [401] * 25
    assert statuses[25] == 429


async def test_login_rehashes_when_parameters_change(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    original = app.state.security
    stronger = Passwords(time_cost=2, memory_kib=128, parallelism=1)
    app.state.security = dataclasses.replace(original, passwords=stronger)
    try:
        await login(client, "ada")
    finally:
        app.state.security = original
    async with db.transaction() as session:
        stored = await session.scalar(select(User.password_hash).where(User.username == "ada"))
    assert stored is not None
    assert "m=128,t=2" in stored
    assert stored.startswith("$argon2id$")


async def test_update_me_changes_profile_but_not_privileges(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    ok = await client.patch(
        "/api/v1/users/me", json={"display_name": "Ada L."}, headers=ada.headers
    )
    assert ok.status_code == 200
    assert ok.json()["display_name"] == "Ada L."
    for field, value in (
        ("is_admin", True),
        ("id", "x"),
        ("created_at", "2020-01-01T00:00:00Z"),
        ("username", "root"),
    ):
        refused = await client.patch("/api/v1/users/me", json={field: value}, headers=ada.headers)
        assert refused.status_code == 422, field
    me = await client.get("/api/v1/users/me", headers=ada.headers)
    assert me.json()["is_admin"] is False
    assert me.json()["username"] == "ada"


async def test_password_change_needs_the_current_password(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    refused = await client.patch(
        "/api/v1/users/me",
        json={"password": "a-brand-new-password", "current_password": "wrong-password"},
        headers=ada.headers,
    )
    assert refused.status_code == 403
    changed = await client.patch(
        "/api/v1/users/me",
        json={"password": "a-brand-new-password", "current_password": PASSWORD},
        headers=ada.headers,
    )
    assert changed.status_code == 200
    await login(client, "ada", "a-brand-new-password")


async def test_instance_admin_creates_accounts_others_cannot(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    root = await make_user(app, db, "root", admin=True)
    ada = await make_user(app, db, "ada")
    body = registration("grace")
    assert (await client.post("/api/v1/users", json=body, headers=ada.headers)).status_code == 403
    created = await client.post("/api/v1/users", json=body, headers=root.headers)
    assert created.status_code == 201
    assert created.json()["username"] == "grace"
