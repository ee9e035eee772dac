"""`GET /users?q=` finds people, and adding a member by username or email finds only the same
people: nobody learns from either whether an account exists."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import delete

from takt.core.db import Database
from takt.projects.models import ProjectMember
from tests.support import Account, add_member, bearer, make_pat, make_project, make_user

USERS = "/api/v1/users"


async def _people(app: FastAPI, db: Database) -> dict[str, Account]:
    """ada and bob share API; cyd is alone in CYD; root is an instance admin in no project."""
    people = {n: await make_user(app, db, n) for n in ("ada", "bob", "cyd")}
    people["root"] = await make_user(app, db, "root", admin=True)
    api = await make_project(db, people["ada"], "API")
    await add_member(db, api, people["bob"], "viewer")
    await make_project(db, people["cyd"], "CYD")
    return people


async def _found(client: AsyncClient, who: dict[str, str], **params: str) -> list[str]:
    response = await client.get(USERS, params=params, headers=who)
    assert response.status_code == 200, response.text
    return [u["username"] for u in response.json()["data"]]


async def test_people_find_only_those_who_share_a_project(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _people(app, db)
    assert await _found(client, people["ada"].headers) == ["ada", "bob"]
    assert await _found(client, people["cyd"].headers) == ["cyd"]
    assert await _found(client, people["ada"].headers, q="cyd") == []
    assert await _found(client, people["ada"].headers, q="cyd@example.com") == []
    assert await _found(client, people["root"].headers) == ["ada", "bob", "cyd", "root"]


async def test_search_matches_name_parts_and_whole_emails_only(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _people(app, db)
    root = people["root"].headers
    assert await _found(client, root, q="BO") == ["bob"]
    assert await _found(client, root, q="bob@example.com") == ["bob"]
    # Part of an address matches nothing: a search can't spell addresses out letter by letter.
    assert await _found(client, root, q="example.com") == []
    # LIKE wildcards are literal.
    assert await _found(client, root, q="%") == []
    assert await _found(client, root, q="_") == []
    listed = (await client.get(USERS, params={"q": "bob"}, headers=root)).json()["data"]
    assert set(listed[0]) == {"id", "username", "display_name"}, "no email in search results"


async def test_search_is_paginated_and_bounded(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _people(app, db)
    root = people["root"].headers
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = await client.get(USERS, params=params, headers=root)
        assert page.status_code == 200
        seen += [u["username"] for u in page.json()["data"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == ["ada", "bob", "cyd", "root"]
    too_long = await client.get(USERS, params={"q": "x" * 101}, headers=root)
    assert too_long.status_code == 422
    assert (await client.get(USERS, params={"limit": "101"}, headers=root)).status_code == 422
    assert (await client.get(USERS)).status_code == 401


async def test_a_limited_token_finds_only_people_of_its_projects(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _people(app, db)
    _, root_cyd = await make_pat(app, db, people["root"], ["read"], projects=["CYD"])
    assert await _found(client, bearer(root_cyd)) == ["cyd", "root"]
    _, ada_none = await make_pat(app, db, people["ada"], ["read"], projects=["CYD"])
    assert await _found(client, bearer(ada_none)) == ["ada"]


async def test_a_left_project_stops_sharing(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _people(app, db)
    assert "bob" in await _found(client, people["ada"].headers)
    async with db.transaction() as session:
        await session.execute(
            delete(ProjectMember).where(ProjectMember.user_id == people["bob"].id)
        )
    assert await _found(client, people["ada"].headers) == ["ada"]


MEMBERS = "/api/v1/projects/API/members"


@pytest.mark.parametrize("field", ["username", "email"])
async def test_adding_an_unshared_account_answers_like_an_unknown_one(
    client: AsyncClient, app: FastAPI, db: Database, field: str
) -> None:
    people = await _people(app, db)
    ada = people["ada"].headers

    def named(name: str) -> dict[str, str]:
        return {field: name if field == "username" else f"{name}@example.com", "role": "viewer"}

    unknown = await client.post(MEMBERS, json=named("nobody"), headers=ada)
    existing = await client.post(MEMBERS, json=named("cyd"), headers=ada)
    assert unknown.status_code == existing.status_code == 404
    strip = ("request_id", "instance")
    assert {k: v for k, v in unknown.json().items() if k not in strip} == {
        k: v for k, v in existing.json().items() if k not in strip
    }
    # An instance admin finds everyone, and anyone can be added by the id they tell you.
    by_root = await client.post(MEMBERS, json=named("cyd"), headers=people["root"].headers)
    assert by_root.status_code == 201, by_root.text


async def test_a_user_id_adds_anyone_and_shared_people_are_found_by_name(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await _people(app, db)
    cyd = people["cyd"]
    by_id = await client.post(
        MEMBERS, json={"user_id": cyd.id, "role": "viewer"}, headers=people["ada"].headers
    )
    assert by_id.status_code == 201
    assert by_id.json()["user"]["username"] == "cyd"
    # dan shares OTH with ada, so ada finds dan by email (in any case) to add him to API.
    dan = await make_user(app, db, "dan")
    other = await make_project(db, people["ada"], "OTH")
    await add_member(db, other, dan, "member")
    added = await client.post(
        "/api/v1/projects/API/members",
        json={"email": "DAN@example.com", "role": "member"},
        headers=people["ada"].headers,
    )
    assert added.status_code == 201, added.text
