"""Every item answer shows how many pull requests name the item, by state (issue 16 point 5):
asked of delivery through items' port (`takt.items.pull_request_directory`), nested in the item
read, so it costs no statement."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.config import Settings
from takt.core.db import Database
from takt.core.hooks import HookNotConnected
from takt.items import pull_request_directory
from tests.delivery.support import github_pr, link_repository
from tests.delivery.test_pull_requests import at, deliver, enable_automation, items
from tests.support import Account, QueryCounter, team

ZERO = {"draft": 0, "open": 0, "approved": 0, "changes_requested": 0, "merged": 0, "closed": 0}

# The caller's own row, read when the per-worker cache of callers has run out (the clock's
# business, not the items').
CALLER = "SELECT users."


def counts(**given: int) -> dict[str, int]:
    return {**ZERO, **given}


async def item(client: AsyncClient, who: Account, key: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/items/{key}", headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def listed(client: AsyncClient, who: Account) -> dict[str, dict[str, int]]:
    response = await client.get(
        "/api/v1/projects/API/items", params={"limit": 100}, headers=who.headers
    )
    assert response.status_code == 200, response.text
    return {row["key"]: row["pull_requests"] for row in response.json()["data"]}


async def test_an_item_shows_its_pull_requests_by_state(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    one, two, three = await items(client, ada, "One", "Two", "Three")
    # No pull request yet: every state is there, at zero.
    assert (await item(client, bob, one))["pull_requests"] == ZERO
    repository = await link_repository(client, ada)
    await deliver(
        client,
        db,
        settings,
        repository,
        ("pull_request", github_pr("opened", number=1, title=f"{one} a", opened=at(0))),
        (
            "pull_request",
            github_pr("opened", number=2, title=f"{one} and {two}", opened=at(1), draft=True),
        ),
        (
            "pull_request",
            github_pr("closed", number=3, title=f"{one} b", opened=at(0), merged_at=at(2)),
        ),
    )
    assert (await item(client, bob, one))["pull_requests"] == counts(open=1, draft=1, merged=1)
    assert (await item(client, bob, two))["pull_requests"] == counts(draft=1)
    assert (await item(client, bob, three))["pull_requests"] == ZERO
    # Lists and write answers show it too.
    assert await listed(client, bob) == {
        one: counts(open=1, draft=1, merged=1),
        two: counts(draft=1),
        three: ZERO,
    }
    patched = await client.patch(
        f"/api/v1/items/{two}", json={"title": "Two!"}, headers=ada.headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["pull_requests"] == counts(draft=1)
    # The draft is ready: it moves to `open` in the summary.
    await deliver(
        client,
        db,
        settings,
        repository,
        (
            "pull_request",
            github_pr("ready_for_review", number=2, title=f"{one} and {two}", opened=at(1)),
        ),
    )
    assert (await item(client, bob, two))["pull_requests"] == counts(open=1)


async def _statements(client: AsyncClient, db: Database, who: Account, url: str) -> int:
    with QueryCounter(db) as counter:
        response = await client.get(url, params={"limit": 100}, headers=who.headers)
    assert response.status_code == 200, response.text
    return len([sql for sql in counter.statements if not sql.startswith(CALLER)])


async def test_the_summary_costs_no_statement(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    keys = await items(client, ada, "One", "Two")
    urls = ("/api/v1/items/" + keys[0], "/api/v1/projects/API/items")
    before = {url: await _statements(client, db, ada, url) for url in urls}
    repository = await link_repository(client, ada)
    keys += await items(client, ada, *(f"Item {n}" for n in range(20)))
    await deliver(
        client,
        db,
        settings,
        repository,
        *(
            ("pull_request", github_pr("opened", number=n, title=f"{key} work", opened=at(n)))
            for n, key in enumerate(keys, start=1)
        ),
    )
    after = {url: await _statements(client, db, ada, url) for url in urls}
    assert after == before
    # One item is still one statement, with its pull requests counted in it.
    assert after[urls[0]] == 1
    assert (await item(client, ada, keys[0]))["pull_requests"] == counts(open=1)


async def test_the_history_says_the_review_automation_moved_the_item(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    await enable_automation(client, ada)
    (key,) = await items(client, ada, "Refunds")
    edited = await client.patch(
        f"/api/v1/items/{key}", json={"title": "Refunds!"}, headers=ada.headers
    )
    assert edited.status_code == 200
    repository = await link_repository(client, ada)
    await deliver(
        client,
        db,
        settings,
        repository,
        ("pull_request", github_pr("opened", title=f"{key} refunds", opened=at(0))),
        (
            "pull_request",
            github_pr("closed", title=f"{key} refunds", opened=at(0), merged_at=at(1)),
        ),
    )
    history = await client.get(f"/api/v1/items/{key}/history", headers=people["bob"].headers)
    assert history.status_code == 200
    updates = [e for e in history.json()["data"] if e["type"] == "item.updated"]
    # The edit by hand says nothing more; each move of the automation says it made it.
    by_hand, *moves = updates
    assert by_hand["actor"]["username"] == "ada"
    assert by_hand["data"] == {"key": key, "reason": None}
    assert [m["changes"]["category"][1] for m in moves] == ["in_review", "done"]
    for move in moves:
        assert move["actor"] == {"id": "takt-automation", "username": None}
        assert move["data"] == {"key": key, "reason": "review-automation"}


def test_asking_before_the_wiring_fails_loudly() -> None:
    provided = pull_request_directory.withdraw()
    try:
        with pytest.raises(HookNotConnected):
            pull_request_directory.directory()
    finally:
        assert provided is not None
        pull_request_directory.provide(provided)
    assert pull_request_directory.directory() is provided
    assert pull_request_directory.summary("open,merged,open") == counts(open=2, merged=1)
