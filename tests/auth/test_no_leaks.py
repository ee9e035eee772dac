"""No response ever carries a password hash, a token hash, or a personal access token after the
response that created it."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select

from takt.auth.models import PersonalAccessToken, RefreshToken, User
from takt.core.db import Database
from tests.support import bearer, login, make_user


async def test_no_response_leaks_hashes_or_secrets(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    seen: list[Response] = []

    async def keep(response: Response) -> None:
        await response.aread()
        seen.append(response)

    client.event_hooks["response"].append(keep)
    root = await make_user(app, db, "root", admin=True)
    await client.post(
        "/api/v1/auth/register",
        json={"username": "ada", "email": "ada@example.com", "password": "correct-horse-battery"},
    )
    tokens = await login(client, "ada")
    ada = bearer(tokens["access_token"])
    await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    created = await client.post("/api/v1/users/me/tokens", json={"name": "ci"}, headers=ada)
    secret = created.json()["token"]
    creation = seen[-1]
    await client.get("/api/v1/users/me/tokens", headers=ada)
    await client.get("/api/v1/users/me", headers=bearer(secret))
    await client.post("/api/v1/projects", json={"key": "API", "name": "x"}, headers=ada)
    await client.post("/api/v1/projects/API/members", json={"user_id": root.id}, headers=ada)
    await client.get("/api/v1/projects/API/members", headers=ada)
    await client.get("/api/v1/audit-log", params={"limit": 100}, headers=root.headers)
    await client.get("/api/v1/audit-log", params={"project": "API"}, headers=ada)

    async with db.transaction() as session:
        secrets = list((await session.scalars(select(User.password_hash))).all())
        secrets += list((await session.scalars(select(RefreshToken.token_hash))).all())
        secrets += list((await session.scalars(select(PersonalAccessToken.token_hash))).all())
    assert len(secrets) >= 5
    for response in seen:
        for value in secrets:
            assert value not in response.text, response.request.url
        assert "$argon2" not in response.text
        if response is not creation:
            assert secret not in response.text, response.request.url
