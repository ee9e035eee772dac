"""`GET/PUT /projects/{key}/readiness/policy`: defaults, validation, ETag/If-Match, the event,
and how the policy changes the checklist."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.core.db import Database
from takt.core.events import Event
from tests.readiness.kit import at, deploy, open_incident, sha
from tests.support import Account, new_item, team

POLICY = "/api/v1/projects/API/readiness/policy"
DEFAULTS = {
    "items_done": {"enabled": True},
    "pull_requests_approved": {"enabled": True},
    "no_open_blockers": {"enabled": True},
    "promoted_through_previous": {"enabled": True, "required_before": {}},
    "no_open_incidents": {"enabled": True, "min_severity": "sev2"},
}


@pytest.fixture
async def people(app: FastAPI, db: Database) -> dict[str, Account]:
    return await team(app, db)


async def put(
    client: AsyncClient,
    who: Account,
    checks: dict[str, Any],
    expect: int = 200,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = await client.put(
        POLICY, json={"checks": checks}, headers={**who.headers, **(headers or {})}
    )
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_project_starts_with_every_check_on(
    people: dict[str, Account], client: AsyncClient
) -> None:
    response = await client.get(POLICY, headers=people["vic"].headers)
    assert response.status_code == 200
    assert response.json() == {
        "project_key": "API",
        "checks": DEFAULTS,
        "updated_at": None,
        "version": 0,
    }
    assert response.headers["ETag"].startswith('"v0-')  # its version, then its body's digest


async def test_admins_change_it_with_an_event_in_the_same_transaction(
    people: dict[str, Account], client: AsyncClient, db: Database
) -> None:
    body = await put(
        client,
        people["ada"],
        {
            "no_open_blockers": {"enabled": False},
            "promoted_through_previous": {"required_before": {"Production": "development"}},
            "no_open_incidents": {"min_severity": "sev1"},
        },
    )
    assert body["version"] == 1
    assert body["updated_at"] is not None
    assert body["checks"] == {
        **DEFAULTS,
        "no_open_blockers": {"enabled": False},
        "promoted_through_previous": {
            "enabled": True,
            "required_before": {"production": "development"},
        },
        "no_open_incidents": {"enabled": True, "min_severity": "sev1"},
    }
    got = await client.get(POLICY, headers=people["bob"].headers)
    assert got.json() == body
    async with db.transaction(write=False) as session:
        events = list(
            await session.scalars(select(Event).where(Event.type == "readiness_policy.updated"))
        )
    assert len(events) == 1
    assert events[0].data["checks"] == body["checks"]


async def test_left_out_checks_take_their_defaults(
    people: dict[str, Account], client: AsyncClient
) -> None:
    await put(client, people["ada"], {"items_done": {"enabled": False}})
    body = await put(client, people["ada"], {})
    assert body["checks"] == DEFAULTS
    assert body["version"] == 2


async def test_if_match_guards_against_lost_updates(
    people: dict[str, Account], client: AsyncClient
) -> None:
    await put(client, people["ada"], {}, headers={"If-Match": '"v0"'})
    await put(client, people["ada"], {}, expect=412, headers={"If-Match": '"v0"'})
    response = await client.put(
        POLICY, json={"checks": {}}, headers={**people["ada"].headers, "If-Match": '"v1"'}
    )
    assert response.status_code == 200, response.text
    not_modified = await client.get(
        POLICY, headers={**people["ada"].headers, "If-None-Match": response.headers["ETag"]}
    )
    assert not_modified.status_code == 304


async def test_members_and_viewers_cannot_change_it(
    people: dict[str, Account], client: AsyncClient
) -> None:
    await put(client, people["bob"], {}, expect=403)
    await put(client, people["vic"], {}, expect=403)
    await put(client, people["sam"], {}, expect=404)


@pytest.mark.parametrize(
    ("checks", "pointer"),
    [
        ({"deploy_on_friday": {"enabled": True}}, "/checks/deploy_on_friday"),
        ({"no_open_incidents": {"min_severity": "sev5"}}, "/checks/no_open_incidents/min_severity"),
        ({"items_done": {"enabled": True, "strict": True}}, "/checks/items_done/strict"),
        (
            {"promoted_through_previous": {"required_before": {"moon": "staging"}}},
            "/checks/promoted_through_previous/required_before/moon",
        ),
        (
            {"promoted_through_previous": {"required_before": {"production": "qa/eu"}}},
            "/checks/promoted_through_previous/required_before/production",
        ),
        (
            {"promoted_through_previous": {"required_before": {"staging": "Staging"}}},
            "/checks/promoted_through_previous/required_before/staging",
        ),
        (
            {"promoted_through_previous": {"required_before": {"qa/eu": None}}},
            "/checks/promoted_through_previous/required_before/qa~1eu",
        ),
    ],
)
async def test_a_bad_policy_is_422_at_its_place(
    people: dict[str, Account], client: AsyncClient, checks: dict[str, Any], pointer: str
) -> None:
    response = await client.put(POLICY, json={"checks": checks}, headers=people["ada"].headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert pointer in [e["pointer"] for e in response.json()["errors"]]


async def test_a_name_listed_twice_is_422(people: dict[str, Account], client: AsyncClient) -> None:
    response = await client.put(
        POLICY,
        json={
            "checks": {
                "promoted_through_previous": {
                    "required_before": {"production": "staging", "PRODUCTION": None}
                }
            }
        },
        headers=people["ada"].headers,
    )
    assert response.status_code == 422
    assert "listed twice" in response.json()["errors"][0]["message"]


async def readiness(client: AsyncClient, who: Account, **params: str) -> dict[str, Any]:
    response = await client.get(
        "/api/v1/projects/API/readiness",
        params={"environment": "production", **params},
        headers=who.headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_check_turned_off_is_listed_last_and_not_counted(
    people: dict[str, Account], client: AsyncClient
) -> None:
    ada = people["ada"]
    await new_item(client, ada, title="Not done")
    await put(
        client,
        ada,
        {"items_done": {"enabled": False}, "promoted_through_previous": {"enabled": False}},
    )
    answer = await readiness(client, ada, items="API-1")
    assert answer["ready"] is True
    assert [(c["check"], c["enabled"], c["passed"]) for c in answer["checks"]] == [
        ("pull_requests_approved", True, True),
        ("no_open_blockers", True, True),
        ("no_open_incidents", True, True),
        ("items_done", False, None),
        ("promoted_through_previous", False, None),
    ]
    assert answer["checks"][-1]["reason"] == "Off in the project's readiness policy."


async def test_the_policy_names_which_environment_comes_first(
    people: dict[str, Account], client: AsyncClient
) -> None:
    ada = people["ada"]
    commit = sha("release")
    await deploy(client, ada, "development", commit, when=at(1))
    check = "promoted_through_previous"

    def promoted(answer: dict[str, Any]) -> dict[str, Any]:
        return next(c for c in answer["checks"] if c["check"] == check)

    assert promoted(await readiness(client, ada, ref=commit))["passed"] is False
    await put(client, ada, {check: {"required_before": {"production": "development"}}})
    found = promoted(await readiness(client, ada, ref=commit))
    assert found["passed"] is True
    assert found["details"]["environment"] == "development"
    await put(client, ada, {check: {"required_before": {"production": None}}})
    found = promoted(await readiness(client, ada, ref=commit))
    assert found["passed"] is True
    assert found["reason"] == "The readiness policy needs no environment before production."


async def test_a_renamed_environment_keeps_the_policy(
    people: dict[str, Account], client: AsyncClient
) -> None:
    ada = people["ada"]
    await put(
        client,
        ada,
        {"promoted_through_previous": {"required_before": {"production": "development"}}},
    )
    environments = await client.get("/api/v1/projects/API/environments", headers=ada.headers)
    development = next(e for e in environments.json()["data"] if e["name"] == "development")
    renamed = await client.patch(
        f"/api/v1/environments/{development['id']}", json={"name": "dev"}, headers=ada.headers
    )
    assert renamed.status_code == 200, renamed.text
    got = await client.get(POLICY, headers=ada.headers)
    assert got.json()["checks"]["promoted_through_previous"]["required_before"] == {
        "production": "dev"
    }


async def test_a_renamed_environment_gives_the_policy_a_new_etag(
    people: dict[str, Account], client: AsyncClient
) -> None:
    """The policy names environments, which live in their own rows: a rename changes what it
    shows, not its version."""
    ada = people["ada"]
    before = await put(
        client, ada, {"promoted_through_previous": {"required_before": {"production": "staging"}}}
    )
    etag = (await client.get(POLICY, headers=ada.headers)).headers["ETag"]
    environments = await client.get("/api/v1/projects/API/environments", headers=ada.headers)
    staging = next(e for e in environments.json()["data"] if e["name"] == "staging")
    renamed = await client.patch(
        f"/api/v1/environments/{staging['id']}", json={"name": "stage"}, headers=ada.headers
    )
    assert renamed.status_code == 200, renamed.text
    got = await client.get(POLICY, headers={**ada.headers, "If-None-Match": etag})
    assert got.status_code == 200
    assert got.json()["checks"]["promoted_through_previous"]["required_before"] == {
        "production": "stage"
    }
    assert got.json()["version"] == before["version"]
    assert got.headers["ETag"] != etag
    # The copy read before the rename is stale for a write; the current one is not.
    await put(client, ada, {}, expect=412, headers={"If-Match": etag})
    await put(client, ada, {}, headers={"If-Match": got.headers["ETag"]})


async def test_the_severity_threshold_is_the_policys(
    people: dict[str, Account], client: AsyncClient
) -> None:
    ada = people["ada"]
    await new_item(client, ada, title="Something")
    await open_incident(client, ada, "production", "sev3")

    async def incidents_pass() -> bool:
        answer = await readiness(client, ada, items="API-1")
        return bool(
            next(c for c in answer["checks"] if c["check"] == "no_open_incidents")["passed"]
        )

    assert await incidents_pass()
    await put(client, ada, {"no_open_incidents": {"min_severity": "sev3"}})
    assert not await incidents_pass()


@pytest.mark.parametrize(
    "required",
    [
        {"production": "staging", "staging": "development"},
        {"staging": "development", "production": "staging"},
    ],
)
async def test_a_written_policy_is_tagged_as_it_reads_back_in_any_order(
    people: dict[str, Account], client: AsyncClient, required: dict[str, str]
) -> None:
    """The answer to a PUT is the body a GET then shows, whatever order the request named the
    environments in (PostgreSQL's JSONB stores keys in an order of its own), so the ETag a PUT
    answers is good for the next write."""
    ada = people["ada"]
    checks = {"promoted_through_previous": {"required_before": required}}
    written = await client.put(POLICY, json={"checks": checks}, headers=ada.headers)
    assert written.status_code == 200, written.text
    read = await client.get(POLICY, headers=ada.headers)
    assert list(read.json()["checks"]["promoted_through_previous"]["required_before"]) == [
        "staging",
        "production",
    ]
    assert written.json() == read.json()
    assert written.headers["ETag"] == read.headers["ETag"]
    again = await client.put(
        POLICY,
        json={"checks": checks},
        headers={**ada.headers, "If-Match": written.headers["ETag"]},
    )
    assert again.status_code == 200, again.text
