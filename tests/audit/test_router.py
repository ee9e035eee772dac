"""The audit log records security-relevant actions and shows them only to admins."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.support import PASSWORD, add_member, make_project, make_user

AUDIT = "/api/v1/audit-log"


async def test_security_actions_are_audited_with_context(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    root = await make_user(app, db, "root", admin=True)
    ada = await make_user(app, db, "ada")
    bob = await make_user(app, db, "bob")
    await client.post("/api/v1/auth/token", data={"username": "ada", "password": "wrong-pass"})
    await client.post("/api/v1/auth/token", data={"username": "ada", "password": PASSWORD})
    token = await client.post("/api/v1/users/me/tokens", json={"name": "ci"}, headers=ada.headers)
    await client.delete(f"/api/v1/users/me/tokens/{token.json()['id']}", headers=ada.headers)
    await client.post("/api/v1/projects", json={"key": "API", "name": "x"}, headers=ada.headers)
    await client.post(
        "/api/v1/projects/API/members",
        json={"user_id": bob.id, "role": "viewer"},
        headers=ada.headers,
    )
    await client.patch(
        f"/api/v1/projects/API/members/{bob.id}", json={"role": "member"}, headers=ada.headers
    )
    await client.delete(
        "/api/v1/projects/API", headers={**ada.headers, "X-Request-ID": "delete-req-1"}
    )

    log = await client.get(AUDIT, params={"limit": 100}, headers=root.headers)
    assert log.status_code == 200
    entries = log.json()["data"]
    actions = [e["action"] for e in entries]
    for expected in (
        "login.failed",
        "login.succeeded",
        "token.created",
        "token.revoked",
        "member.added",
        "member.role_changed",
        "project.created",
        "project.deleted",
    ):
        assert expected in actions, expected
    deletion = next(e for e in entries if e["action"] == "project.deleted")
    assert deletion["actor_username"] == "ada"
    assert deletion["request_id"] == "delete-req-1"
    assert deletion["client_address"] == "127.0.0.1"
    assert entries == sorted(entries, key=lambda e: e["occurred_at"], reverse=True)


async def test_project_admin_reads_only_their_project(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    bob = await make_user(app, db, "bob")
    sam = await make_user(app, db, "sam")
    project_id = await make_project(db, ada, "API")
    await add_member(db, project_id, bob, "member")
    await client.post("/api/v1/projects/API/members", json={"user_id": sam.id}, headers=ada.headers)
    own = await client.get(AUDIT, params={"project": "API"}, headers=ada.headers)
    assert own.status_code == 200
    assert [e["action"] for e in own.json()["data"]] == ["member.added", "project.created"]
    assert (await client.get(AUDIT, headers=ada.headers)).status_code == 403
    assert (
        await client.get(AUDIT, params={"project": "API"}, headers=bob.headers)
    ).status_code == 403
    await client.delete(f"/api/v1/projects/API/members/{sam.id}", headers=ada.headers)
    assert (
        await client.get(AUDIT, params={"project": "API"}, headers=sam.headers)
    ).status_code == 404
