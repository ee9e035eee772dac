"""`GET /projects/{key}/readiness`: every check passing and failing with its reason, by commit
and by items, failing checks first, and the answer's bounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.readiness.kit import (
    at,
    deploy,
    link_repository,
    open_incident,
    pull_request,
    push,
    set_status,
    sha,
)
from tests.support import Account, QueryCounter, new_item, team

C1 = sha("c1")  # API-1's commit (names it), head of PR 1 (approved, merged)
C2 = sha("c2")  # API-2's commit (names nothing), head of PR 2 (open)
LOOSE = sha("loose")  # a commit naming no item, on main


@dataclass
class World:
    ada: Account
    bob: Account
    vic: Account
    sam: Account
    repository_id: str
    pr1: str
    pr2: str


@pytest.fixture
async def world(app: FastAPI, db: Database, client: AsyncClient) -> World:
    people = await team(app, db)
    ada = people["ada"]
    repository_id = await link_repository(db, app, ada)
    await new_item(client, ada, title="Login")  # API-1
    await new_item(client, ada, title="Logout")  # API-2
    await set_status(client, ada, "API-1", "Done")
    await set_status(client, ada, "API-2", "In Progress")
    await push(db, repository_id, "feature/api-1-login", [(C1, "API-1 login form", at(0))])
    await push(db, repository_id, "feature/logout", [(C2, "Logout button", at(1))])
    await push(db, repository_id, "main", [(LOOSE, "Bump dependencies", at(1))])
    pr1 = await pull_request(
        db,
        repository_id,
        1,
        title="API-1 Login",
        branch="feature/api-1-login",
        head_sha=C1,
        opened=at(2),
        review=("approved", at(3)),
        merged=at(4),
    )
    pr2 = await pull_request(
        db,
        repository_id,
        2,
        title="API-2 Logout",
        branch="feature/logout",
        head_sha=C2,
        opened=at(5),
    )
    return World(ada, people["bob"], people["vic"], people["sam"], repository_id, pr1, pr2)


async def readiness(
    client: AsyncClient, who: Account, expect: int = 200, **params: str
) -> dict[str, Any]:
    response = await client.get(
        "/api/v1/projects/API/readiness",
        params={"environment": "production", **params},
        headers=who.headers,
    )
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


def by_name(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["check"]: check for check in answer["checks"]}


async def test_a_commit_that_went_through_staging_is_ready(
    world: World, client: AsyncClient
) -> None:
    await deploy(client, world.ada, "staging", C1, when=at(6), commits=[C1])
    answer = await readiness(client, world.vic, ref=C1.upper())
    assert answer["ready"] is True
    assert answer["ref"] == C1
    assert answer["environment"] == "production"
    assert answer["items"] == ["API-1"]
    checks = by_name(answer)
    assert all(c["enabled"] and c["passed"] for c in checks.values())
    assert checks["items_done"]["reason"] == "API-1 is done."
    assert checks["pull_requests_approved"]["reason"] == (
        "acme/api#1 is merged with an approving review."
    )
    assert checks["promoted_through_previous"]["details"]["environment"] == "staging"
    assert checks["promoted_through_previous"]["details"]["deployment"]["succeeded_at"] == (
        "2026-11-02T15:00:00Z"
    )
    assert (
        "deployed successfully to staging on 2026-11-02 15:00 UTC"
        in (checks["promoted_through_previous"]["reason"])
    )
    assert (
        checks["no_open_incidents"]["reason"] == "No open incident of sev2 or worse in production."
    )


async def test_the_items_of_a_commit_come_from_its_message_its_pull_requests_and_deployments(
    world: World, client: AsyncClient
) -> None:
    # C2 names nothing, but it is the head of PR 2, which names API-2.
    assert (await readiness(client, world.ada, ref=C2))["items"] == ["API-2"]
    # A deployment of LOOSE that ships C1 (listed by the CI) brings API-1 in.
    await deploy(client, world.ada, "staging", LOOSE, when=at(7), commits=[C1, LOOSE])
    assert (await readiness(client, world.ada, ref=LOOSE))["items"] == ["API-1"]


async def test_a_commit_pushed_to_a_pull_requests_branch_brings_its_items(
    world: World, client: AsyncClient, db: Database
) -> None:
    later = sha("later")
    await push(db, world.repository_id, "feature/logout", [(later, "Fix the test", at(6))])
    assert (await readiness(client, world.ada, ref=later))["items"] == ["API-2"]


async def test_every_check_fails_with_its_reason_failing_ones_first(
    world: World, client: AsyncClient
) -> None:
    await deploy(client, world.ada, "staging", C1, when=at(6), commits=[C1])
    blocker = await client.post(
        "/api/v1/projects/API/blockers",
        json={
            "item_key": "API-2",
            "reason": "Waiting for the identity provider's keys",
            "waiting_on": {"kind": "external", "name": "IdP"},
        },
        headers=world.ada.headers,
    )
    assert blocker.status_code == 201, blocker.text
    incident = await open_incident(client, world.ada, "production", "sev1")
    await open_incident(client, world.ada, "production", "sev3")  # below the threshold
    answer = await readiness(client, world.bob, items="API-1,API-2")
    assert answer["ready"] is False
    assert answer["ref"] is None
    assert answer["items"] == ["API-1", "API-2"]
    checks = by_name(answer)
    assert [c["check"] for c in answer["checks"]] == [
        "items_done",
        "pull_requests_approved",
        "no_open_blockers",
        "promoted_through_previous",
        "no_open_incidents",
    ]
    assert not any(c["passed"] for c in answer["checks"])

    items_done = checks["items_done"]
    assert items_done["reason"] == "1 of 2 items is not done: API-2 (In Progress)."
    assert items_done["details"]["items"] == [
        {"key": "API-2", "title": "Logout", "status": "In Progress", "category": "in_progress"}
    ]
    prs = checks["pull_requests_approved"]
    assert prs["reason"] == (
        "1 of 2 pull requests is not merged with an approving review: acme/api#2 (open)."
    )
    assert [(p["number"], p["state"], p["items"]) for p in prs["details"]["pull_requests"]] == [
        (2, "open", ["API-2"])
    ]
    blockers = checks["no_open_blockers"]
    assert blockers["reason"] == "1 open blocker: API-2 (Waiting for the identity provider's keys)."
    assert blockers["details"]["blockers"][0]["item_key"] == "API-2"
    promoted = checks["promoted_through_previous"]
    assert promoted["reason"] == (
        "1 of 2 items was never shipped to staging (which must come before production) by a "
        "successful deployment: API-2."
    )
    assert [i["key"] for i in promoted["details"]["items"]] == ["API-2"]
    incidents = checks["no_open_incidents"]
    assert incidents["reason"] == (
        f"1 open incident of sev2 or worse in production: INC-{incident['number']} Errors (sev1) "
        "(sev1)."
    )
    assert [i["severity"] for i in incidents["details"]["incidents"]] == ["sev1"]


async def test_failing_checks_come_before_passing_ones(world: World, client: AsyncClient) -> None:
    answer = await readiness(client, world.ada, items="API-1")
    assert [(c["check"], c["passed"]) for c in answer["checks"]] == [
        ("promoted_through_previous", False),
        ("items_done", True),
        ("pull_requests_approved", True),
        ("no_open_blockers", True),
        ("no_open_incidents", True),
    ]


async def test_a_commit_without_items_passes_the_item_checks_and_says_why(
    world: World, client: AsyncClient
) -> None:
    answer = await readiness(client, world.ada, ref=LOOSE)
    checks = by_name(answer)
    assert answer["items"] == []
    assert checks["items_done"]["passed"] is True
    assert checks["items_done"]["reason"].startswith(
        f"No work item is linked to commit {LOOSE[:12]}"
    )
    assert checks["pull_requests_approved"]["passed"] is True
    assert checks["no_open_blockers"]["reason"] == "No item, so no blocker to check."
    # Never deployed to staging: not ready.
    assert checks["promoted_through_previous"]["passed"] is False
    assert checks["promoted_through_previous"]["reason"] == (
        f"Commit {LOOSE[:12]} has no successful deployment to staging, which must come before "
        "production."
    )
    assert answer["ready"] is False


async def test_a_failed_deployment_to_staging_does_not_count(
    world: World, client: AsyncClient
) -> None:
    await deploy(client, world.ada, "staging", C1, when=at(6), commits=[C1], state="failure")
    checks = by_name(await readiness(client, world.ada, ref=C1))
    assert checks["promoted_through_previous"]["passed"] is False
    assert checks["promoted_through_previous"]["details"]["deployment"] is None


async def test_a_pull_request_merged_without_approval_fails(
    world: World, client: AsyncClient, db: Database
) -> None:
    await new_item(client, world.ada, title="Rush")  # API-3
    await pull_request(
        db,
        world.repository_id,
        3,
        title="API-3 rush",
        branch="feature/api-3",
        head_sha=sha("c3"),
        opened=at(1),
        merged=at(2),
    )
    await pull_request(
        db,
        world.repository_id,
        4,
        title="API-3 abandoned attempt",
        branch="feature/api-3-old",
        head_sha=sha("c4"),
        opened=at(1),
        closed=at(2),
    )
    checks = by_name(await readiness(client, world.ada, items="API-3"))
    assert checks["pull_requests_approved"]["passed"] is False
    assert checks["pull_requests_approved"]["reason"] == (
        "1 of 1 pull request is not merged with an approving review: acme/api#3 (merged without "
        "an approving review)."
    )
    # The closed one shipped nothing: left out, not counted.
    assert [p["number"] for p in checks["pull_requests_approved"]["details"]["pull_requests"]] == [
        3
    ]


async def test_the_first_environment_needs_nothing_before_it(
    world: World, client: AsyncClient
) -> None:
    answer = await readiness(client, world.ada, items="API-1", environment="Development")
    assert answer["environment"] == "development"
    promoted = by_name(answer)["promoted_through_previous"]
    assert promoted["passed"] is True
    assert promoted["reason"] == (
        "development is the first environment on the promotion path: none comes before it."
    )


async def test_incidents_elsewhere_do_not_block(world: World, client: AsyncClient) -> None:
    await open_incident(client, world.ada, "staging", "sev1")
    checks = by_name(await readiness(client, world.ada, items="API-1"))
    assert checks["no_open_incidents"]["passed"] is True


async def test_a_resolved_incident_does_not_block(world: World, client: AsyncClient) -> None:
    incident = await open_incident(client, world.ada, "production", "sev2")
    resolved = await client.patch(
        f"/api/v1/incidents/{incident['id']}",
        json={"state": "resolved"},
        headers=world.ada.headers,
    )
    assert resolved.status_code == 200, resolved.text
    checks = by_name(await readiness(client, world.ada, items="API-1"))
    assert checks["no_open_incidents"]["passed"] is True


@pytest.mark.parametrize(
    ("params", "pointer"),
    [
        ({"ref": C1, "items": "API-1"}, "/query/ref"),
        ({}, "/query/ref"),
        ({"ref": C1, "environment": "moon"}, "/query/environment"),
        ({"items": "API-1,API-99"}, "/query/items"),
        ({"items": "API-1,,API-2"}, "/query/items"),
        ({"ref": "xyz"}, "/query/ref"),
    ],
)
async def test_bad_questions_are_422(
    world: World, client: AsyncClient, params: dict[str, str], pointer: str
) -> None:
    response = await client.get(
        "/api/v1/projects/API/readiness",
        params={"environment": "production", **params},
        headers=world.ada.headers,
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["pointer"] == pointer


async def test_at_most_200_items_at_once(world: World, client: AsyncClient) -> None:
    keys = ",".join(f"API-{n}" for n in range(1, 202))
    response = await client.get(
        "/api/v1/projects/API/readiness",
        params={"environment": "production", "items": keys},
        headers=world.ada.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"pointer": "/query/items", "message": "at most 200 items at once"}
    ]


async def test_keys_are_taken_in_any_case_and_once(world: World, client: AsyncClient) -> None:
    answer = await readiness(client, world.ada, items="api-2,API-1,API-2")
    assert answer["items"] == ["API-1", "API-2"]


async def test_strangers_get_404(world: World, client: AsyncClient) -> None:
    await readiness(client, world.sam, expect=404, items="API-1")


async def test_the_answer_is_a_fixed_number_of_statements(
    world: World, client: AsyncClient, db: Database
) -> None:
    await deploy(client, world.ada, "staging", C1, when=at(6), commits=[C1])
    await readiness(client, world.ada, items="API-1")  # warm the caches
    with QueryCounter(db) as one:
        await readiness(client, world.ada, items="API-1")
    for n in range(3, 13):
        await new_item(client, world.ada, title=f"Item {n}")
    with QueryCounter(db) as many:
        await readiness(client, world.ada, items=",".join(f"API-{n}" for n in range(1, 13)))
    with QueryCounter(db) as by_ref:
        await readiness(client, world.ada, ref=C1)
    assert one.count == many.count == by_ref.count
    # The project, its environments with the policy, the items, the pull requests, then one
    # for the blockers, the promotion and the incidents together.
    assert many.count == 5
