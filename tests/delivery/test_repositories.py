"""Linking repositories: project admins only, the webhook URL to paste, a secret shown once
(GitHub's sealed, GitLab's hashed), rotation, renames, unlinking."""

from __future__ import annotations

import hashlib

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.core.crypto import SecretBox
from takt.core.db import Database
from takt.delivery.models import Repository
from takt.integrations.models import InboundDelivery
from tests.conftest import TEST_SECRET
from tests.delivery.support import fixture, link_repository, send_github
from tests.support import team


async def stored(db: Database, repository_id: str) -> Repository:
    async with db.transaction(write=False) as session:
        found = await session.get(Repository, repository_id)
    assert found is not None
    return found


async def test_an_admin_links_a_github_repository_and_gets_its_secret_once(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    created = await link_repository(client, people["ada"], "github", "acme/api")
    assert created["webhook_url"] == (f"http://127.0.0.1:8000/api/v1/hooks/github/{created['id']}")
    assert created["full_name"] == "acme/api"
    assert created["default_branch"] == "main"
    secret = created["secret"]
    assert len(secret) >= 40
    # Stored sealed, never in the clear; it opens with the server's key.
    row = await stored(db, created["id"])
    assert row.secret_sealed
    assert secret not in row.secret_sealed
    assert row.secret_hash is None
    assert SecretBox(TEST_SECRET).open(row.secret_sealed) == secret
    # Never shown again.
    shown = await client.get(f"/api/v1/repositories/{created['id']}", headers=people["ada"].headers)
    assert shown.status_code == 200
    assert "secret" not in shown.json()
    listed = await client.get("/api/v1/projects/API/repositories", headers=people["ada"].headers)
    assert [r["id"] for r in listed.json()["data"]] == [created["id"]]
    assert secret not in listed.text
    assert secret not in shown.text
    events = await client.get("/api/v1/projects/API/events", headers=people["ada"].headers)
    assert secret not in events.text
    assert "repository.linked" in [e["type"] for e in events.json()["data"]]


async def test_a_gitlab_token_is_stored_as_its_hash_only(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    created = await link_repository(client, people["ada"], "gitlab", "group/sub/project")
    row = await stored(db, created["id"])
    assert row.secret_sealed is None
    assert row.secret_hash == hashlib.sha256(created["secret"].encode()).hexdigest()


async def test_members_and_outsiders_cannot_link_or_read_repositories(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    body = {"provider": "github", "full_name": "acme/api"}
    member = await client.post(
        "/api/v1/projects/API/repositories", json=body, headers=people["bob"].headers
    )
    assert member.status_code == 403
    stranger = await client.post(
        "/api/v1/projects/API/repositories", json=body, headers=people["sam"].headers
    )
    assert stranger.status_code == 404
    created = await link_repository(client, people["ada"], "github", "acme/api")
    read = await client.get(f"/api/v1/repositories/{created['id']}", headers=people["bob"].headers)
    assert read.status_code == 403
    hidden = await client.get(
        f"/api/v1/repositories/{created['id']}", headers=people["sam"].headers
    )
    assert hidden.status_code == 404


async def test_bad_names_are_refused_and_a_repository_is_linked_once(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    headers = people["ada"].headers
    for body in (
        {"provider": "github", "full_name": "no-slash"},
        {"provider": "github", "full_name": "a/b/c"},
        {"provider": "gitlab", "full_name": "group/../x y"},
        {"provider": "bitbucket", "full_name": "a/b"},
        {"provider": "github", "full_name": "a/b", "secret": "mine"},
    ):
        refused = await client.post("/api/v1/projects/API/repositories", json=body, headers=headers)
        assert refused.status_code == 422, body
    await link_repository(client, people["ada"], "github", "Acme/API")
    again = await client.post(
        "/api/v1/projects/API/repositories",
        json={"provider": "github", "full_name": "acme/api"},
        headers=headers,
    )
    assert again.status_code == 409
    assert again.json()["code"] == "repository-already-linked"


async def test_rotation_gives_a_new_secret_and_the_old_one_stops_working(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    created = await link_repository(client, people["ada"])
    rotated = await client.post(
        f"/api/v1/repositories/{created['id']}/rotate-secret", headers=people["ada"].headers
    )
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != created["secret"]
    assert rotated.json()["secret_rotated_at"]
    ping = fixture("github", "ping.json")
    old = await send_github(client, created, "ping", ping, secret=created["secret"])
    assert old.status_code == 401
    new = await send_github(client, created, "ping", ping, secret=new_secret)
    assert new.status_code == 202


async def test_a_rename_and_a_new_default_branch_with_if_match(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    created = await link_repository(client, people["ada"], "github", "acme/api")
    url = f"/api/v1/repositories/{created['id']}"
    etag = (await client.get(url, headers=people["ada"].headers)).headers["ETag"]
    stale = await client.patch(
        url, json={"full_name": "acme/core"}, headers={**people["ada"].headers, "If-Match": '"v9"'}
    )
    assert stale.status_code == 412
    renamed = await client.patch(
        url,
        json={"full_name": "acme/core", "default_branch": "develop"},
        headers={**people["ada"].headers, "If-Match": etag},
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["full_name"] == "acme/core"
    assert renamed.json()["default_branch"] == "develop"
    assert renamed.json()["version"] == created["version"] + 1
    by_member = await client.patch(url, json={"default_branch": "x"}, headers=people["bob"].headers)
    assert by_member.status_code == 403


async def test_unlinking_takes_the_inbox_and_pull_requests_with_it(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    created = await link_repository(client, people["ada"])
    accepted = await send_github(client, created, "ping", fixture("github", "ping.json"))
    assert accepted.status_code == 202
    gone = await client.delete(
        f"/api/v1/repositories/{created['id']}", headers=people["ada"].headers
    )
    assert gone.status_code == 204
    async with db.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(InboundDelivery)) == 0
    missing = await client.get(
        f"/api/v1/repositories/{created['id']}", headers=people["ada"].headers
    )
    assert missing.status_code == 404
    after = await send_github(client, created, "ping", fixture("github", "ping.json"))
    assert after.status_code == 401
