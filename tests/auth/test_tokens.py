"""Access tokens, refresh rotation, personal access tokens and rate limits."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import timedelta

import jwt
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import update

from takt.auth.models import PersonalAccessToken
from takt.config import Settings
from takt.core.db import Database
from takt.core.probe import answers
from takt.core.ratelimit import MemoryCounterStore, RedisCounterStore
from takt.core.security import (
    JWT_AUDIENCE,
    JWT_ISSUER,
    is_well_formed_pat,
    new_personal_access_token,
)
from takt.core.time import utcnow
from takt.main import create_app
from tests.conftest import TEST_SECRET
from tests.support import bearer, login, make_pat, make_project, make_user

ME = "/api/v1/users/me"


def _jwt_key() -> bytes:
    return hashlib.sha256(b"takt-jwt:" + TEST_SECRET.encode()).digest()


def _claims(user_id: str, **override: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": JWT_ISSUER,
        "aud": JWT_AUDIENCE,
        "sub": user_id,
        "typ": "access",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(override)
    return claims


async def _assert_401(client: AsyncClient, token: str) -> None:
    response = await client.get(ME, headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"


async def test_missing_credentials_get_401_with_www_authenticate(client: AsyncClient) -> None:
    response = await client.get(ME)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_forged_and_expired_jwts_are_refused(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    key = _jwt_key()
    good = jwt.encode(_claims(ada.id), key, algorithm="HS256")
    assert (await client.get(ME, headers=bearer(good))).status_code == 200

    unsigned = jwt.encode(_claims(ada.id), "", algorithm="none")
    await _assert_401(client, unsigned)
    await _assert_401(client, jwt.encode(_claims(ada.id, exp=int(time.time()) - 5), key, "HS256"))
    await _assert_401(client, jwt.encode(_claims(ada.id, aud="someone-else"), key, "HS256"))
    await _assert_401(client, jwt.encode(_claims(ada.id, iss="evil"), key, "HS256"))
    await _assert_401(client, jwt.encode(_claims(ada.id, typ="refresh"), key, "HS256"))
    await _assert_401(
        client, jwt.encode(_claims(ada.id), b"another-key-entirely-32-bytes-long!!", "HS256")
    )
    await _assert_401(client, jwt.encode(_claims("no-such-user"), key, "HS256"))
    await _assert_401(client, "not.a.jwt")


async def test_refresh_token_is_not_an_access_token(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    tokens = await login(client, "ada")
    await _assert_401(client, tokens["refresh_token"])


async def test_refresh_rotates_and_spends_the_old_token(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    first = await login(client, "ada")
    rotated = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != first["refresh_token"]
    assert (await client.get(ME, headers=bearer(rotated.json()["access_token"]))).status_code == 200


async def test_reusing_a_spent_refresh_token_revokes_its_family(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    first = await login(client, "ada")
    second = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    reuse = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert reuse.status_code == 401
    assert reuse.headers["www-authenticate"] == "Bearer"
    # The thief's and the victim's newer token are both dead now.
    after = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert after.status_code == 401
    # Another login is a new family and unaffected.
    other = await login(client, "ada")
    ok = await client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert ok.status_code == 200


async def test_logout_revokes_the_refresh_token(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    tokens = await login(client, "ada")
    out = await client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 204
    again = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert again.status_code == 401


def test_pat_format_has_a_checksum_that_rejects_typos() -> None:
    token = new_personal_access_token()
    assert token.startswith("takt_pat_")
    assert is_well_formed_pat(token)
    typo = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert not is_well_formed_pat(typo)
    assert not is_well_formed_pat(token[:-2])
    assert not is_well_formed_pat("takt_pat_")


async def test_pat_secret_is_shown_once_and_works(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    created = await client.post(
        "/api/v1/users/me/tokens",
        json={"name": "ci", "scopes": ["read", "write"]},
        headers=ada.headers,
    )
    assert created.status_code == 201
    body = created.json()
    secret = body["token"]
    assert is_well_formed_pat(secret)
    assert secret.startswith(body["display_prefix"])
    assert body["expires_at"] is not None  # 90 days by default
    listed = await client.get("/api/v1/users/me/tokens", headers=ada.headers)
    assert secret not in listed.text
    assert hashlib.sha256(secret.encode()).hexdigest() not in listed.text
    assert listed.json()["data"][0]["last_used_at"] is None
    me = await client.get(ME, headers=bearer(secret))
    assert me.status_code == 200
    listed = await client.get("/api/v1/users/me/tokens", headers=ada.headers)
    assert listed.json()["data"][0]["last_used_at"] is not None


async def test_read_token_cannot_write(client: AsyncClient, app: FastAPI, db: Database) -> None:
    ada = await make_user(app, db, "ada")
    _, secret = await make_pat(app, db, ada, ["read"])
    assert (await client.get(ME, headers=bearer(secret))).status_code == 200
    refused = await client.patch(ME, json={"display_name": "x"}, headers=bearer(secret))
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"


async def test_revoked_expired_and_mistyped_pats_get_401(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    revoked_id, revoked = await make_pat(app, db, ada, ["read"])
    deleted = await client.delete(f"/api/v1/users/me/tokens/{revoked_id}", headers=ada.headers)
    assert deleted.status_code == 204
    await _assert_401(client, revoked)

    expired_id, expired = await make_pat(app, db, ada, ["read"])
    async with db.transaction() as session:
        await session.execute(
            update(PersonalAccessToken)
            .where(PersonalAccessToken.id == expired_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    await _assert_401(client, expired)
    await _assert_401(client, new_personal_access_token())  # well-formed, unknown
    await _assert_401(client, revoked[:-1] + "x")  # typo


async def test_project_limited_token_sees_only_its_projects(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    await make_project(db, ada, "API")
    await make_project(db, ada, "WEB")
    _, secret = await make_pat(app, db, ada, ["read"], projects=["API"])
    assert (await client.get("/api/v1/projects/API", headers=bearer(secret))).status_code == 200
    assert (await client.get("/api/v1/projects/WEB", headers=bearer(secret))).status_code == 404
    listed = await client.get("/api/v1/projects", headers=bearer(secret))
    assert [p["key"] for p in listed.json()["data"]] == ["API"]


async def test_write_token_cannot_mint_tokens_but_admin_token_can(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    _, write = await make_pat(app, db, ada, ["write"])
    _, admin = await make_pat(app, db, ada, ["admin"])
    body = {"name": "more"}
    assert (
        await client.post("/api/v1/users/me/tokens", json=body, headers=bearer(write))
    ).status_code == 403
    assert (
        await client.post("/api/v1/users/me/tokens", json=body, headers=bearer(admin))
    ).status_code == 201


async def test_rate_limit_answers_429_with_headers(settings: Settings, db: Database) -> None:
    limited = create_app(settings.model_copy(update={"rate_limit_per_minute": 3}), database=db)
    ada = await make_user(limited, db, "ada")
    async with AsyncClient(transport=ASGITransport(app=limited), base_url="http://t") as c:
        statuses = [(await c.get(ME, headers=ada.headers)) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert statuses[0].headers["ratelimit-limit"] == "3"
    assert statuses[0].headers["ratelimit-remaining"] == "2"
    last = statuses[-1]
    assert int(last.headers["retry-after"]) > 0
    assert last.headers["ratelimit-remaining"] == "0"
    assert last.json()["code"] == "rate-limited"


async def test_memory_counter_store_counts_and_resets() -> None:
    store = MemoryCounterStore()
    assert (await store.hit("k", 60)).count == 1
    assert (await store.hit("k", 60)).count == 2
    assert (await store.peek("k")).count == 2
    await store.reset("k")
    assert (await store.peek("k")).count == 0


REDIS_URL = os.environ.get("TAKT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.mark.skipif(
    not answers("127.0.0.1", 6379) and not os.environ.get("TAKT_REQUIRE_REDIS"),
    reason="no Redis on 127.0.0.1:6379 (CI sets TAKT_REQUIRE_REDIS=1 and runs it)",
)
async def test_redis_counter_store_is_shared_between_instances() -> None:
    key = f"test:{os.getpid()}:{time.time_ns()}"
    first, second = RedisCounterStore(REDIS_URL), RedisCounterStore(REDIS_URL)
    try:
        assert (await first.hit(key, 60)).count == 1
        window = await second.hit(key, 60)
        assert window.count == 2
        assert 0 < window.resets_in <= 60
        await second.reset(key)
        assert (await first.peek(key)).count == 0
    finally:
        await first.close()
        await second.close()


@pytest.mark.skipif(
    not answers("127.0.0.1", 6379) and not os.environ.get("TAKT_REQUIRE_REDIS"),
    reason="no Redis on 127.0.0.1:6379 (CI sets TAKT_REQUIRE_REDIS=1 and runs it)",
)
async def test_two_processes_share_the_rate_limit_through_redis(
    settings: Settings, db: Database
) -> None:
    shared = settings.model_copy(update={"rate_limit_per_minute": 3, "redis_url": REDIS_URL})
    first, second = create_app(shared, database=db), create_app(shared, database=db)
    assert isinstance(first.state.security.counters, RedisCounterStore)
    ada = await make_user(first, db, "ada")
    try:
        statuses = []
        for app in (first, second, first, second):
            async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
                statuses.append((await c.get(ME, headers=ada.headers)).status_code)
        assert statuses == [200, 200, 200, 429]
    finally:
        await first.state.security.counters.close()
        await second.state.security.counters.close()
