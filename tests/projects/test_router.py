"""Projects and members through the API: visibility, roles, settings, soft delete."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.core.db import Database
from takt.core.events import Event
from tests.support import Account, add_member, make_project, make_user

PROJECTS = "/api/v1/projects"


async def _team(app: FastAPI, db: Database) -> tuple[Account, Account, Account, Account, str]:
    """ada (project admin), bob (member), vic (viewer), sam (stranger), project API."""
    ada = await make_user(app, db, "ada")
    bob = await make_user(app, db, "bob")
    vic = await make_user(app, db, "vic")
    sam = await make_user(app, db, "sam")
    project_id = await make_project(db, ada, "API")
    await add_member(db, project_id, bob, "member")
    await add_member(db, project_id, vic, "viewer")
    return ada, bob, vic, sam, project_id


async def test_create_project_makes_creator_admin(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    response = await client.post(
        PROJECTS, json={"key": "API", "name": "Public API"}, headers=ada.headers
    )
    assert response.status_code == 201
    body = response.json()
    assert body["role"] == "admin"
    assert body["settings"]["estimate_scale"] == "fibonacci"
    assert body["settings"]["working_days"] == ["mon", "tue", "wed", "thu", "fri"]
    assert response.headers["location"] == "/api/v1/projects/API"
    assert response.headers["etag"].startswith('"v1-')  # its version, then its body's digest
    async with db.transaction() as session:
        types = (await session.scalars(select(Event.type))).all()
    assert "project.created" in types


async def test_project_keys_are_validated_and_unique(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    for key in ("api", "A", "1API", "TOOLONGKEY1", "A-B"):
        bad = await client.post(PROJECTS, json={"key": key, "name": "x"}, headers=ada.headers)
        assert bad.status_code == 422, key
        assert bad.json()["errors"][0]["pointer"] == "/key"
    await client.post(PROJECTS, json={"key": "API", "name": "x"}, headers=ada.headers)
    again = await client.post(PROJECTS, json={"key": "API", "name": "y"}, headers=ada.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "project-key-taken"


async def test_settings_are_validated(client: AsyncClient, app: FastAPI, db: Database) -> None:
    ada = await make_user(app, db, "ada")
    for settings in (
        {"time_zone": "Mars/Olympus"},
        {"working_days": ["mon", "mon"]},
        {"working_days": ["funday"]},
        {"sprint_length_days": 0},
        {"estimate_scale": "linear"},
        {"unknown": 1},
    ):
        bad = await client.post(
            PROJECTS, json={"key": "API", "name": "x", "settings": settings}, headers=ada.headers
        )
        assert bad.status_code == 422, settings


async def test_admin_updates_settings_partially_and_key_is_immutable(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada, *_ = await _team(app, db)
    changed = await client.patch(
        f"{PROJECTS}/API",
        json={"settings": {"time_zone": "Europe/Berlin"}, "name": "Renamed"},
        headers=ada.headers,
    )
    assert changed.status_code == 200
    body = changed.json()
    assert body["settings"]["time_zone"] == "Europe/Berlin"
    assert body["settings"]["sprint_length_days"] == 14
    assert body["name"] == "Renamed"
    assert changed.headers["etag"].startswith('"v2-')
    rekey = await client.patch(f"{PROJECTS}/API", json={"key": "NEW"}, headers=ada.headers)
    assert rekey.status_code == 422


async def test_etags_give_304_and_412(client: AsyncClient, app: FastAPI, db: Database) -> None:
    ada, *_ = await _team(app, db)
    first = await client.get(f"{PROJECTS}/API", headers=ada.headers)
    etag = first.headers["etag"]
    cached = await client.get(f"{PROJECTS}/API", headers={**ada.headers, "If-None-Match": etag})
    assert cached.status_code == 304
    ok = await client.patch(
        f"{PROJECTS}/API", json={"name": "One"}, headers={**ada.headers, "If-Match": etag}
    )
    assert ok.status_code == 200
    stale = await client.patch(
        f"{PROJECTS}/API", json={"name": "Two"}, headers={**ada.headers, "If-Match": etag}
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "version-conflict"
    assert (await client.get(f"{PROJECTS}/API", headers=ada.headers)).json()["name"] == "One"


async def test_a_new_role_gives_the_project_a_new_etag(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """The project shows the caller's role, which lives in their membership: a new role changes
    what they are shown, not the project's version."""
    ada, bob, *_ = await _team(app, db)
    url = f"{PROJECTS}/API"
    first = await client.get(url, headers=bob.headers)
    etag = first.headers["etag"]
    demoted = await client.patch(
        f"{url}/members/{bob.id}", json={"role": "viewer"}, headers=ada.headers
    )
    assert demoted.status_code == 200, demoted.text
    again = await client.get(url, headers={**bob.headers, "If-None-Match": etag})
    assert again.status_code == 200
    assert again.json()["role"] == "viewer"
    assert again.json()["version"] == first.json()["version"]
    assert again.headers["etag"] != etag
    cached = await client.get(url, headers={**bob.headers, "If-None-Match": again.headers["etag"]})
    assert cached.status_code == 304
    # Ada's copy (her role is unchanged) is still current: her If-Match takes it, as it takes
    # the version alone.
    ada_etag = (await client.get(url, headers=ada.headers)).headers["etag"]
    headers = {**ada.headers, "If-Match": ada_etag}
    renamed = await client.patch(url, json={"name": "One"}, headers=headers)
    assert renamed.status_code == 200, renamed.text
    assert renamed.headers["etag"] == (await client.get(url, headers=ada.headers)).headers["etag"]
    headers = {**ada.headers, "If-Match": f'"v{renamed.json()["version"]}"'}
    assert (await client.patch(url, json={"name": "Two"}, headers=headers)).status_code == 200
    stale = await client.patch(url, json={"name": "Three"}, headers=headers)
    assert stale.status_code == 412, stale.text


async def test_stranger_gets_404_for_project_and_members(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    _, _, _, sam, _ = await _team(app, db)
    for method, path in (
        ("GET", f"{PROJECTS}/API"),
        ("PATCH", f"{PROJECTS}/API"),
        ("DELETE", f"{PROJECTS}/API"),
        ("GET", f"{PROJECTS}/API/members"),
        ("POST", f"{PROJECTS}/API/members"),
    ):
        response = await client.request(
            method,
            path,
            headers=sam.headers,
            json={"name": "x"}
            if method == "PATCH"
            else ({"username": "sam"} if method == "POST" else None),
        )
        assert response.status_code == 404, (method, path)
        assert response.json()["detail"] == "No project with key 'API'."
    missing = await client.get(f"{PROJECTS}/NOPE", headers=sam.headers)
    assert missing.json()["detail"] == "No project with key 'NOPE'."


async def test_viewer_reads_but_cannot_change(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    _, _, vic, _, _ = await _team(app, db)
    assert (await client.get(f"{PROJECTS}/API", headers=vic.headers)).json()["role"] == "viewer"
    refused = await client.patch(f"{PROJECTS}/API", json={"name": "x"}, headers=vic.headers)
    assert refused.status_code == 403


async def test_member_cannot_manage_members(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    _, bob, _, sam, _ = await _team(app, db)
    refused = await client.post(
        f"{PROJECTS}/API/members", json={"username": "sam"}, headers=bob.headers
    )
    assert refused.status_code == 403
    members = await client.get(f"{PROJECTS}/API/members", headers=bob.headers)
    assert {m["user"]["username"] for m in members.json()["data"]} == {"ada", "bob", "vic"}
    assert sam.username not in members.text


async def test_admin_adds_members_by_username_email_or_id(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada, _, _, sam, _ = await _team(app, db)
    carl = await make_user(app, db, "carl")
    dora = await make_user(app, db, "dora")
    # By username or email ada finds people who share a project with her; by id, anyone.
    other = await make_project(db, ada, "OTH")
    await add_member(db, other, sam, "viewer")
    await add_member(db, other, carl, "viewer")
    for body in (
        {"username": "SAM", "role": "viewer"},
        {"email": "carl@example.com"},
        {"user_id": dora.id, "role": "admin"},
    ):
        added = await client.post(f"{PROJECTS}/API/members", json=body, headers=ada.headers)
        assert added.status_code == 201, added.text
    again = await client.post(
        f"{PROJECTS}/API/members", json={"username": "sam"}, headers=ada.headers
    )
    assert again.status_code == 409
    both = await client.post(
        f"{PROJECTS}/API/members",
        json={"username": "sam", "email": "x@example.com"},
        headers=ada.headers,
    )
    assert both.status_code == 422
    nobody = await client.post(
        f"{PROJECTS}/API/members", json={"username": "ghost"}, headers=ada.headers
    )
    assert nobody.status_code == 404
    assert (await client.get(f"{PROJECTS}/API", headers=sam.headers)).status_code == 200


async def test_project_keeps_at_least_one_admin(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada, bob, *_ = await _team(app, db)
    demote = await client.patch(
        f"{PROJECTS}/API/members/{ada.id}", json={"role": "member"}, headers=ada.headers
    )
    assert demote.status_code == 409
    assert demote.json()["code"] == "last-admin"
    remove = await client.delete(f"{PROJECTS}/API/members/{ada.id}", headers=ada.headers)
    assert remove.status_code == 409
    promote = await client.patch(
        f"{PROJECTS}/API/members/{bob.id}", json={"role": "admin"}, headers=ada.headers
    )
    assert promote.status_code == 200
    assert promote.json()["role"] == "admin"
    step_down = await client.patch(
        f"{PROJECTS}/API/members/{ada.id}", json={"role": "viewer"}, headers=ada.headers
    )
    assert step_down.status_code == 200


async def test_removed_member_loses_access(client: AsyncClient, app: FastAPI, db: Database) -> None:
    ada, bob, *_ = await _team(app, db)
    removed = await client.delete(f"{PROJECTS}/API/members/{bob.id}", headers=ada.headers)
    assert removed.status_code == 204
    assert (await client.get(f"{PROJECTS}/API", headers=bob.headers)).status_code == 404


async def test_role_on_self_cannot_be_raised(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    _, bob, *_ = await _team(app, db)
    response = await client.patch(
        f"{PROJECTS}/API/members/{bob.id}", json={"role": "admin"}, headers=bob.headers
    )
    assert response.status_code == 403


async def test_list_shows_only_my_projects_but_admins_see_all(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    _, bob, _, sam, _ = await _team(app, db)
    root = await make_user(app, db, "root", admin=True)
    await make_project(db, sam, "SAM")
    mine = await client.get(PROJECTS, headers=bob.headers)
    assert [p["key"] for p in mine.json()["data"]] == ["API"]
    everything = await client.get(PROJECTS, headers=root.headers)
    assert [p["key"] for p in everything.json()["data"]] == ["API", "SAM"]
    assert everything.json()["data"][0]["role"] is None


async def test_projects_list_pages_by_key(client: AsyncClient, app: FastAPI, db: Database) -> None:
    ada = await make_user(app, db, "ada")
    for i in range(5):
        await make_project(db, ada, f"P{i}")
    first = await client.get(PROJECTS, params={"limit": 2}, headers=ada.headers)
    assert [p["key"] for p in first.json()["data"]] == ["P0", "P1"]
    second = await client.get(
        PROJECTS, params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=ada.headers
    )
    assert [p["key"] for p in second.json()["data"]] == ["P2", "P3"]
    assert (await client.get(PROJECTS, params={"limit": 0}, headers=ada.headers)).status_code == 422
    bad = await client.get(PROJECTS, params={"cursor": "garbage"}, headers=ada.headers)
    assert bad.status_code == 400


async def test_delete_is_soft_and_instance_admin_restores(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada, bob, *_ = await _team(app, db)
    root = await make_user(app, db, "root", admin=True)
    member_delete = await client.delete(f"{PROJECTS}/API", headers=bob.headers)
    assert member_delete.status_code == 403
    deleted = await client.delete(f"{PROJECTS}/API", headers=ada.headers)
    assert deleted.status_code == 204
    assert (await client.get(f"{PROJECTS}/API", headers=ada.headers)).status_code == 404
    assert (await client.post(f"{PROJECTS}/API/restore", headers=ada.headers)).status_code == 404
    restored = await client.post(f"{PROJECTS}/API/restore", headers=root.headers)
    assert restored.status_code == 200
    assert restored.json()["deleted_at"] is None
    assert (await client.get(f"{PROJECTS}/API", headers=ada.headers)).status_code == 200
    taken = await client.post(PROJECTS, json={"key": "API", "name": "x"}, headers=bob.headers)
    assert taken.status_code == 409
