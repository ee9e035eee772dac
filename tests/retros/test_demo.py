"""The demo project's retros: what docs/retros.md walks through is there on `make run`'s data, a
closed retro with action items (some done) and an open one in the vote phase."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.demo.loader import DEMO_PASSWORD, load_demo
from tests.support import login


async def test_the_demo_has_a_closed_retro_with_actions_and_one_in_the_vote_phase(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    async with db.transaction() as session:
        await load_demo(session, app.state.security)
    tokens = await login(client, "omar", DEMO_PASSWORD)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    listed = (await client.get("/api/v1/projects/DEMO/retros", headers=headers)).json()["data"]
    assert [r["phase"] for r in listed] == ["vote", "closed"]
    voting, closed = listed
    past = (await client.get(f"/api/v1/retros/{closed['id']}", headers=headers)).json()
    assert past["sprint_id"] is not None
    assert {c["evidence"]["metric"] for c in past["cards"] if c["kind"] == "evidence"} >= {
        "carry_over_rate",
        "scope_change",
    }
    # The went-well cards became groups of their own entering the vote, with no votes.
    assert [(g["title"], g["votes"], g["rank"]) for g in past["groups"][:3]] == [
        ("Reviews are slow", 7, 1),
        ("Scope grows mid-sprint", 5, 2),
        ("Nobody owns staging", 3, 3),
    ]
    # (in an order that says nothing of when their cards were written)
    assert {(g["title"], g["votes"]) for g in past["groups"][3:]} == {
        ("Pairing on the payment adapter saved us days", 0),
        ("The test plan was ready before the first story", 0),
        ("Designs were reviewed with the whole team", 0),
    }
    assert all(c["author"] is None for c in past["cards"])
    assert sum(1 for c in past["cards"] if c["mine"]) == 3  # omar's own cards
    assert [a["done"] for a in past["actions"]] == [True, True, False]

    now = (await client.get(f"/api/v1/retros/{voting['id']}", headers=headers)).json()
    assert now["previous_retro_id"] == closed["id"]
    assert [a["item_key"] for a in now["previous_actions"]] == [
        a["item_key"] for a in past["actions"]
    ]
    assert now["votes_cast"] == 6
    assert now["votes_left"] == 5  # omar has not voted yet
    assert all(g["votes"] is None for g in now["groups"])
    cast = await client.post(
        f"/api/v1/retros/{voting['id']}/votes",
        json={"group_id": now["groups"][0]["id"]},
        headers=headers,
    )
    assert cast.status_code == 201, cast.text
    backlog = await client.get(
        "/api/v1/projects/DEMO/items",
        params={"q": "assignee:leo"},
        headers=headers,
    )
    assert past["actions"][0]["item_key"] in {i["key"] for i in backlog.json()["data"]}
