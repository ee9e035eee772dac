"""The demo's code reviews, and the issue's "done when" walked through the API: link a
repository to the demo project, replay fixtures with valid signatures, see pull requests
linked to items, an item moved to review and done by the automation, review metrics with real
numbers and the pull-request source in a stand-up draft."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.config import Settings
from takt.core.db import Database
from takt.core.time import utcnow
from takt.demo.loader import DEMO_PASSWORD, load_demo
from tests.delivery.support import (
    fixture,
    inbox,
    link_repository,
    process_inbox,
    send_github,
)
from tests.support import Account, login


async def test_the_demo_has_reviews_and_a_replayed_pull_request_moves_an_item(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    async with db.transaction() as session:
        await load_demo(session, app.state.security)
    tokens = await login(client, "maya", DEMO_PASSWORD)
    token = tokens["access_token"]
    maya = Account(user=None, token=token, headers={"Authorization": f"Bearer {token}"})  # type: ignore[arg-type]
    listed = await client.get(
        "/api/v1/projects/DEMO/pull-requests", params={"limit": 100}, headers=maya.headers
    )
    prs = listed.json()["data"]
    assert len(prs) >= 30
    assert all(pr["item_keys"] for pr in prs)
    assert "merged" in {pr["state"] for pr in prs}
    assert any(pr["author"]["user"] for pr in prs)
    metrics = await client.get("/api/v1/projects/DEMO/metrics/reviews", headers=maya.headers)
    overall = metrics.json()["overall"]
    assert overall["merged"] > 0
    assert overall["time_to_merge"]["p50"] is not None
    project = await client.get("/api/v1/projects/DEMO", headers=maya.headers)
    assert project.json()["settings"]["review_automation"] is True

    # A new user's walk: an item to work on, a repository of their own, a replayed fixture.
    item = await client.post(
        "/api/v1/projects/DEMO/items", json={"title": "Replay a pull request"}, headers=maya.headers
    )
    key = item.json()["key"]
    repository = await link_repository(client, maya, "github", "Codertocat/Hello-World", key="DEMO")
    await client.put(
        "/api/v1/users/me/identities/github", json={"login": "Codertocat"}, headers=maya.headers
    )
    opened = fixture("github", "pull_request.opened.json")
    opened["pull_request"]["title"] = f"{key} {opened['pull_request']['title']}"
    closed = fixture("github", "pull_request.closed.json")
    closed["pull_request"].update(
        title=opened["pull_request"]["title"], merged=True, merged_at="2019-05-15T15:21:18Z"
    )
    assert (await send_github(client, repository, "pull_request", opened)).status_code == 202
    await process_inbox(db, settings)
    moved = await client.get(f"/api/v1/items/{key}", headers=maya.headers)
    assert moved.json()["status"]["category"] == "in_review"
    today = utcnow().date().isoformat()
    draft = await client.get(f"/api/v1/projects/DEMO/standups/{today}/draft", headers=maya.headers)
    if draft.status_code == 200:  # a working day of the demo's calendar
        assert any(line["kind"] == "pr_opened" for line in draft.json()["lines"])
    assert (await send_github(client, repository, "pull_request", closed)).status_code == 202
    await process_inbox(db, settings)
    done = await client.get(f"/api/v1/items/{key}", headers=maya.headers)
    assert done.json()["status"]["category"] == "done"
    assert {d.state for d in await inbox(db)} == {"processed"}
