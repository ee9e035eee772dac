"""A personal access token never does more than its limits (projects, scopes, lifetime), even when
its user is an instance admin."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from takt.auth.models import PersonalAccessToken
from takt.auth.principal import Account as PrincipalAccount
from takt.auth.principal import Principal, TokenLimited
from takt.core.db import Database
from takt.core.time import utcnow
from tests.support import Account, add_member, bearer, make_pat, make_project, make_user

TOKENS = "/api/v1/users/me/tokens"
ALL = ["read", "write", "admin"]


async def _instance(app: FastAPI, db: Database) -> dict[str, Account]:
    """root (instance admin, member of nothing), ada (admin of API), oli (admin of OTH)."""
    people = {
        "root": await make_user(app, db, "root", admin=True),
        "ada": await make_user(app, db, "ada"),
        "oli": await make_user(app, db, "oli"),
    }
    await make_project(db, people["ada"], "API")
    await make_project(db, people["oli"], "OTH")
    return people


async def _limited_root(app: FastAPI, db: Database, root: Account) -> dict[str, str]:
    _, secret = await make_pat(app, db, root, ALL, projects=["OTH"])
    return bearer(secret)


async def test_limited_admin_token_reads_only_its_projects_audit_log(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _instance(app, db)
    api_admin, oth_admin = people["ada"].headers, people["oli"].headers
    # One audited action in each project: a member added.
    extra = await make_user(app, db, "extra")
    for key, headers in (("API", api_admin), ("OTH", oth_admin)):
        added = await client.post(
            f"/api/v1/projects/{key}/members", json={"user_id": extra.id}, headers=headers
        )
        assert added.status_code == 201, added.text
    limited = await _limited_root(app, db, people["root"])

    whole = await client.get("/api/v1/audit-log", headers=limited)
    assert whole.status_code == 200, whole.text
    oth = (await client.get("/api/v1/projects/OTH", headers=limited)).json()["id"]
    assert whole.json()["data"], "the OTH entry is listed"
    assert {e["project_id"] for e in whole.json()["data"]} == {oth}

    api = await client.get("/api/v1/audit-log", params={"project": "API"}, headers=limited)
    assert api.status_code == 404
    # The same admin with an unlimited credential still reads everything.
    everything = await client.get("/api/v1/audit-log", headers=people["root"].headers)
    assert len(everything.json()["data"]) > len(whole.json()["data"])


async def test_limited_admin_token_cannot_create_accounts(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _instance(app, db)
    limited = await _limited_root(app, db, people["root"])
    body = {
        "username": "mallory",
        "email": "mallory@example.com",
        "password": "correct-horse-battery",
        "is_admin": True,
    }
    refused = await client.post("/api/v1/users", json=body, headers=limited)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "token-limited"
    login = await client.post(
        "/api/v1/auth/token", data={"username": "mallory", "password": body["password"]}
    )
    assert login.status_code == 401


async def test_limited_admin_token_cannot_restore_a_project_or_create_one(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _instance(app, db)
    deleted = await client.delete("/api/v1/projects/OTH", headers=people["oli"].headers)
    assert deleted.status_code == 204
    limited = await _limited_root(app, db, people["root"])
    restore = await client.post("/api/v1/projects/OTH/restore", headers=limited)
    assert restore.status_code in (403, 404), restore.text
    gone = await client.get("/api/v1/projects/OTH", headers=people["oli"].headers)
    assert gone.status_code == 404
    create = await client.post(
        "/api/v1/projects", json={"key": "NEW", "name": "N"}, headers=limited
    )
    assert create.status_code == 403


async def test_limited_token_lists_only_its_projects(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _instance(app, db)
    limited = await _limited_root(app, db, people["root"])
    listed = await client.get("/api/v1/projects", headers=limited)
    assert [p["key"] for p in listed.json()["data"]] == ["OTH"]


async def test_limited_token_cannot_change_the_account(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _instance(app, db)
    limited = await _limited_root(app, db, people["root"])
    changed = await client.patch(
        "/api/v1/users/me", json={"email": "attacker@example.com"}, headers=limited
    )
    assert changed.status_code == 403, changed.text
    me = await client.get("/api/v1/users/me", headers=people["root"].headers)
    assert me.json()["email"] == "root@example.com"


async def test_limited_token_revokes_only_tokens_within_its_projects(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _instance(app, db)
    root = people["root"]
    unlimited_id, unlimited = await make_pat(app, db, root, ALL)
    inside_id, _ = await make_pat(app, db, root, ["read"], projects=["OTH"])
    limited = await _limited_root(app, db, root)

    # The account's token list is account-level: outside every project.
    listed = await client.get(TOKENS, headers=limited)
    assert listed.status_code == 403
    assert listed.json()["code"] == "token-limited"

    revoke = await client.delete(f"{TOKENS}/{unlimited_id}", headers=limited)
    assert revoke.status_code == 404
    assert (await client.get("/api/v1/users/me", headers=bearer(unlimited))).status_code == 200
    assert (await client.delete(f"{TOKENS}/{inside_id}", headers=limited)).status_code == 204


async def test_token_cannot_mint_a_token_beyond_its_projects(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _instance(app, db)
    limited = await _limited_root(app, db, people["root"])
    for projects in (None, ["API"], ["OTH", "API"]):
        body: dict[str, object] = {"name": "escalate", "scopes": ALL}
        if projects is not None:
            body["projects"] = projects
        minted = await client.post(TOKENS, json=body, headers=limited)
        assert minted.status_code == 403, (projects, minted.text)
        assert minted.json()["code"] == "token-limited"
    inside = await client.post(
        TOKENS, json={"name": "ok", "scopes": ALL, "projects": ["OTH"]}, headers=limited
    )
    assert inside.status_code == 201, inside.text


def _token(scopes: list[str], projects: list[str] | None, expires: datetime | None) -> Principal:
    account = PrincipalAccount(
        id="u1",
        username="ada",
        email="ada@example.com",
        display_name="Ada",
        is_admin=True,
        is_active=True,
        created_at=utcnow(),
    )
    return Principal(
        user=account,
        scopes=frozenset(scopes),
        project_keys=frozenset(projects) if projects is not None else None,
        via="pat",
        token_expires_at=expires,
    )


def test_a_grant_never_exceeds_the_granting_token() -> None:
    soon = utcnow() + timedelta(days=1)
    later = soon + timedelta(days=1)
    write_oth = _token(["read", "write"], ["OTH"], soon)
    write_oth.check_grant(["read"], ["OTH"], soon)
    write_oth.check_grant(["write"], ["OTH"], soon - timedelta(hours=1))
    for scopes, projects, expires in (
        (["admin"], ["OTH"], soon),
        (["read"], ["OTH", "API"], soon),
        (["read"], None, soon),
        (["read"], ["OTH"], later),
        (["read"], ["OTH"], None),
    ):
        with pytest.raises(TokenLimited):
            write_oth.check_grant(scopes, projects, expires)
    # A password session and a token without limits grant anything.
    unlimited = _token(["read", "write", "admin"], None, None)
    unlimited.check_grant(["admin"], None, None)
    session = Principal(user=unlimited.user, via="jwt", token_expires_at=soon)
    session.check_grant(["admin"], None, None)


async def test_read_token_cannot_mint_tokens(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _instance(app, db)
    _, secret = await make_pat(app, db, people["ada"], ["read"])
    refused = await client.post(
        TOKENS, json={"name": "x", "scopes": ["read"]}, headers=bearer(secret)
    )
    assert refused.status_code == 403


async def test_token_cannot_mint_a_token_that_outlives_it(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _instance(app, db)
    token_id, secret = await make_pat(app, db, people["ada"], ALL)
    ends = utcnow() + timedelta(days=3)
    async with db.transaction() as session:
        await session.execute(
            update(PersonalAccessToken)
            .where(PersonalAccessToken.id == token_id)
            .values(expires_at=ends)
        )
    headers = bearer(secret)
    for body in (
        {"name": "forever", "never_expires": True},
        {"name": "longer", "expires_in_days": 30},
    ):
        minted = await client.post(TOKENS, json=body, headers=headers)
        assert minted.status_code == 403, (body, minted.text)
        assert minted.json()["code"] == "token-limited"
    # Without an explicit lifetime the default is cut to the parent's expiry.
    default = await client.post(TOKENS, json={"name": "default"}, headers=headers)
    assert default.status_code == 201, default.text
    assert default.json()["expires_at"] <= ends.isoformat().replace("+00:00", "Z")
    shorter = await client.post(
        TOKENS, json={"name": "short", "expires_in_days": 1}, headers=headers
    )
    assert shorter.status_code == 201


async def test_other_projects_token_of_a_member_reaches_only_its_project(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _instance(app, db)
    ada = people["ada"]
    project_id = await make_project(db, people["oli"], "THR")
    await add_member(db, project_id, ada, "admin")
    _, secret = await make_pat(app, db, ada, ALL, projects=["THR"])
    headers = bearer(secret)
    assert (await client.get("/api/v1/projects/API", headers=headers)).status_code == 404
    assert (await client.get("/api/v1/projects/THR", headers=headers)).status_code == 200
    log = await client.get("/api/v1/audit-log", params={"project": "API"}, headers=headers)
    assert log.status_code == 404
