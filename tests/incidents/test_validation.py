"""What an incident refuses, each as a 422 problem+json naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from takt.core.db import Database
from takt.core.time import utcnow
from tests.incidents.kit import INCIDENTS, deploy, environments, open_incident
from tests.support import Account, add_member, make_project, team


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _pointers(response: Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["pointer"] for e in response.json()["errors"]]


async def _post(client: AsyncClient, who: Account, **fields: Any) -> Response:
    body = {"title": "Checkout returns 500", "severity": "sev2", **fields}
    return await client.post(INCIDENTS.format(key="API"), json=body, headers=who.headers)


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"severity": "sev5", "environment": "production"}, "/severity"),
        ({"severity": "critical", "environment": "production"}, "/severity"),
        ({"title": "", "environment": "production"}, "/title"),
        ({"title": "x" * 256, "environment": "production"}, "/title"),
        ({"description": "x" * 65537, "environment": "production"}, "/description"),
        ({"environment": "x" * 65}, "/environment"),
        ({"environment": "production", "opened_at": "2026-11-27T10:00:00"}, "/opened_at"),
        ({"environment": "production", "opened_at": "9999-01-01T00:00:00Z"}, "/opened_at"),
        ({"environment": "production", "state": "closed"}, "/state"),
        ({"environment": "production", "priority": "high"}, "/priority"),
    ],
)
async def test_schema_refusals(
    fields: dict[str, Any], pointer: str, client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await environments(db, people["ada"])
    assert pointer in _pointers(await _post(client, people["bob"], **fields))


async def test_unknown_environment(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await team(app, db)
    await environments(db, people["ada"])
    response = await _post(client, people["bob"], environment="moon")
    assert _pointers(response) == ["/environment"]
    assert "no environment 'moon' in this project" in response.json()["errors"][0]["message"]


async def test_environment_of_another_project(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await environments(db, people["ada"])
    await make_project(db, people["ada"], "OPS")
    theirs = await environments(db, people["ada"], "OPS")
    response = await _post(client, people["bob"], environment=theirs["production"])
    assert _pointers(response) == ["/environment"]


async def test_environment_or_cause_is_needed(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    assert _pointers(await _post(client, people["bob"])) == ["/environment"]


async def test_deployment_of_another_project(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await environments(db, people["ada"])
    ops_id = await make_project(db, people["ada"], "OPS")
    await add_member(db, ops_id, people["bob"], "member")
    foreign = await deploy(db, people["ada"], "OPS")
    for field in ("caused_by_deployment_id", "fixed_by_deployment_id"):
        response = await _post(client, people["bob"], environment="production", **{field: foreign})
        assert _pointers(response) == [f"/{field}"]
        body = response.json()
        assert body["code"] == "invalid-deployment-link"
        assert body["errors"][0]["message"] == "not a deployment of this project"
    unknown = await _post(client, people["bob"], caused_by_deployment_id="nope")
    assert _pointers(unknown) == ["/caused_by_deployment_id"]


async def test_deployments_to_another_environment_are_refused(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    staging = await deploy(db, people["ada"], environment="staging")
    for field in ("caused_by_deployment_id", "fixed_by_deployment_id"):
        response = await _post(client, people["bob"], environment="production", **{field: staging})
        assert _pointers(response) == [f"/{field}"]
        assert response.json()["code"] == "invalid-deployment-link"


async def test_one_deployment_cannot_cause_and_fix(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    one = await deploy(db, people["ada"])
    response = await _post(
        client, people["bob"], caused_by_deployment_id=one, fixed_by_deployment_id=one
    )
    assert _pointers(response) == ["/fixed_by_deployment_id"]


async def test_times_in_the_future_or_out_of_order(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await environments(db, people["ada"])
    bob, now = people["bob"], utcnow()
    future = _iso(now + timedelta(hours=1))
    response = await _post(client, bob, environment="production", opened_at=future)
    assert _pointers(response) == ["/opened_at"]
    assert response.json()["errors"][0]["message"].startswith("is in the future: it is ")
    assert _pointers(await _post(client, bob, environment="production", resolved_at=future)) == [
        "/resolved_at"
    ]
    backwards = await _post(
        client,
        bob,
        environment="production",
        opened_at=_iso(now - timedelta(hours=1)),
        resolved_at=_iso(now - timedelta(hours=2)),
    )
    assert _pointers(backwards) == ["/resolved_at"]
    contradiction = await _post(
        client, bob, environment="production", state="open", resolved_at=_iso(now)
    )
    assert _pointers(contradiction) == ["/resolved_at"]
    # A clock a few seconds ahead of the server's is taken as now.
    skewed = await _post(
        client, bob, environment="production", opened_at=_iso(now + timedelta(seconds=20))
    )
    assert skewed.status_code == 201, skewed.text
    assert datetime.fromisoformat(skewed.json()["opened_at"]) <= utcnow()


async def test_patch_refusals(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await team(app, db)
    bob = people["bob"]
    bad = await deploy(db, people["ada"])
    made = await open_incident(client, bob, caused_by_deployment_id=bad)
    url = f"/api/v1/incidents/{made['id']}"

    async def pointers(body: dict[str, Any]) -> list[str]:
        return _pointers(await client.patch(url, json=body, headers=bob.headers))

    # The cause was deployed to production: the incident can't move to staging alone.
    assert await pointers({"environment": "staging"}) == ["/environment"]
    assert await pointers({"severity": None}) == ["/severity"]
    assert await pointers({"state": None}) == ["/state"]
    assert await pointers({"opened_at": _iso(utcnow() + timedelta(days=1))}) == ["/opened_at"]
    assert await pointers({"fixed_by_deployment_id": bad}) == ["/fixed_by_deployment_id"]
    resolved = await client.patch(url, json={"state": "resolved"}, headers=bob.headers)
    assert resolved.status_code == 200
    # Opened after it was resolved: the new start is what's wrong.
    later = _iso(utcnow())
    assert await pointers({"opened_at": later}) == ["/opened_at"]
    assert await pointers({"state": "open", "resolved_at": later}) == ["/resolved_at"]
    moved = await client.patch(
        url,
        json={"environment": "staging", "caused_by_deployment_id": None},
        headers=bob.headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["environment"] == "staging"


async def test_list_with_an_unknown_environment_is_a_422(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await environments(db, people["ada"])
    response = await client.get(
        INCIDENTS.format(key="API"), params={"environment": "moon"}, headers=people["bob"].headers
    )
    assert _pointers(response) == ["/query/environment"]
    bad = await client.get(
        INCIDENTS.format(key="API"), params={"severity": "sev9"}, headers=people["bob"].headers
    )
    assert bad.status_code == 422
