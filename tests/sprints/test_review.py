"""`GET /sprints/{id}/review`: the sprint's done items, each "in production" (a successful
deployment to an environment of type production shipped it) or "done, not yet in production",
in one statement whatever the sprint's size."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.core.hooks import HookNotConnected
from takt.sprints import release_directory
from tests.readiness.kit import at, deploy, link_repository, push, set_status, sha
from tests.support import Account, QueryCounter, new_item, team


async def sprint_with_work(
    app: FastAPI, db: Database, client: AsyncClient
) -> tuple[dict[str, Account], str]:
    """API-1 done and in production; API-2 done, only on staging; API-3 done, shipped to
    production by a deployment that failed; API-4 in progress; API-5 done, in another sprint;
    API-6 done, in production-eu (a second environment of type production)."""
    people = await team(app, db)
    ada = people["ada"]
    repository_id = await link_repository(db, app, ada)
    for title in ("Login", "Logout", "Reset", "Profile", "Elsewhere", "EU"):
        await new_item(client, ada, title=title)
    sprint = await client.post(
        "/api/v1/projects/API/sprints", json={"name": "Sprint 1"}, headers=ada.headers
    )
    assert sprint.status_code == 201, sprint.text
    sprint_id = sprint.json()["id"]
    added = await client.post(
        f"/api/v1/sprints/{sprint_id}/items",
        json={"item_keys": ["API-1", "API-2", "API-3", "API-4", "API-6"]},
        headers=ada.headers,
    )
    assert added.status_code == 200, added.text
    for key in ("API-1", "API-2", "API-3", "API-5", "API-6"):
        await set_status(client, ada, key, "Done")
    await set_status(client, ada, "API-4", "In Progress")
    eu = await client.post(
        "/api/v1/projects/API/environments",
        json={"name": "production-eu", "type": "production"},
        headers=ada.headers,
    )
    assert eu.status_code == 201, eu.text
    commits = {n: sha(f"api-{n}") for n in range(1, 7)}
    await push(
        db,
        repository_id,
        "main",
        [(commits[n], f"API-{n} work", at(n)) for n in range(1, 7)],
    )
    await deploy(client, ada, "production", commits[1], when=at(10), commits=[commits[1]])
    await deploy(client, ada, "staging", commits[2], when=at(11), commits=[commits[2]])
    await deploy(
        client, ada, "production", commits[3], when=at(12), commits=[commits[3]], state="failure"
    )
    await deploy(client, ada, "production", commits[5], when=at(13), commits=[commits[5]])
    await deploy(client, ada, "production-eu", commits[6], when=at(14), commits=[commits[6]])
    return people, sprint_id


async def review(client: AsyncClient, who: Account, sprint_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/sprints/{sprint_id}/review", headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_done_items_are_marked_in_production_or_not(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people, sprint_id = await sprint_with_work(app, db, client)
    body = await review(client, people["vic"], sprint_id)
    assert body["sprint_id"] == sprint_id
    assert body["state"] == "planned"
    assert (body["done"], body["in_production"], body["not_in_production"]) == (4, 2, 2)
    assert body["truncated"] is False
    assert [(i["key"], i["production"], i["in_production_since"]) for i in body["items"]] == [
        ("API-1", "in production", "2026-11-02T19:00:00Z"),
        ("API-2", "done, not yet in production", None),
        ("API-3", "done, not yet in production", None),
        ("API-6", "in production", "2026-11-02T23:00:00Z"),
    ]
    assert body["items"][0]["status"] == "Done"


async def test_a_review_is_one_statement_after_the_sprint(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people, sprint_id = await sprint_with_work(app, db, client)
    await review(client, people["ada"], sprint_id)
    with QueryCounter(db) as counter:
        await review(client, people["ada"], sprint_id)
    assert counter.count == 2  # the sprint with its project, then the review


async def test_an_empty_sprint_reviews_to_nothing(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    sprint = await client.post(
        "/api/v1/projects/API/sprints", json={"name": "Empty"}, headers=people["ada"].headers
    )
    body = await review(client, people["bob"], sprint.json()["id"])
    assert (body["done"], body["in_production"], body["not_in_production"], body["items"]) == (
        0,
        0,
        0,
        [],
    )


async def test_strangers_get_404(app: FastAPI, db: Database, client: AsyncClient) -> None:
    people, sprint_id = await sprint_with_work(app, db, client)
    response = await client.get(
        f"/api/v1/sprints/{sprint_id}/review", headers=people["sam"].headers
    )
    assert response.status_code == 404


def test_the_release_directory_must_be_provided() -> None:
    provided = release_directory.withdraw()
    try:
        with pytest.raises(HookNotConnected):
            release_directory.directory()
    finally:
        assert provided is not None
        release_directory.provide(provided)
