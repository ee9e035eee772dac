"""The demo project's refinement: what docs/refinement.md walks through is there on `make run`'s
data."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.demo.loader import DEMO_PASSWORD
from tests.support import load_demo_on_a_weekday, login


async def test_the_demo_has_a_definition_of_ready_and_a_refinement_queue(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await load_demo_on_a_weekday(app, db)
    tokens = await login(client, "leo", DEMO_PASSWORD)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    project = (await client.get("/api/v1/projects/DEMO", headers=headers)).json()
    entries = project["settings"]["definition_of_ready"]
    assert [e["id"] for e in entries] == ["acceptance-criteria", "dependencies", "one-sprint"]
    queue = (await client.get("/api/v1/projects/DEMO/refinement?limit=10", headers=headers)).json()
    assert queue["definition_of_ready"] == entries
    assert len(queue["data"]) == 10
    assert queue["next_cursor"] is not None
    # Three new stories on top, waiting for an estimate; then items refined half way.
    top = queue["data"]
    assert [i["type"] for i in top[:3]] == ["story"] * 3
    assert all(i["missing"][0] == "estimate" for i in top[:3])
    half_way = [i for i in top if i["dor_checked"] and not i["ready"]]
    assert len(half_way) == 3
    assert all(i["missing"] == ["dor:one-sprint"] or len(i["missing"]) == 2 for i in half_way)
    # Items made ready stay in the backlog, out of the queue.
    ready = (
        await client.get("/api/v1/projects/DEMO/items", params={"limit": 30}, headers=headers)
    ).json()["data"]
    assert len([i for i in ready if i["ready"]]) >= 3
    listed = {i["key"] for i in queue["data"]}
    assert not [i for i in ready if i["ready"] and i["key"] in listed]
