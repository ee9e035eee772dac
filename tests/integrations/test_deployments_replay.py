"""scripts/replay_fixture.py with the deployment fixtures, as docs/github.md and docs/gitlab.md
show it: the events come from the file names and `object_kind`s, `--set` reaches into lists, and
a served Takt records the deployments."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from scripts import replay_fixture

from takt.core.db import Database
from tests.delivery.support import FIXTURES
from tests.live import live_server
from tests.support import make_project, make_user


@pytest.mark.parametrize(
    ("provider", "name", "event"),
    [
        ("github", "deployment.created.json", "deployment"),
        ("github", "deployment_status.created.json", "deployment_status"),
        ("github", "workflow_run.completed.json", "workflow_run"),
        ("gitlab", "deployment.json", "Deployment Hook"),
        ("gitlab", "pipeline.json", "Pipeline Hook"),
        ("gitlab", "job.json", "Job Hook"),
    ],
)
def test_the_deployment_fixtures_are_sent_as_their_events(
    provider: str, name: str, event: str
) -> None:
    path = FIXTURES / provider / name
    payload = json.loads(path.read_text())
    assert replay_fixture.event_of(provider, path, payload) == event


def test_set_reaches_into_lists() -> None:
    payload: dict[str, Any] = {"builds": [{"status": "skipped", "environment": {}}]}
    replay_fixture.set_field(payload, "builds.0.status=success")
    replay_fixture.set_field(payload, "builds.0.environment.name=production")
    assert payload == {"builds": [{"status": "success", "environment": {"name": "production"}}]}
    for wrong in ("builds.3.status=success", "builds.x.status=success"):
        with pytest.raises(SystemExit, match="no such place"):
            replay_fixture.set_field(payload, wrong)


async def _link(client: httpx.AsyncClient, base: str, provider: str, name: str) -> dict[str, Any]:
    linked = await client.post(
        "/api/v1/projects/API/repositories", json={"provider": provider, "full_name": name}
    )
    assert linked.status_code == 201, linked.text
    repository: dict[str, Any] = linked.json()
    repository["url"] = base + repository["webhook_url"].removeprefix("http://127.0.0.1:8000")
    return repository


async def _settled(client: httpx.AsyncClient, repository: dict[str, Any], count: int) -> list[str]:
    """The repository's deliveries' states once the served worker has processed `count`."""
    deadline = time.monotonic() + 60  # generous: the machine may be busy with other suites
    while True:
        inbox = await client.get(f"/api/v1/repositories/{repository['id']}/deliveries")
        states = [d["state"] for d in inbox.json()["data"]]
        done = [s for s in states if s in ("processed", "ignored", "failed")]
        if len(done) == count or time.monotonic() > deadline:
            return states
        await asyncio.sleep(0.2)


async def test_replayed_deployment_fixtures_are_recorded_by_a_served_takt(
    app: FastAPI, db: Database, database_url: str, tmp_path: Path
) -> None:
    admin = await make_user(app, db, "ada")
    await make_project(db, admin, "API")
    with live_server(database_url, tmp_path, TAKT_WORKER_POLL_SECONDS="0.2") as base:
        async with httpx.AsyncClient(base_url=base, headers=admin.headers) as client:
            hub = await _link(client, base, "github", "Codertocat/Hello-World")
            argv = ["--url", hub["url"], "--secret", hub["secret"]]
            files = [
                str(FIXTURES / "github" / name)
                for name in ("deployment_status.created.json", "deployment.created.json")
            ]
            assert await asyncio.to_thread(replay_fixture.main, [*argv, *files]) == 0
            assert await _settled(client, hub, 2) == ["processed", "processed"]

            lab = await _link(client, base, "gitlab", "root/test-deployment-webhooks")
            argv = ["--url", lab["url"], "--secret", lab["secret"]]
            deployment = str(FIXTURES / "gitlab" / "deployment.json")
            running = ["--set", "status=running", "--set", "status_changed_at=2021-04-28T19:48:00Z"]
            assert await asyncio.to_thread(replay_fixture.main, [*argv, *running, deployment]) == 0
            assert await _settled(client, lab, 1) == ["processed"]
            assert await asyncio.to_thread(replay_fixture.main, [*argv, deployment]) == 0
            assert await _settled(client, lab, 2) == ["processed", "processed"]

            listed = await client.get("/api/v1/projects/API/deployments")
            found = {d["external_id"]: d for d in listed.json()["data"]}
            assert set(found) == {"145988746", "job:796"}
            github, gitlab = found["145988746"], found["job:796"]
            assert (github["environment"]["name"], github["state"]) == ("production", "success")
            assert (gitlab["environment"]["name"], gitlab["state"]) == ("staging", "success")
            assert gitlab["started_at"] == "2021-04-28T19:48:00Z"
            assert gitlab["finished_at"] == "2021-04-28T19:50:00Z"
