"""The demo project's planning poker: what the guide (docs/estimation.md) shows is there on
`make run`'s data: a session half done, with the third item's cards on the table."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.demo.loader import DEMO_PASSWORD, load_demo
from tests.support import login


async def test_the_demo_has_a_poker_session_half_done(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    async with db.transaction() as session:
        await load_demo(session, app.state.security)
    tokens = await login(client, "leo", DEMO_PASSWORD)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    listed = await client.get("/api/v1/projects/DEMO/estimations", headers=headers)
    [summary] = listed.json()["data"]
    assert (summary["state"], summary["items"], summary["estimated"]) == ("open", 5, 2)
    shown = (await client.get(f"/api/v1/estimations/{summary['id']}", headers=headers)).json()
    assert [p["username"] for p in shown["participants"]] == ["leo", "maya", "omar", "sara"]
    assert [i["state"] for i in shown["items"]] == [
        "estimated",
        "estimated",
        "revealed",
        "pending",
        "pending",
    ]
    assert [i["estimate"] for i in shown["items"][:2]] == [3, 5]
    current = shown["current"]
    assert current["item_key"] == shown["items"][2]["item_key"]
    [revealed] = current["rounds"]
    assert sorted(v["card"] for v in revealed["votes"]) == ["13", "8", "8", "8"]
    assert revealed["spread"]["mode"] == 8
    assert revealed["spread"]["agreement"] == 0.75
    # The demo's finished work calibrates the values the team uses.
    with_data = [c for c in revealed["calibration"] if c["finished_items"] >= 3]
    assert len(with_data) >= 3
    second = shown["items"][1]["item_key"]
    rounds = (
        await client.get(f"/api/v1/estimations/{summary['id']}/items/{second}", headers=headers)
    ).json()["rounds"]
    assert [r["number"] for r in rounds] == [1, 2]
    assert rounds[0]["reset_at"] is not None
    item = (await client.get(f"/api/v1/items/{second}", headers=headers)).json()
    assert item["estimate"] == 5
