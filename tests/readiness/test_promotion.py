"""The promotion timeline of an item (`/items/{key}/promotion`) and of a pull request
(`/pull-requests/{id}/promotion`): stages in order with their moments and the time between."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.readiness.kit import at, deploy, link_repository, pull_request, push, sha
from tests.support import Account, make_user, new_item, team

C1, C2 = sha("first"), sha("second")
MERGE = sha("merge")


def stages(answer: dict[str, Any]) -> list[tuple[str, str | None, str | None, int | None]]:
    return [
        (s["stage"], s["environment"], s["at"], s["seconds_since_previous"])
        for s in answer["stages"]
    ]


async def shipped_item(app: FastAPI, db: Database, client: AsyncClient) -> tuple[Account, str]:
    """API-1: committed at 0 h and 1 h on its branch, PR ready at 2 h (a draft from 1.5 h),
    reviewed at 3 h, merged at 4 h; deployed to development at 5 h, to production (a
    hotfix straight there) at 6 h; never to staging."""
    people = await team(app, db)
    ada = people["ada"]
    repository_id = await link_repository(db, app, ada)
    await new_item(client, ada, title="Login")
    await push(
        db,
        repository_id,
        "feature/api-1-login",
        [(C1, "Login form", at(0)), (C2, "Login test", at(1))],
    )
    pr = await pull_request(
        db,
        repository_id,
        7,
        title="API-1 Login",
        branch="feature/api-1-login",
        head_sha=C2,
        opened=at(1.5),
        draft=True,
    )
    await pull_request(
        db,
        repository_id,
        7,
        title="API-1 Login",
        branch="feature/api-1-login",
        head_sha=C2,
        opened=at(2),
        review=("approved", at(3)),
        merged=at(4),
    )
    await push(db, repository_id, "main", [(MERGE, "Merge pull request #7", at(4))])
    await deploy(client, ada, "development", MERGE, when=at(5), commits=[C1, C2, MERGE])
    await deploy(client, ada, "production", MERGE, when=at(6), commits=[C1, C2, MERGE])
    return ada, pr


async def test_an_items_timeline_runs_from_commit_to_each_environment(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    ada, _ = await shipped_item(app, db, client)
    response = await client.get("/api/v1/items/API-1/promotion", headers=ada.headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["item_key"] == "API-1"
    assert answer["pull_request_id"] is None
    assert stages(answer) == [
        ("committed", None, "2026-11-02T09:00:00Z", None),
        ("pull_request_ready", None, "2026-11-02T11:00:00Z", 7200),
        ("first_review", None, "2026-11-02T12:00:00Z", 3600),
        ("merged", None, "2026-11-02T13:00:00Z", 3600),
        ("deployed", "development", "2026-11-02T14:00:00Z", 3600),
        ("deployed", "staging", None, None),
        ("deployed", "production", "2026-11-02T15:00:00Z", 3600),
    ]
    assert answer["total_seconds"] == 6 * 3600
    assert answer["stages"][4]["environment_type"] == "development"
    assert answer["stages"][4]["deployment_id"] is not None
    assert answer["stages"][5]["deployment_id"] is None


async def test_a_pull_requests_timeline(app: FastAPI, db: Database, client: AsyncClient) -> None:
    ada, pr = await shipped_item(app, db, client)
    response = await client.get(f"/api/v1/pull-requests/{pr}/promotion", headers=ada.headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["pull_request_id"] == pr
    assert answer["item_key"] is None
    assert [s[2] for s in stages(answer)] == [
        "2026-11-02T09:00:00Z",
        "2026-11-02T11:00:00Z",
        "2026-11-02T12:00:00Z",
        "2026-11-02T13:00:00Z",
        "2026-11-02T14:00:00Z",
        None,
        "2026-11-02T15:00:00Z",
    ]


async def test_missing_stages_are_null_and_time_counts_from_the_last_one_reached(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    await new_item(client, ada, title="No code yet")
    answer = (await client.get("/api/v1/items/API-1/promotion", headers=ada.headers)).json()
    assert [s["at"] for s in answer["stages"]] == [None] * 7
    assert answer["total_seconds"] is None
    # Deployed (listed by the CI) with no pull request: the time counts from the commit.
    repository_id = await link_repository(db, app, ada)
    await push(db, repository_id, "main", [(C1, "API-1 quick fix", at(0))])
    await deploy(client, ada, "staging", C1, when=at(2), commits=[C1])
    answer = (await client.get("/api/v1/items/API-1/promotion", headers=ada.headers)).json()
    assert stages(answer)[:6] == [
        ("committed", None, "2026-11-02T09:00:00Z", None),
        ("pull_request_ready", None, None, None),
        ("first_review", None, None, None),
        ("merged", None, None, None),
        ("deployed", "development", None, None),
        ("deployed", "staging", "2026-11-02T11:00:00Z", 7200),
    ]


async def test_a_stage_reached_before_the_one_above_it_counts_zero(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    ada, _ = await shipped_item(app, db, client)
    # Staging gets it after production did: no negative time.
    await deploy(client, ada, "staging", MERGE, when=at(8), commits=[C1, C2, MERGE])
    answer = (await client.get("/api/v1/items/API-1/promotion", headers=ada.headers)).json()
    assert stages(answer)[5:] == [
        ("deployed", "staging", "2026-11-02T17:00:00Z", 3 * 3600),
        ("deployed", "production", "2026-11-02T15:00:00Z", 0),
    ]


async def test_strangers_get_404(app: FastAPI, db: Database, client: AsyncClient) -> None:
    _, pr = await shipped_item(app, db, client)
    stranger = await make_user(app, db, "zed")
    for path in ("/api/v1/items/API-1/promotion", f"/api/v1/pull-requests/{pr}/promotion"):
        response = await client.get(path, headers=stranger.headers)
        assert response.status_code == 404
    missing = await client.get(
        "/api/v1/pull-requests/no-such-pr/promotion", headers=stranger.headers
    )
    assert missing.status_code == 404
