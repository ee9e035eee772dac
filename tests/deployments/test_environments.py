"""A project's environments: the defaults every project starts with, names unique ignoring
case, a dense promotion order, and deletion refused while deployments point at one."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.deployments.kit import ENVIRONMENTS, deployed
from tests.support import Account, team


async def path_of(client: AsyncClient, who: Account) -> list[tuple[str, str, int]]:
    response = await client.get(ENVIRONMENTS.format(key="API"), headers=who.headers)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return [(e["name"], e["type"], e["position"]) for e in response.json()["data"]]


async def create(client: AsyncClient, who: Account, **body: Any) -> Any:
    return await client.post(ENVIRONMENTS.format(key="API"), json=body, headers=who.headers)


async def test_a_new_project_has_development_staging_and_production(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    assert await path_of(client, people["vic"]) == [
        ("development", "development", 0),
        ("staging", "staging", 1),
        ("production", "production", 2),
    ]
    stranger = await client.get(ENVIRONMENTS.format(key="API"), headers=people["sam"].headers)
    assert stranger.status_code == 404


async def test_admins_add_move_rename_and_delete_environments(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    qa = await create(client, ada, name="QA", type="testing", position=1)
    assert qa.status_code == 201, qa.text
    assert qa.json()["position"] == 1
    last = await create(client, ada, name="dr-site", type="production")
    assert last.json()["position"] == 4
    assert await path_of(client, ada) == [
        ("development", "development", 0),
        ("QA", "testing", 1),
        ("staging", "staging", 2),
        ("production", "production", 3),
        ("dr-site", "production", 4),
    ]
    taken = await create(client, ada, name="qa", type="testing")
    assert taken.status_code == 409
    assert taken.json()["code"] == "environment-name-taken"
    env_path = f"/api/v1/environments/{qa.json()['id']}"
    moved = await client.patch(
        env_path,
        json={"position": 3, "name": "Quality"},
        headers={**ada.headers, "If-Match": qa.headers["ETag"]},
    )
    assert moved.status_code == 200, moved.text
    assert await path_of(client, ada) == [
        ("development", "development", 0),
        ("staging", "staging", 1),
        ("production", "production", 2),
        ("Quality", "testing", 3),
        ("dr-site", "production", 4),
    ]
    stale = await client.patch(
        env_path, json={"type": "staging"}, headers={**ada.headers, "If-Match": qa.headers["ETag"]}
    )
    assert stale.status_code == 412
    clash = await client.patch(env_path, json={"name": "STAGING"}, headers=ada.headers)
    assert clash.status_code == 409
    gone = await client.delete(env_path, headers=ada.headers)
    assert gone.status_code == 204
    assert [p for _, _, p in await path_of(client, ada)] == [0, 1, 2, 3]
    events = (
        await client.get(
            "/api/v1/projects/API/events",
            params={"types": "environment.created,environment.updated,environment.deleted"},
            headers=ada.headers,
        )
    ).json()["data"]
    assert [e["type"] for e in events] == [
        "environment.created",
        "environment.created",
        "environment.updated",
        "environment.deleted",
    ]
    assert events[2]["changes"] == {"name": ["QA", "Quality"], "position": [1, 3]}


async def test_members_read_but_only_admins_manage(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    refused = await create(client, people["bob"], name="qa", type="testing")
    assert refused.status_code == 403
    envs = (await client.get(ENVIRONMENTS.format(key="API"), headers=people["bob"].headers)).json()
    first = envs["data"][0]["id"]
    patch = await client.patch(
        f"/api/v1/environments/{first}", json={"name": "dev"}, headers=people["bob"].headers
    )
    assert patch.status_code == 403
    hidden = await client.delete(f"/api/v1/environments/{first}", headers=people["sam"].headers)
    assert hidden.status_code == 404


async def test_an_environment_with_deployments_cannot_be_deleted(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    shipped = await deployed(client, people["bob"], environment="staging")
    response = await client.delete(
        f"/api/v1/environments/{shipped['environment']['id']}", headers=people["ada"].headers
    )
    assert response.status_code == 409
    assert response.json()["code"] == "environment-in-use"


async def test_a_project_has_at_most_twenty_environments(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    for n in range(17):
        assert (
            await create(client, people["ada"], name=f"e{n}", type="testing")
        ).status_code == 201
    full = await create(client, people["ada"], name="one-more", type="testing")
    assert full.status_code == 409
    assert full.json()["code"] == "too-many-environments"


async def test_bad_environment_input_is_a_422(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    for body in (
        {"name": "  ", "type": "testing"},
        {"name": "x" * 65, "type": "testing"},
        {"name": "qa", "type": "moon"},
        {"name": "qa", "type": "testing", "position": 20},
        {"name": "qa", "type": "testing", "extra": 1},
        {"name": "q\u0001a", "type": "testing"},
    ):
        response = await create(client, people["ada"], **body)
        assert response.status_code == 422, body
        assert response.headers["content-type"].startswith("application/problem+json")
