"""What a deployment shipped: the commits since the previous successful deployment to its
environment (listed by the call, or worked out from the pushes Takt saw), their pull requests
and items, and `shipped_complete` when the commits at either end are unknown."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.deployments.kit import (
    at,
    deployed,
    link_repository,
    merged_pull_request,
    push,
    sha,
    z,
)
from tests.support import Account, new_item, team


async def detail(client: AsyncClient, who: Account, deployment: dict[str, Any]) -> Any:
    response = await client.get(f"/api/v1/deployments/{deployment['id']}", headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_deployment_ships_the_commits_since_the_previous_one(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    first_item = (await new_item(client, ada, title="Refunds"))["key"]
    second_item = (await new_item(client, ada, title="Vault"))["key"]
    third_item = (await new_item(client, ada, title="Export"))["key"]
    repo_id = await link_repository(app, db, ada)
    await push(
        db,
        ada,
        repo_id,
        [
            (sha(1), at(0), f"{first_item} refunds"),
            (sha(2), at(1), "Tidy"),
            (sha(3), at(2), f"{second_item} vault"),
        ],
    )
    # A feature branch's head, merged into main by pull request #7 naming the third item.
    await push(db, ada, repo_id, [(sha(10), at(1.5), "wip")], branch=f"feature-{third_item}")
    await merged_pull_request(
        db, ada, repo_id, number=7, title=f"{third_item} export", head=sha(10), merged=at(2.5)
    )
    await push(db, ada, repo_id, [(sha(4), at(3), "Merge pull request #7")])
    # A commit on another branch in the window is not shipped.
    await push(db, ada, repo_id, [(sha(11), at(2.2), "elsewhere")], branch="experiment")

    # The first deployment: no previous one, so only its own commit is established.
    first = await deployed(client, bob, sha=sha(1), ref="main", started_at=z(at(0.5)))
    shown = await detail(client, bob, first)
    assert shown["shipped"]["complete"] is False
    assert shown["shipped_complete"] is False
    assert [c["sha"] for c in shown["shipped"]["commits"]] == [sha(1)]
    assert [i["key"] for i in shown["shipped"]["items"]] == [first_item]
    assert shown["previous_deployment_id"] is None

    second = await deployed(
        client, bob, sha=sha(4), ref="refs/heads/main", started_at=z(at(3.5)), version="v2"
    )
    shown = await detail(client, bob, second)
    assert shown["previous_deployment_id"] == first["id"]
    assert shown["shipped"]["complete"] is True
    assert shown["shipped"]["commit_count"] == shown["shipped_commit_count"] == 4
    assert [c["sha"] for c in shown["shipped"]["commits"]] == [sha(4), sha(3), sha(10), sha(2)]
    assert shown["shipped"]["commits"][0]["message"] == "Merge pull request #7"
    assert shown["shipped"]["commits"][0]["committed_at"] == z(at(3))
    assert [p["number"] for p in shown["shipped"]["pull_requests"]] == [7]
    assert [(i["key"], i["status"]["category"]) for i in shown["shipped"]["items"]] == [
        (second_item, "backlog"),
        (third_item, "backlog"),
    ]
    events = (
        await client.get(
            "/api/v1/projects/API/events",
            params={"types": "deployment.succeeded"},
            headers=bob.headers,
        )
    ).json()["data"]
    assert events[-1]["data"]["version"] == "v2"
    assert events[-1]["data"]["commit_count"] == 4
    assert events[-1]["data"]["item_keys"] == [second_item, third_item]

    # The same commit again ships nothing new; an older one (a rollback) neither.
    again = await detail(client, bob, await deployed(client, bob, sha=sha(4), ref="main"))
    assert again["shipped"]["commit_count"] == 0
    assert again["shipped"]["complete"] is True
    older = await detail(client, bob, await deployed(client, bob, sha=sha(2), ref="main"))
    assert older["shipped"]["commit_count"] == 0
    assert (again["shipped_item_count"], older["shipped_item_count"]) == (0, 0)

    # The list says how many items each shipped, as the detail does (items in the trash aside).
    assert shown["shipped_item_count"] == 2
    listed = (await client.get("/api/v1/projects/API/deployments", headers=bob.headers)).json()[
        "data"
    ]
    counts = {d["id"]: d["shipped_item_count"] for d in listed}
    assert (counts[first["id"]], counts[second["id"]]) == (1, 2)
    deleted = await client.delete(f"/api/v1/items/{second_item}", headers=ada.headers)
    assert deleted.status_code == 204, deleted.text
    listed = (await client.get("/api/v1/projects/API/deployments", headers=bob.headers)).json()[
        "data"
    ]
    assert {d["id"]: d["shipped_item_count"] for d in listed}[second["id"]] == 1
    assert (await detail(client, bob, second))["shipped_item_count"] == 1


async def test_an_unknown_commit_ships_only_itself_and_is_incomplete(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    repo_id = await link_repository(app, db, ada)
    await push(db, ada, repo_id, [(sha(1), at(0), "one"), (sha(2), at(1), "two")])
    await deployed(client, bob, sha=sha(1), ref="main")
    unknown = await detail(client, bob, await deployed(client, bob, sha=sha(99), ref="main"))
    assert unknown["shipped"]["complete"] is False
    assert unknown["shipped"]["commits"] == [
        {"sha": sha(99), "committed_at": None, "message": None, "author": None}
    ]
    # The next one follows an unknown commit: its own commit only, incomplete.
    after = await detail(client, bob, await deployed(client, bob, sha=sha(2), ref="main"))
    assert after["shipped"]["complete"] is False
    assert [c["sha"] for c in after["shipped"]["commits"]] == [sha(2)]
    assert after["shipped"]["commits"][0]["committed_at"] == z(at(1))
    # Without a SHA nothing can be established.
    bare = await detail(client, bob, await deployed(client, bob, version="v9"))
    assert bare["shipped"]["commit_count"] == 0
    assert bare["shipped"]["complete"] is False


async def test_commits_listed_by_the_call_are_what_it_shipped(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    item = (await new_item(client, ada, title="Refunds"))["key"]
    repo_id = await link_repository(app, db, ada)
    await push(db, ada, repo_id, [(sha(1), at(0), f"{item} refunds")])
    pending = await deployed(
        client,
        bob,
        environment="staging",
        state="in_progress",
        pipeline_id="777",
        sha=sha(2),
        commits=[sha(1), sha(2), sha(2).upper()],
    )
    assert pending["shipped_commit_count"] == 2
    done = await client.post(
        "/api/v1/projects/API/deployments",
        json={"environment": "staging", "state": "success", "pipeline_id": "777", "sequence": 1},
        headers=bob.headers,
    )
    assert done.status_code == 200
    shown = done.json()
    assert shown["shipped"]["complete"] is True
    assert sorted(c["sha"] for c in shown["shipped"]["commits"]) == sorted([sha(1), sha(2)])
    assert [i["key"] for i in shown["shipped"]["items"]] == [item]
    # A deployment that finished in failure shipped nothing.
    failed = await deployed(client, bob, state="failure", commits=[sha(1)])
    assert failed["shipped_commit_count"] == 0
    assert failed["shipped"]["items"] == []


async def test_pull_requests_merged_between_the_two_commits_ship_with_their_items(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    item = (await new_item(client, ada, title="Refunds"))["key"]
    repo_id = await link_repository(app, db, ada)
    await push(db, ada, repo_id, [(sha(1), at(0), "one"), (sha(2), at(5), "two")])
    # Merged in between, its head never pushed to Takt: it shipped, its head by SHA only.
    await merged_pull_request(
        db, ada, repo_id, number=8, title=f"{item} refunds", head=sha(50), merged=at(2)
    )
    # Merged after the deployed commit: not shipped.
    await merged_pull_request(db, ada, repo_id, number=9, title="Later", head=sha(51), merged=at(6))
    await deployed(client, bob, sha=sha(1), ref="main")
    shown = await detail(client, bob, await deployed(client, bob, sha=sha(2), ref="main"))
    assert [p["number"] for p in shown["shipped"]["pull_requests"]] == [8]
    assert [i["key"] for i in shown["shipped"]["items"]] == [item]
    assert {c["sha"]: c["committed_at"] for c in shown["shipped"]["commits"]} == {
        sha(2): z(at(5)),
        sha(50): None,
    }
    assert shown["shipped"]["complete"] is True
