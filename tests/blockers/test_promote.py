"""Promoting a blocker to a risk: rated from its age and the sprint points it holds up, linked
both ways, once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.core.db import Database
from takt.core.events import Event
from takt.core.time import clock_at
from tests.blockers.kit import an_item, item_flag, raise_on
from tests.support import Account, team

MONDAY = datetime(2026, 11, 2, 9, tzinfo=UTC)  # UTC calendar, Monday to Friday 09:00-17:00


async def _sprint_with(client: AsyncClient, ada: Account, keys: list[str]) -> str:
    made = await client.post(
        "/api/v1/projects/API/sprints",
        json={"name": "S1", "start_date": "2026-11-02", "end_date": "2026-11-13"},
        headers=ada.headers,
    )
    sprint_id = str(made.json()["id"])
    added = await client.post(
        f"/api/v1/sprints/{sprint_id}/items", json={"item_keys": keys}, headers=ada.headers
    )
    assert added.status_code == 200, added.text
    assert (
        await client.post(f"/api/v1/sprints/{sprint_id}/start", headers=ada.headers)
    ).status_code == 200
    return sprint_id


async def _promote(
    client: AsyncClient, who: Account, blocker: dict[str, Any], at: datetime, **body: Any
) -> Any:
    with clock_at(at):
        return await client.post(
            f"/api/v1/blockers/{blocker['id']}/promote", json=body or None, headers=who.headers
        )


async def test_promotion_rates_the_risk_from_age_and_held_points_and_links_both(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    story = await an_item(client, bob, type="story", estimate=5)
    child = await an_item(client, bob, type="task", estimate=3, parent_key=story)
    other = await an_item(client, bob, estimate=8)
    finished = await an_item(client, bob, estimate=2)
    sprint_id = await _sprint_with(client, ada, [story, child, other, finished])
    await client.patch(f"/api/v1/items/{finished}", json={"status": "Done"}, headers=bob.headers)
    blocker = await raise_on(client, bob, story, at=MONDAY)
    # Three working days old on Thursday at 09:00 (up to five: likelihood 4); the story and
    # its child hold 8 of the sprint's 18 points (44 %, up to half: impact 4).
    promoted = await _promote(client, bob, blocker, datetime(2026, 11, 5, 9, tzinfo=UTC))
    assert promoted.status_code == 201, promoted.text
    risk = promoted.json()
    assert promoted.headers["location"] == f"/api/v1/risks/{risk['id']}"
    assert (risk["likelihood"], risk["impact"], risk["score"]) == (4, 4, 16)
    assert risk["severity"] == "high"
    assert risk["blocker_id"] == blocker["id"]
    assert risk["item_keys"] == [story]
    assert risk["sprint_ids"] == [sprint_id]
    assert risk["owner"]["username"] == "bob"
    assert risk["title"] == f"{story} blocked: Waiting for the sandbox"
    assert risk["status"] == "open"
    shown = (await client.get(f"/api/v1/blockers/{blocker['id']}", headers=bob.headers)).json()
    assert shown["risk_id"] == risk["id"]
    async with db.transaction() as session:
        types = list(await session.scalars(select(Event.type).order_by(Event.seq)))
    assert types[-2:] == ["risk.created", "blocker.promoted"]


async def test_a_blocker_is_promoted_once_and_closing_its_risk_leaves_it_open(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    key = await an_item(client, bob)
    blocker = await raise_on(client, bob, key, at=MONDAY)
    # Given values win over the defaults (a young blocker outside any sprint: 2 and 1).
    first = await _promote(client, bob, blocker, MONDAY, likelihood=5, impact=5, owner=None)
    assert (first.json()["score"], first.json()["severity"]) == (25, "critical")
    assert first.json()["owner"] is None
    again = await _promote(client, bob, blocker, MONDAY)
    assert again.status_code == 409
    assert again.json()["code"] == "blocker-already-promoted"
    risk_url = f"/api/v1/risks/{first.json()['id']}"
    closed = await client.patch(risk_url, json={"status": "closed"}, headers=bob.headers)
    assert closed.status_code == 200
    shown = (await client.get(f"/api/v1/blockers/{blocker['id']}", headers=bob.headers)).json()
    assert shown["status"] == "open"
    assert await item_flag(client, bob, key) is True
    # Deleting the risk frees the blocker, which records that it no longer names a risk.
    assert (await client.delete(risk_url, headers=bob.headers)).status_code == 204
    freed = (await client.get(f"/api/v1/blockers/{blocker['id']}", headers=bob.headers)).json()
    assert freed["risk_id"] is None
    assert freed["version"] == shown["version"] + 1
    second = await _promote(client, bob, blocker, MONDAY)
    assert second.status_code == 201
    assert (second.json()["likelihood"], second.json()["impact"]) == (2, 1)


async def test_a_resolved_blocker_is_not_promoted(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    blocker = await raise_on(client, bob, await an_item(client, bob))
    await client.post(f"/api/v1/blockers/{blocker['id']}/resolve", headers=bob.headers)
    refused = await _promote(client, bob, blocker, MONDAY)
    assert refused.status_code == 409
    assert refused.json()["code"] == "blocker-not-open"
    assert (await client.get("/api/v1/projects/API/risks", headers=bob.headers)).json()[
        "data"
    ] == []


async def test_a_promotion_naming_a_stranger_as_owner_creates_nothing(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    blocker = await raise_on(client, bob, await an_item(client, bob))
    for owner in ("sam", "vic"):
        refused = await _promote(client, bob, blocker, MONDAY, owner=owner)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["pointer"] == "/owner"
    shown = (await client.get(f"/api/v1/blockers/{blocker['id']}", headers=bob.headers)).json()
    assert shown["risk_id"] is None
