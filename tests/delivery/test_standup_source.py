"""Stand-up drafts gain a pull-request source: what the member opened, merged and reviewed
since their last entry, and their pull requests waiting for a review for more than a day as
suggested blockers."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from takt.config import Settings
from takt.core.db import Database
from takt.core.time import utcnow
from tests.delivery.support import (
    github_pr,
    github_review,
    link_repository,
    process_inbox,
    send_github,
)
from tests.support import Account, team

EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


async def draft(client: AsyncClient, who: Account) -> dict:  # type: ignore[type-arg]
    today = utcnow().date().isoformat()
    response = await client.get(f"/api/v1/projects/API/standups/{today}/draft", headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


async def test_the_draft_shows_pull_requests_and_a_long_wait_as_a_blocker(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    # Every day a working day, so today is a stand-up day whatever today is.
    patched = await client.patch(
        "/api/v1/projects/API", json={"settings": {"working_days": EVERY_DAY}}, headers=ada.headers
    )
    assert patched.status_code == 200
    made = await client.post(
        "/api/v1/projects/API/items", json={"title": "Refunds"}, headers=ada.headers
    )
    key = made.json()["key"]
    for who, login in ((bob, "Codertocat"), (ada, "octocat")):
        linked = await client.put(
            "/api/v1/users/me/identities/github", json={"login": login}, headers=who.headers
        )
        assert linked.status_code == 200
    repository = await link_repository(client, ada)
    now = utcnow().replace(microsecond=0)
    waiting = github_pr(
        "opened", number=7, opened=now - timedelta(hours=30), title=f"{key} refunds"
    )
    fresh = github_pr("opened", number=8, opened=now - timedelta(hours=1), title="No item")
    review = github_review(
        "approved",
        review_id=80,
        reviewer="octocat",
        at=now,
        number=8,
        opened=now - timedelta(hours=1),
        title="No item",
    )
    for event, payload in (
        ("pull_request", waiting),
        ("pull_request", fresh),
        ("pull_request_review", review),
    ):
        assert (await send_github(client, repository, event, payload)).status_code == 202
    await process_inbox(db, settings)

    mine = await draft(client, bob)
    lines = [(line["section"], line["kind"], line["item_key"]) for line in mine["lines"]]
    assert ("yesterday", "pr_opened", key) in lines
    assert ("yesterday", "pr_opened", None) in lines
    assert ("blockers", "pull_request_waiting", key) in lines
    assert [s["source"] for s in mine["suggested_blockers"]] == ["pull_request_waiting"]
    assert mine["suggested_blockers"][0]["item_key"] == key
    assert "#7" in mine["suggested_blockers"][0]["reason"]
    opened = next(
        line for line in mine["lines"] if line["kind"] == "pr_opened" and line["item_key"]
    )
    assert opened["text"].startswith(f"{key} Refunds: opened Codertocat/Hello-World#7")

    reviewer = await draft(client, ada)
    kinds = [(line["kind"], line["text"]) for line in reviewer["lines"]]
    assert ("pr_reviewed", "reviewed Codertocat/Hello-World#8 No item (approved)") in kinds
    assert reviewer["suggested_blockers"] == []
