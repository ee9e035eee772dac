"""The caller's three steps (`auth.deps.get_principal`): who it is, how often it calls, and when its
personal access token was last used; each pinned to what it reads and writes."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.auth.models import PersonalAccessToken
from takt.core.db import Database
from tests.support import QueryCounter, bearer, make_pat, make_user

ME = "/api/v1/users/me"


async def _last_used(db: Database, token_id: str) -> object:
    async with db.transaction() as session:
        return await session.scalar(
            select(PersonalAccessToken.last_used_at).where(PersonalAccessToken.id == token_id)
        )


def _writes(counter: QueryCounter) -> list[str]:
    return [s for s in counter.statements if s.split()[0].upper() in {"INSERT", "UPDATE"}]


async def test_a_pat_read_records_its_use_once_and_the_next_read_sends_nothing(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    token_id, secret = await make_pat(app, db, ada, ["read"])
    with QueryCounter(db) as first:
        assert (await client.get(ME, headers=bearer(secret))).status_code == 200
    assert len(_writes(first)) == 1
    assert "personal_access_tokens" in _writes(first)[0]
    assert await _last_used(db, token_id) is not None
    with QueryCounter(db) as again:
        assert (await client.get(ME, headers=bearer(secret))).status_code == 200
    assert again.statements == []


async def test_a_pat_write_records_its_use_with_the_write(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    token_id, secret = await make_pat(app, db, ada, ["read", "write"])
    changed = await client.patch(ME, json={"display_name": "Ada L."}, headers=bearer(secret))
    assert changed.status_code == 200
    assert await _last_used(db, token_id) is not None


async def test_an_access_token_records_no_token_use(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    with QueryCounter(db) as counter:
        assert (await client.get(ME, headers=ada.headers)).status_code == 200
    assert _writes(counter) == []


async def test_a_write_refused_by_scope_still_counts_against_the_rate_limit(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    _, secret = await make_pat(app, db, ada, ["read"])
    read = await client.get(ME, headers=bearer(secret))
    refused = await client.patch(ME, json={"display_name": "x"}, headers=bearer(secret))
    assert refused.status_code == 403
    remaining = int(read.headers["ratelimit-remaining"])
    assert int(refused.headers["ratelimit-remaining"]) == remaining - 1


async def test_a_request_without_a_token_is_not_counted(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    before = await client.get(ME, headers=ada.headers)
    assert (await client.get(ME)).status_code == 401
    after = await client.get(ME, headers=ada.headers)
    assert (
        int(after.headers["ratelimit-remaining"]) == int(before.headers["ratelimit-remaining"]) - 1
    )
