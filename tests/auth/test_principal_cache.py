"""The principal cache: a burst of requests with one token resolves it once, a change made in
this process applies at once, one made elsewhere within the cache's lifetime, and an entry never
outlives its token."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from takt.auth.cache import PrincipalCache
from takt.auth.models import PersonalAccessToken, User
from takt.auth.principal import Account, Principal
from takt.core.db import Database
from takt.core.time import utcnow
from tests.support import QueryCounter, bearer, make_pat, make_user


async def test_a_second_request_with_the_same_token_does_not_read_the_user(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    assert (await client.get("/api/v1/users/me", headers=ada.headers)).status_code == 200
    with QueryCounter(db) as counter:
        again = await client.get("/api/v1/users/me", headers=ada.headers)
    assert again.status_code == 200
    assert again.json()["username"] == "ada"
    assert counter.count == 0


async def test_revoking_a_token_through_the_api_stops_it_at_once(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    token_id, secret = await make_pat(app, db, ada, ["read"])
    assert (await client.get("/api/v1/users/me", headers=bearer(secret))).status_code == 200
    revoked = await client.delete(f"/api/v1/users/me/tokens/{token_id}", headers=ada.headers)
    assert revoked.status_code == 204
    assert (await client.get("/api/v1/users/me", headers=bearer(secret))).status_code == 401


async def test_a_change_made_elsewhere_applies_when_the_entry_expires(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    token_id, secret = await make_pat(app, db, ada, ["read"])
    assert (await client.get("/api/v1/users/me", headers=bearer(secret))).status_code == 200
    # Another worker revokes the token and deactivates the user: this worker's cache still
    # holds the principal...
    async with db.transaction() as session:
        await session.execute(
            update(PersonalAccessToken)
            .where(PersonalAccessToken.id == token_id)
            .values(revoked_at=utcnow())
        )
        await session.execute(update(User).where(User.id == ada.user.id).values(is_active=False))
    cache: PrincipalCache = app.state.security.principals
    assert (await client.get("/api/v1/users/me", headers=bearer(secret))).status_code == 200
    # ...until the entry's lifetime is over (simulated by dropping it).
    cache.clear()
    assert (await client.get("/api/v1/users/me", headers=bearer(secret))).status_code == 401
    assert (await client.get("/api/v1/users/me", headers=ada.headers)).status_code == 401


def _principal(user_id: str = "u1") -> Principal:
    now = utcnow()
    account = Account(
        id=user_id,
        username="ada",
        email="ada@example.com",
        display_name="Ada",
        is_admin=False,
        is_active=True,
        created_at=now,
    )
    return Principal(user=account)


def test_an_entry_never_outlives_its_token() -> None:
    cache = PrincipalCache(60)
    now = utcnow()
    key = cache.key("token-a")
    cache.put(key, _principal(), token_expires=now - timedelta(seconds=1), now=now, epoch=0)
    assert cache.get(key) is None
    cache.put(key, _principal(), token_expires=now + timedelta(hours=1), now=now, epoch=0)
    assert cache.get(key) is not None


def test_entries_expire_and_the_cache_stays_bounded() -> None:
    expired = PrincipalCache(0.000001)
    key = expired.key("token-a")
    expired.put(key, _principal(), token_expires=None, now=utcnow(), epoch=0)
    assert expired.get(key) is None

    off = PrincipalCache(0)
    off.put(key, _principal(), token_expires=None, now=utcnow(), epoch=0)
    assert off.get(key) is None

    small = PrincipalCache(60, max_entries=2)
    keys = [small.key(f"token-{n}") for n in range(3)]
    for n, k in enumerate(keys):
        small.put(k, _principal(f"u{n}"), token_expires=None, now=utcnow(), epoch=0)
    assert small.get(keys[0]) is None  # the oldest went first
    assert small.get(keys[2]) is not None
    small.forget_user("u2")
    assert small.get(keys[2]) is None


def test_a_lookup_that_overlapped_a_change_is_not_kept() -> None:
    cache = PrincipalCache(60)
    key = cache.key("token-a")
    epoch = cache.epoch  # a request starts resolving the token...
    cache.forget_user("u1")  # ...while another one revokes it and commits
    cache.put(key, _principal(), token_expires=None, now=utcnow(), epoch=epoch)
    assert cache.get(key) is None
    cache.put(key, _principal(), token_expires=None, now=utcnow(), epoch=cache.epoch)
    assert cache.get(key) is not None
