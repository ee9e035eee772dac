"""scripts/replay_fixture.py against a real `takt serve` (its embedded worker processes the
inbox): the replayed fixtures are accepted with valid signatures and processed."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from scripts import replay_fixture

from takt.core.db import Database
from tests.delivery.support import FIXTURES
from tests.live import live_server
from tests.support import make_project, make_user


def test_the_event_comes_from_the_file_name_or_the_object_kind() -> None:
    github = FIXTURES / "github" / "pull_request_review.submitted.json"
    assert replay_fixture.event_of("github", github, {}) == "pull_request_review"
    assert replay_fixture.event_of("gitlab", Path("x.json"), {"object_kind": "note"}) == "Note Hook"
    with pytest.raises(SystemExit):
        replay_fixture.provider_of("http://127.0.0.1:8000/api/v1/projects")


def test_set_changes_one_field_as_json_or_text() -> None:
    payload: dict = {"pull_request": {"title": "x", "number": 1}}  # type: ignore[type-arg]
    replay_fixture.set_field(payload, "pull_request.title=API-7 Refunds")
    replay_fixture.set_field(payload, "pull_request.number=7")
    assert payload == {"pull_request": {"title": "API-7 Refunds", "number": 7}}


async def test_replayed_fixtures_are_processed_by_a_served_takt(
    app: FastAPI, db: Database, database_url: str, tmp_path: Path
) -> None:
    admin = await make_user(app, db, "ada")
    await make_project(db, admin, "API")
    with live_server(database_url, tmp_path, TAKT_WORKER_POLL_SECONDS="0.2") as base:
        async with httpx.AsyncClient(base_url=base, headers=admin.headers) as client:
            item = await client.post("/api/v1/projects/API/items", json={"title": "Refunds"})
            linked = await client.post(
                "/api/v1/projects/API/repositories",
                json={"provider": "github", "full_name": "acme/checkout"},
            )
            repository = linked.json()
            url = base + repository["webhook_url"].removeprefix("http://127.0.0.1:8000")
            files = [
                str(FIXTURES / "github" / name)
                for name in ("pull_request.opened.json", "pull_request_review.submitted.json")
            ]
            argv = [
                "--url", url,
                "--secret", repository["secret"],
                "--repository", "acme/checkout",
                "--set", f"pull_request.title={item.json()['key']} Refunds",
                *files,
            ]  # fmt: skip
            assert await asyncio.to_thread(replay_fixture.main, argv) == 0
            deadline = time.monotonic() + 20
            while True:
                inbox = await client.get(f"/api/v1/repositories/{repository['id']}/deliveries")
                states = [d["state"] for d in inbox.json()["data"]]
                if states == ["processed", "processed"] or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            assert states == ["processed", "processed"]
            prs = await client.get(f"/api/v1/items/{item.json()['key']}/pull-requests")
            (pr,) = prs.json()["data"]
            assert pr["item_keys"] == [item.json()["key"]]
            # The fixture's review is the author's own comment: a review, but no first review.
            verdicts = {r["login"]: r["verdict"] for r in pr["reviewers"]}
            assert verdicts["Codertocat"] == "commented"
            assert pr["first_review_at"] is None
            wrong = [*argv]
            wrong[3] = "not-the-secret"
            assert await asyncio.to_thread(replay_fixture.main, wrong) == 1
