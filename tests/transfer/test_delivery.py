"""Environments, deployments (with what they shipped), incidents and the readiness policy in the
export document: they round-trip with ids remapped, incident numbers kept and people resolved by
username; the copy answers as the original does; bad references are a 422 at their pointer with
nothing written; version 3 documents (without them) still import."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.deployments.kit import at, deployed, link_repository, push, sha, z
from tests.support import Account, make_user, new_item, team
from tests.transfer.test_transfer import IMPORT, assert_same_except_key, normalise

POLICY = {
    "checks": {
        "no_open_blockers": {"enabled": False},
        "promoted_through_previous": {"required_before": {"production": "QA"}},
        "no_open_incidents": {"min_severity": "sev1"},
    }
}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def delivery(client: AsyncClient, app: FastAPI, db: Database) -> dict[str, Any]:
    """Project API with a QA environment added to the path, two pushed commits naming items,
    deployments to staging and production (one shipping an item, a hotfix fixing it), an
    incident it caused (resolved, fixed by the hotfix), an open one in QA, and a readiness
    policy naming QA."""
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    first = (await new_item(client, ada, title="Refunds"))["key"]
    second = (await new_item(client, ada, title="Vault"))["key"]
    ok(
        await client.post(
            "/api/v1/projects/API/environments",
            json={"name": "QA", "type": "testing", "position": 1},
            headers=ada.headers,
        ),
        201,
    )
    repo_id = await link_repository(app, db, ada)
    await push(db, ada, repo_id, [(sha(1), at(0), f"{first} refunds")])
    await push(db, ada, repo_id, [(sha(2), at(1), f"{second} vault")])
    common = {"ref": "main", "triggered_by": "github-actions"}
    staged = await deployed(
        client, bob, environment="staging", sha=sha(1), started_at=z(at(0.5)), **common
    )
    live = await deployed(client, bob, sha=sha(1), started_at=z(at(2)), version="v1", **common)
    broken = await deployed(client, bob, sha=sha(2), started_at=z(at(3)), version="v2", **common)
    hotfix = await deployed(
        client,
        bob,
        sha=sha(3),
        started_at=z(at(5)),
        finished_at=z(at(5.5)),
        is_hotfix=True,
        fixes_deployment_id=broken["id"],
        commits=[sha(3)],
        **common,
    )
    caused = ok(
        await client.post(
            "/api/v1/projects/API/incidents",
            json={
                "title": "Vault refuses cards",
                "severity": "sev2",
                "caused_by_deployment_id": broken["id"],
                "fixed_by_deployment_id": hotfix["id"],
                "opened_at": z(at(3.5)),
                "resolved_at": z(at(6)),
            },
            headers=bob.headers,
        ),
        201,
    )
    open_one = ok(
        await client.post(
            "/api/v1/projects/API/incidents",
            json={"title": "QA is down", "severity": "sev1", "environment": "qa"},
            headers=ada.headers,
        ),
        201,
    )
    ok(await client.put("/api/v1/projects/API/readiness/policy", json=POLICY, headers=ada.headers))
    return {
        "people": people,
        "keys": (first, second),
        "deployments": (staged, live, broken, hotfix),
        "incidents": (caused, open_one),
    }


async def _reads(client: AsyncClient, who: Account, key: str) -> dict[str, Any]:
    """What the API shows of the project's delivery, ids, revisions and the repository aside
    (the copy's rows start at revision 1; its deployments name no repository: repositories are
    not part of the document)."""
    base = f"/api/v1/projects/{key}"
    environments = ok(await client.get(f"{base}/environments", headers=who.headers))["data"]
    deployments = ok(await client.get(f"{base}/deployments", headers=who.headers))["data"]
    details = [
        ok(await client.get(f"/api/v1/deployments/{d['id']}", headers=who.headers))
        for d in deployments
    ]
    incidents = ok(await client.get(f"{base}/incidents", headers=who.headers))["data"]
    policy = ok(await client.get(f"{base}/readiness/policy", headers=who.headers))
    dora = ok(
        await client.get(
            f"{base}/metrics/dora",
            params={"environment": "production", "from": "2026-11-01", "to": "2026-11-04"},
            headers=who.headers,
        )
    )
    return {
        "environments": [(e["name"], e["type"], e["position"]) for e in environments],
        "deployments": [
            {
                k: v
                for k, v in d.items()
                if k not in ("id", "environment", "repository_id", "fixes_deployment_id", "shipped")
                and not k.endswith("_deployment_id")
                and k not in ("created_at", "updated_at", "revision")
            }
            | {
                "environment": d["environment"]["name"],
                "items": [i["key"] for i in d["shipped"]["items"]],
                "commits": [(c["sha"], c["committed_at"]) for c in d["shipped"]["commits"]],
            }
            for d in details
        ],
        "incidents": [
            {k: v for k, v in i.items() if not k.endswith("id") and k != "version"}
            for i in incidents
        ],
        "policy": policy["checks"],
        "dora": {k: v for k, v in dora.items() if k not in ("environment", "as_of")},
    }


async def test_environments_deployments_incidents_and_policy_round_trip(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    scene = await delivery(client, app, db)
    ada = scene["people"]["ada"]
    first, second = scene["keys"]
    staged, live, broken, hotfix = scene["deployments"]
    document = ok(await client.get("/api/v1/projects/API/export", headers=ada.headers))
    assert document["version"] == 4
    envs = document["environments"]
    assert [(e["name"], e["type"], e["position"]) for e in envs] == [
        ("development", "development", 0),
        ("QA", "testing", 1),
        ("staging", "staging", 2),
        ("production", "production", 3),
    ]
    env_ref = {e["name"]: e["ref"] for e in envs}
    deployments = document["deployments"]  # oldest started first
    assert [d["environment"] for d in deployments] == [
        env_ref["staging"],
        *[env_ref["production"]] * 3,
    ]
    _, d_live, d_broken, d_hotfix = deployments
    assert d_broken["item_keys"] == [second]
    assert d_live["item_keys"] == [first]
    assert [c["sha"] for c in d_broken["commits"]] == [sha(2)]
    assert d_broken["previous"] == d_live["ref"]
    assert d_hotfix["fixes"] == d_broken["ref"]
    assert d_hotfix["is_hotfix"] is True
    assert d_broken["failed_at"] is not None
    assert d_broken["restored_at"] is not None
    assert d_live["reported_by"] == "bob"
    assert d_live["git_ref"] == "main"
    assert d_live["version"] == "v1"
    caused, open_one = document["incidents"]
    assert (caused["number"], open_one["number"]) == (1, 2)
    assert caused["caused_by"] == d_broken["ref"]
    assert caused["fixed_by"] == d_hotfix["ref"]
    assert caused["opened_by"] == "bob"
    assert open_one["environment"] == env_ref["QA"]
    assert document["readiness_policy"]["promoted_through_previous"]["required_before"] == {
        "production": "QA"
    }
    # Ids inside history name the same rows as the references do.
    created = [e for e in document["history"] if e["type"] == "deployment.created"]
    assert [e["subject"] for e in created] == [d["ref"] for d in deployments]
    opened = [e for e in document["history"] if e["type"] == "incident.opened"]
    assert {e["data"]["environment_id"] for e in opened} == {env_ref["production"], env_ref["QA"]}

    # An instance admin's import brings the members along, so every person resolves.
    root = await make_user(app, db, "root", admin=True)
    ok(
        await client.post(IMPORT, json={"key": "NEW", "document": document}, headers=root.headers),
        201,
    )
    again = ok(await client.get("/api/v1/projects/NEW/export", headers=root.headers))
    again["members"] = document["members"]
    assert_same_except_key(again, "NEW", document)

    # The API shows the copy as it shows the original: ids remapped, numbers kept.
    original, copied = await _reads(client, ada, "API"), await _reads(client, ada, "NEW")
    for part in original:
        left, right = normalise(copied[part], "NEW"), normalise(original[part], "API")
        if isinstance(right, list):
            for a, b in zip(left, right, strict=True):
                assert a == b, (part, {k: (a.get(k), b.get(k)) for k in b if a.get(k) != b[k]})
        assert left == right, part
    new_deployments = ok(await client.get("/api/v1/projects/NEW/deployments", headers=ada.headers))[
        "data"
    ]
    assert not {d["id"] for d in new_deployments} & {
        d["id"] for d in (staged, live, broken, hotfix)
    }
    # Latest started first: the hotfix (an unknown commit), v2, v1, staging.
    assert [d["shipped_item_count"] for d in new_deployments] == [0, 1, 1, 1]
    assert all(d["repository_id"] is None for d in new_deployments)
    new_incidents = ok(await client.get("/api/v1/projects/NEW/incidents", headers=ada.headers))[
        "data"
    ]
    assert sorted(i["number"] for i in new_incidents) == [1, 2]

    # The copy works like any other project: an environment with an incident stays, the next
    # incident is number 3, reopening withdraws the restore of the deployment it caused.
    envs_new = ok(await client.get("/api/v1/projects/NEW/environments", headers=ada.headers))
    qa = next(e for e in envs_new["data"] if e["name"] == "QA")
    refused = await client.delete(f"/api/v1/environments/{qa['id']}", headers=ada.headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "environment-in-use"
    third = ok(
        await client.post(
            "/api/v1/projects/NEW/incidents",
            json={"title": "Again", "severity": "sev4", "environment": "production"},
            headers=ada.headers,
        ),
        201,
    )
    assert third["number"] == 3
    resolved = next(i for i in new_incidents if i["number"] == 1)
    ok(
        await client.patch(
            f"/api/v1/incidents/{resolved['id']}", json={"state": "open"}, headers=ada.headers
        )
    )
    reopened_cause = ok(
        await client.get(
            f"/api/v1/deployments/{resolved['caused_by_deployment_id']}", headers=ada.headers
        )
    )
    assert (reopened_cause["failed"], reopened_cause["restored_at"]) == (True, None)
    # The original is untouched.
    original_cause = ok(
        await client.get(f"/api/v1/deployments/{broken['id']}", headers=ada.headers)
    )
    assert original_cause["restored_at"] is not None


async def test_people_who_are_not_members_of_the_copy_are_nobody(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """ada imports on her own: bob's deployments and incident name no reporter in the copy."""
    scene = await delivery(client, app, db)
    ada = scene["people"]["ada"]
    document = ok(await client.get("/api/v1/projects/API/export", headers=ada.headers))
    ok(
        await client.post(IMPORT, json={"key": "MINE", "document": document}, headers=ada.headers),
        201,
    )
    copied = ok(await client.get("/api/v1/projects/MINE/export", headers=ada.headers))
    assert {d["reported_by"] for d in copied["deployments"]} == {None}
    assert [i["opened_by"] for i in copied["incidents"]] == [None, "ada"]
    assert [d["triggered_by"] for d in copied["deployments"]] == ["github-actions"] * 4


def _break(document: dict[str, Any], how: str) -> str:
    """Spoil the document one way; the pointer the 422 names."""
    deployments, incidents = document["deployments"], document["incidents"]
    if how == "unknown environment":
        deployments[0]["environment"] = "00000000-0000-4000-8000-00000000ffff"
        return "/document/deployments/0/environment"
    if how == "cause in another environment":
        incidents[0]["caused_by"] = deployments[0]["ref"]  # the staging deployment
        return "/document/incidents/0/caused_by"
    if how == "number twice":
        incidents[1]["number"] = incidents[0]["number"]
        return "/document/incidents/1/number"
    if how == "unknown item":
        deployments[1]["item_keys"] = ["API-99"]
        return "/document/deployments/1/item_keys/0"
    if how == "fixes itself":
        deployments[3]["fixes"] = deployments[3]["ref"]
        return "/document/deployments/3/fixes"
    if how == "names twice":
        document["environments"][1]["name"] = "Development"
        return "/document/environments/1/name"
    if how == "pipeline twice":
        deployments[2]["pipeline_id"] = deployments[1]["pipeline_id"]
        deployments[2]["sequence"] = deployments[1]["sequence"]
        return "/document/deployments/2/sequence"
    if how == "policy names no environment":
        checks = document["readiness_policy"]["promoted_through_previous"]
        checks["required_before"] = {"production": "nowhere"}
        return "/document/readiness_policy/promoted_through_previous/required_before/production"
    assert how == "deployments without environments"
    document["environments"] = None
    return "/document/environments"


@pytest.mark.parametrize(
    "how",
    [
        "unknown environment",
        "cause in another environment",
        "number twice",
        "unknown item",
        "fixes itself",
        "names twice",
        "pipeline twice",
        "policy names no environment",
        "deployments without environments",
    ],
)
async def test_bad_references_are_a_422_and_write_nothing(
    client: AsyncClient, app: FastAPI, db: Database, how: str
) -> None:
    scene = await delivery(client, app, db)
    ada = scene["people"]["ada"]
    document = ok(await client.get("/api/v1/projects/API/export", headers=ada.headers))
    spoiled = copy.deepcopy(document)
    pointer = _break(spoiled, how)
    response = await client.post(
        IMPORT, json={"key": "BAD", "document": spoiled}, headers=ada.headers
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["pointer"] == pointer
    assert (await client.get("/api/v1/projects/BAD", headers=ada.headers)).status_code == 404


async def test_a_version_3_document_imports_with_the_default_path(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    scene = await delivery(client, app, db)
    ada = scene["people"]["ada"]
    document = ok(await client.get("/api/v1/projects/API/export", headers=ada.headers))
    later = ("environments", "deployments", "incidents", "readiness_policy")
    old = {k: v for k, v in document.items() if k not in later} | {"version": 3}
    ok(await client.post(IMPORT, json={"key": "OLD", "document": old}, headers=ada.headers), 201)
    copied = ok(await client.get("/api/v1/projects/OLD/export", headers=ada.headers))
    assert copied["version"] == 4
    assert [e["name"] for e in copied["environments"]] == ["development", "staging", "production"]
    assert (copied["deployments"], copied["incidents"]) == ([], [])
    assert copied["readiness_policy"] is None
