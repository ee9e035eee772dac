"""Login throttling: the attempt is counted before the password is checked, atomically, in every
counter store, and without Redis the count is shared by every process through the database."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import update

from takt.config import Settings
from takt.core.db import Database
from takt.core.probe import answers
from takt.core.ratelimit import (
    CounterStore,
    DatabaseCounterStore,
    MemoryCounterStore,
    RateCounter,
    RedisCounterStore,
)
from takt.core.security import Passwords
from takt.core.time import utcnow
from takt.main import create_app
from tests.support import PASSWORD, make_user

TOKEN = "/api/v1/auth/token"
LIMIT = 5  # TAKT_LOGIN_MAX_FAILURES' default, per account
REDIS_URL = os.environ.get("TAKT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
needs_redis = pytest.mark.skipif(
    not answers("127.0.0.1", 6379) and not os.environ.get("TAKT_REQUIRE_REDIS"),
    reason="no Redis on 127.0.0.1:6379 (CI sets TAKT_REQUIRE_REDIS=1 and runs it)",
)


class CountingPasswords(Passwords):
    """Counts the password checks (argon2 verifications) that actually run."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_kib=64, parallelism=1)
        self.verified = 0

    async def verify(self, password_hash: str | None, password: str) -> bool:
        self.verified += 1
        return await super().verify(password_hash, password)


def instrument(app: FastAPI, store: CounterStore | None = None) -> CountingPasswords:
    """Count the app's password checks (and swap its login counter store, if given)."""
    passwords = CountingPasswords()
    security = app.state.security
    changes: dict[str, object] = {"passwords": passwords}
    if store is not None:
        changes["login_counters"] = store
    app.state.security = dataclasses.replace(security, **changes)
    return passwords


def wrong_login(client: AsyncClient, username: str = "ada") -> asyncio.Future[Response]:
    return asyncio.ensure_future(
        client.post(TOKEN, data={"username": username, "password": "wrong-password"})
    )


@pytest.fixture(params=["memory", "redis", "database"])
async def store(request: pytest.FixtureRequest, db: Database) -> AsyncIterator[CounterStore]:
    made: CounterStore
    if request.param == "memory":
        made = MemoryCounterStore()
    elif request.param == "redis":
        if not answers("127.0.0.1", 6379) and not os.environ.get("TAKT_REQUIRE_REDIS"):
            pytest.skip("no Redis on 127.0.0.1:6379 (CI sets TAKT_REQUIRE_REDIS=1 and runs it)")
        made = RedisCounterStore(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
    else:
        made = DatabaseCounterStore(db)
    yield made
    await made.close()


async def test_concurrent_wrong_logins_reach_the_password_check_at_most_the_limit(
    store: CounterStore, settings: Settings, db: Database
) -> None:
    app = create_app(settings, database=db)
    await make_user(app, db, "ada")
    passwords = instrument(app, store)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
        responses = await asyncio.gather(*(wrong_login(c) for _ in range(100)))
        right = await c.post(TOKEN, data={"username": "ada", "password": PASSWORD})
    statuses = sorted(r.status_code for r in responses)
    assert passwords.verified == LIMIT
    assert statuses == [401] * LIMIT + [429] * (100 - LIMIT)
    for response in responses:
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) > 0
            assert response.json()["code"] == "rate-limited"
    # Throttled even with the right password, which is not checked either.
    assert right.status_code == 429
    assert passwords.verified == LIMIT


async def test_without_redis_failed_logins_are_counted_in_the_database(
    settings: Settings, db: Database
) -> None:
    assert settings.redis_url is None
    app = create_app(settings, database=db)
    assert isinstance(app.state.security.login_counters, DatabaseCounterStore)
    with_redis = create_app(settings.model_copy(update={"redis_url": REDIS_URL}), database=db)
    assert isinstance(with_redis.state.security.login_counters, RedisCounterStore)
    assert with_redis.state.security.login_counters is with_redis.state.security.counters
    await with_redis.state.security.counters.close()


async def test_two_app_instances_share_the_failed_login_count(
    settings: Settings, db: Database
) -> None:
    """Two workers (two apps, each with its own engines) on one database, no Redis."""
    other_db = Database.from_settings(settings)
    try:
        first = create_app(settings, database=db)
        second = create_app(settings, database=other_db)
        await make_user(first, db, "ada")
        counted = [instrument(first), instrument(second)]
        async with (
            AsyncClient(transport=ASGITransport(app=first), base_url="http://t") as a,
            AsyncClient(transport=ASGITransport(app=second), base_url="http://t") as b,
        ):
            sequential = [(await wrong_login(c)).status_code for c in (a, b, a, b)]
            concurrent = await asyncio.gather(*(wrong_login(c) for _ in range(20) for c in (a, b)))
            after = [(await wrong_login(c)).status_code for c in (a, b)]
    finally:
        await other_db.dispose()
    assert sequential == [401] * 4
    assert sorted(r.status_code for r in concurrent) == [401] + [429] * 39
    assert after == [429, 429]
    assert sum(p.verified for p in counted) == LIMIT


async def test_successful_logins_leave_the_address_allowance_alone(
    settings: Settings, db: Database
) -> None:
    """A success takes back the count of its attempt: an office behind one address logs in as
    often as it likes, and its failures still count."""
    app = create_app(settings.model_copy(update={"login_max_failures": 2}), database=db)
    await make_user(app, db, "ada")
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
        for _ in range(2 * 5 + 2):
            ok = await c.post(TOKEN, data={"username": "ada", "password": PASSWORD})
            assert ok.status_code == 200, ok.text
        statuses = [(await wrong_login(c, f"user{i}")).status_code for i in range(2 * 5 + 1)]
    assert statuses == [401] * (2 * 5) + [429]


async def test_an_address_refused_does_not_use_up_the_account(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    for i in range(LIMIT * 5):
        assert (await wrong_login(client, f"user{i}")).status_code == 401
    for _ in range(LIMIT + 1):
        assert (await wrong_login(client)).status_code == 429
    account = await app.state.security.login_counters.peek("login:account:ada")
    assert account.count == 0


async def test_database_counter_store_counts_windows_undo_and_reset(db: Database) -> None:
    store = DatabaseCounterStore(db)
    assert [(await store.hit("k", 60)).count for _ in range(3)] == [1, 2, 3]
    window = await store.peek("k")
    assert window.count == 3
    assert 0 < window.resets_in <= 60
    await store.undo("k")
    assert (await store.peek("k")).count == 2
    await store.reset("k")
    assert (await store.peek("k")).count == 0
    await store.undo("k")  # nothing to take back: no row appears
    assert (await store.peek("k")).count == 0

    assert (await store.hit("old", 60)).count == 1
    async with db.transaction() as session:
        await session.execute(
            update(RateCounter).values(window_ends_at=utcnow() - timedelta(seconds=1))
        )
    assert (await store.peek("old")).count == 0
    renewed = await store.hit("old", 60)
    assert renewed.count == 1
    assert renewed.resets_in > 30


async def test_database_counter_store_hits_are_atomic(db: Database) -> None:
    store = DatabaseCounterStore(db)
    counts = await asyncio.gather(*(store.hit("busy", 60) for _ in range(40)))
    assert sorted(w.count for w in counts) == list(range(1, 41))


@needs_redis
async def test_redis_counter_store_undo_never_goes_below_zero_or_creates_a_key() -> None:
    store = RedisCounterStore(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        await store.undo("k")
        assert (await store.peek("k")).count == 0
        await store.hit("k", 60)
        await store.undo("k")
        await store.undo("k")
        window = await store.peek("k")
        assert window.count == 0
        assert window.resets_in > 0  # the key kept its expiry
    finally:
        await store.close()


async def test_username_and_email_share_the_accounts_count(
    settings: Settings, db: Database
) -> None:
    """One account, one count: alternating the username, the email and their case neither
    doubles the allowance nor gets round a lock-out."""
    app = create_app(settings, database=db)
    ada = await make_user(app, db, "ada")
    passwords = instrument(app, MemoryCounterStore())
    names = ["ada", ada.user.email, ada.user.email.upper(), "ADA"]
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
        responses = await asyncio.gather(*(wrong_login(c, names[i % 4]) for i in range(20)))
        by_email = await c.post(TOKEN, data={"username": ada.user.email, "password": PASSWORD})
    assert passwords.verified == LIMIT
    assert sorted(r.status_code for r in responses) == [401] * LIMIT + [429] * (20 - LIMIT)
    assert by_email.status_code == 429
