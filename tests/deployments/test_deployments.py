"""Reporting deployments as a CI does: creation, idempotency on (pipeline, environment,
sequence), the state machine, reading and filtering, and the events written."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.deployments.kit import DEPLOYMENTS, at, deployed, report, sha, z
from tests.support import Account, team

DEPLOYMENT_TYPES = (
    "deployment.created",
    "deployment.started",
    "deployment.succeeded",
    "deployment.failed",
    "deployment.updated",
)


async def events_of(client: AsyncClient, who: Account, *types: str) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/v1/projects/API/events", params={"types": ",".join(types)}, headers=who.headers
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def test_a_ci_report_creates_a_deployment_and_a_repeat_answers_it_again(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    body = {
        "environment": "Production",
        "state": "in_progress",
        "ref": "main",
        "sha": sha(7).upper(),
        "version": "v1.0.0",
        "pipeline_id": "12345",
        "sequence": 2,
        "triggered_by": "github-actions",
        "url": "https://ci.example.com/run/12345",
        "started_at": z(at(0)),
    }
    first = await client.post(DEPLOYMENTS.format(key="API"), json=body, headers=bob.headers)
    assert first.status_code == 201, first.text
    created = first.json()
    assert first.headers["Location"] == f"/api/v1/deployments/{created['id']}"
    assert created["environment"]["name"] == "production"
    assert created["state"] == "in_progress"
    assert created["sha"] == sha(7)
    assert created["version"] == "v1.0.0"
    assert created["reported_by"]["username"] == "bob"
    assert created["failed"] is False
    assert created["started_at"] == z(at(0))
    # The same call again: the same deployment, 200.
    again = await client.post(DEPLOYMENTS.format(key="API"), json=body, headers=bob.headers)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == created["id"]
    assert again.json()["revision"] == created["revision"]
    # The end of the job: it moves on.
    done = await client.post(
        DEPLOYMENTS.format(key="API"),
        json={**body, "state": "success", "finished_at": z(at(0.25))},
        headers=bob.headers,
    )
    assert done.status_code == 200
    assert done.json()["state"] == "success"
    assert done.json()["finished_at"] == z(at(0.25))
    assert done.json()["succeeded_at"] == z(at(0.25))
    # A late "in_progress" changes nothing.
    late = await client.post(DEPLOYMENTS.format(key="API"), json=body, headers=bob.headers)
    assert late.status_code == 200
    assert late.json()["state"] == "success"
    # Another sequence, or another environment, is another deployment.
    other = await client.post(
        DEPLOYMENTS.format(key="API"), json={**body, "sequence": 3}, headers=bob.headers
    )
    staging = await client.post(
        DEPLOYMENTS.format(key="API"), json={**body, "environment": "staging"}, headers=bob.headers
    )
    assert other.status_code == staging.status_code == 201
    assert len({created["id"], other.json()["id"], staging.json()["id"]}) == 3
    types = [e["type"] for e in await events_of(client, bob, *DEPLOYMENT_TYPES)]
    assert sorted(types) == sorted(
        ["deployment.created"] * 3 + ["deployment.started"] * 3 + ["deployment.succeeded"]
    )


async def test_without_a_pipeline_every_report_is_a_new_deployment(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    body = {"environment": "staging", "state": "success", "version": "v2"}
    answers = [
        await client.post(DEPLOYMENTS.format(key="API"), json=body, headers=people["bob"].headers)
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["id"] != answers[1].json()["id"]


async def test_state_moves_forward_only(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await team(app, db)
    bob = people["bob"]
    pending = await deployed(client, bob, state="pending")
    path = f"/api/v1/deployments/{pending['id']}"
    started = await client.patch(path, json={"state": "in_progress"}, headers=bob.headers)
    assert started.status_code == 200, started.text
    back = await client.patch(path, json={"state": "pending"}, headers=bob.headers)
    assert back.status_code == 409
    assert back.json()["code"] == "invalid-state-change"
    early = await client.patch(path, json={"state": "rolled_back"}, headers=bob.headers)
    assert early.status_code == 409
    failed = await client.patch(path, json={"state": "failure"}, headers=bob.headers)
    assert failed.status_code == 200
    assert failed.json()["finished_at"] is not None
    assert failed.json()["failed"] is False  # it never went live: no remediation needed
    final = await client.patch(path, json={"state": "success"}, headers=bob.headers)
    assert final.status_code == 409
    # A report can't revive it either, and says nothing new.
    assert (
        await report(
            client,
            bob,
            state="success",
            pipeline_id=pending["pipeline_id"],
            sequence=pending["sequence"],
        )
    ).json()["state"] == "failure"
    (event,) = await events_of(client, bob, "deployment.failed")
    assert event["data"]["reason"] == "failure"
    assert event["changes"] == {"state": ["in_progress", "failure"]}
    # A success can be rolled back.
    shipped = await deployed(client, bob)
    rolled = await client.patch(
        f"/api/v1/deployments/{shipped['id']}", json={"state": "rolled_back"}, headers=bob.headers
    )
    assert rolled.status_code == 200
    assert rolled.json()["state"] == "rolled_back"
    assert rolled.json()["failed"] is True
    assert rolled.json()["succeeded_at"] == shipped["succeeded_at"]
    reasons = [e["data"]["reason"] for e in await events_of(client, bob, "deployment.failed")]
    assert sorted(reasons) == ["failure", "rolled_back"]


async def test_a_new_deployment_cannot_start_rolled_back(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    response = await report(client, people["bob"], state="rolled_back")
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/state"


async def test_etag_and_if_match(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await team(app, db)
    bob = people["bob"]
    created = await deployed(client, bob)
    path = f"/api/v1/deployments/{created['id']}"
    read = await client.get(path, headers=people["vic"].headers)
    assert read.status_code == 200
    etag = read.headers["ETag"]
    unchanged = await client.get(path, headers={**people["vic"].headers, "If-None-Match": etag})
    assert unchanged.status_code == 304
    changed = await client.patch(
        path, json={"version": "v9"}, headers={**bob.headers, "If-Match": etag}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == "v9"
    stale = await client.patch(
        path, json={"description": "x"}, headers={**bob.headers, "If-Match": etag}
    )
    assert stale.status_code == 412
    (event,) = await events_of(client, bob, "deployment.updated")
    assert event["data"]["version"] == "v9"


async def test_a_renamed_environment_gives_the_deployment_a_new_etag(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """The deployment shows its environment's name, which lives in another row: a rename
    changes what it shows, not its version, so its tag changes and a tag read before is
    stale for a write; the current tag and "v<version>" are not."""
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    created = await deployed(client, bob)
    path = f"/api/v1/deployments/{created['id']}"
    before = await client.get(path, headers=bob.headers)
    etag = before.headers["ETag"]
    environment = created["environment"]
    renamed = await client.patch(
        f"/api/v1/environments/{environment['id']}",
        json={"name": f"{environment['name']}-eu"},
        headers=ada.headers,
    )
    assert renamed.status_code == 200, renamed.text
    after = await client.get(path, headers={**bob.headers, "If-None-Match": etag})
    assert after.status_code == 200
    assert after.json()["environment"]["name"] == f"{environment['name']}-eu"
    assert after.headers["ETag"].split("-")[0] == etag.split("-")[0]  # the row's version stays
    assert after.headers["ETag"] != etag
    again = await client.get(path, headers={**bob.headers, "If-None-Match": after.headers["ETag"]})
    assert again.status_code == 304
    stale = await client.patch(
        path, json={"description": "x"}, headers={**bob.headers, "If-Match": etag}
    )
    assert stale.status_code == 412
    current = await client.patch(
        path, json={"description": "y"}, headers={**bob.headers, "If-Match": after.headers["ETag"]}
    )
    assert current.status_code == 200, current.text
    by_version = await client.patch(
        path,
        json={"description": "z"},
        # The row's version, which the tag begins with (the body's `version` is the release's).
        headers={**bob.headers, "If-Match": current.headers["ETag"].split("-")[0] + '"'},
    )
    assert by_version.status_code == 200, by_version.text
    assert (
        by_version.headers["ETag"] == (await client.get(path, headers=bob.headers)).headers["ETag"]
    )


async def test_lists_filter_and_page_newest_first(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    made = []
    for hour, env, state in (
        (0, "production", "success"),
        (1, "staging", "success"),
        (2, "production", "failure"),
        (3, "production", "success"),
    ):
        made.append(
            await deployed(
                client,
                bob,
                environment=env,
                state=state,
                sha=sha(hour + 1),
                started_at=z(at(hour)),
                finished_at=z(at(hour + 0.5)),
            )
        )

    async def ids(**params: Any) -> list[str]:
        found, cursor = [], None
        while True:
            page = await client.get(
                DEPLOYMENTS.format(key="API"),
                params={**params, "limit": 2, **({"cursor": cursor} if cursor else {})},
                headers=people["vic"].headers,
            )
            assert page.status_code == 200, page.text
            found += [d["id"] for d in page.json()["data"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                return found

    assert await ids() == [d["id"] for d in reversed(made)]
    assert await ids(environment="PRODUCTION") == [made[3]["id"], made[2]["id"], made[0]["id"]]
    assert await ids(state="failure") == [made[2]["id"]]
    assert await ids(sha=sha(2)[:10]) == [made[1]["id"]]
    assert await ids(**{"from": z(at(1)), "to": z(at(3))}) == [made[2]["id"], made[1]["id"]]
    unknown = await client.get(
        DEPLOYMENTS.format(key="API"), params={"environment": "moon"}, headers=bob.headers
    )
    assert unknown.status_code == 422


async def test_a_gitlab_job_id_is_a_sequence_number(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    first = await report(
        client, people["bob"], state="in_progress", pipeline_id="1234567", sequence=8_123_456_789
    )
    again = await report(
        client, people["bob"], state="success", pipeline_id="1234567", sequence=8_123_456_789
    )
    assert (first.status_code, again.status_code) == (201, 200), first.text
    assert again.json()["sequence"] == 8_123_456_789
    assert again.json()["state"] == "success"
