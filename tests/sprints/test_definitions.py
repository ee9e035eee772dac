"""Numbers and rules that agree with the definitions (METRICS.md; issue 11, point 4)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.core.time import clock_at
from tests.support import new_item, team

SPRINTS = "/api/v1/projects/API/sprints"


async def test_velocity_of_one_sprint_has_no_standard_deviation(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    sprint = (await client.post(SPRINTS, json={"name": "One"}, headers=ada.headers)).json()
    await new_item(client, ada, sprint_id=sprint["id"], estimate=3, status="Done")
    await client.post(f"/api/v1/sprints/{sprint['id']}/start", headers=ada.headers)
    await client.post(f"/api/v1/sprints/{sprint['id']}/complete", json={}, headers=ada.headers)
    velocity = (await client.get("/api/v1/projects/API/velocity", headers=ada.headers)).json()
    assert velocity["mean"] == 3
    assert velocity["std_dev"] is None  # a spread needs two sprints: unknown, not 0


async def test_a_new_sprint_starts_the_day_after_the_last_one_ends(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    with clock_at(datetime(2026, 11, 5, 9, tzinfo=UTC)):
        first = await client.post(
            SPRINTS,
            json={"name": "1", "start_date": "2026-11-02", "end_date": "2026-11-13"},
            headers=ada.headers,
        )
        second = await client.post(SPRINTS, json={"name": "2"}, headers=ada.headers)
        cancelled = (await client.post(SPRINTS, json={"name": "3"}, headers=ada.headers)).json()
        await client.post(f"/api/v1/sprints/{cancelled['id']}/cancel", headers=ada.headers)
        third = await client.post(SPRINTS, json={"name": "3 again"}, headers=ada.headers)
    assert first.status_code == second.status_code == third.status_code == 201
    # The project's sprint length is 14 days.
    assert (second.json()["start_date"], second.json()["end_date"]) == ("2026-11-14", "2026-11-27")
    assert cancelled["start_date"] == "2026-11-28"
    # A cancelled sprint is not the last sprint: its dates are free again.
    assert third.json()["start_date"] == "2026-11-28"


async def test_a_new_sprint_after_a_pause_starts_today(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await client.post(
        SPRINTS,
        json={"name": "Old", "start_date": "2026-01-05", "end_date": "2026-01-16"},
        headers=ada.headers,
    )
    with clock_at(datetime(2026, 11, 5, 9, tzinfo=UTC)):
        later = await client.post(SPRINTS, json={"name": "New"}, headers=ada.headers)
    assert later.json()["start_date"] == "2026-11-05"


async def test_a_viewer_cannot_be_made_assignee_by_create_update_or_bulk(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, vic = people["ada"], people["vic"]
    created = await client.post(
        "/api/v1/projects/API/items",
        json={"title": "T", "assignee": vic.username},
        headers=ada.headers,
    )
    assert created.status_code == 422
    assert created.json()["errors"][0]["pointer"] == "/assignee"
    item = await new_item(client, ada)
    patched = await client.patch(
        f"/api/v1/items/{item['key']}", json={"assignee": vic.id}, headers=ada.headers
    )
    assert patched.status_code == 422
    bulk = await client.post(
        "/api/v1/projects/API/items/bulk",
        json={"updates": [{"key": item["key"], "assignee": vic.username}]},
        headers=ada.headers,
    )
    assert bulk.status_code == 200
    assert bulk.json()["results"][0]["status"] == 422
    assert (await client.get(f"/api/v1/items/{item['key']}", headers=ada.headers)).json()[
        "assignee"
    ] is None
    # A member can be assigned.
    ok = await client.patch(
        f"/api/v1/items/{item['key']}", json={"assignee": "bob"}, headers=ada.headers
    )
    assert ok.status_code == 200


async def test_an_estimate_off_the_project_scale_is_422(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    items = "/api/v1/projects/API/items"
    off = await client.post(items, json={"title": "T", "estimate": 4}, headers=ada.headers)
    assert off.status_code == 422
    assert off.json()["code"] == "estimate-off-scale"
    assert off.json()["errors"][0]["pointer"] == "/estimate"
    on = await client.post(items, json={"title": "T", "estimate": 0.5}, headers=ada.headers)
    assert on.status_code == 201
    key = on.json()["key"]
    assert (
        await client.patch(f"/api/v1/items/{key}", json={"estimate": 7}, headers=ada.headers)
    ).status_code == 422
    bulk = await client.post(
        f"{items}/bulk", json={"updates": [{"key": key, "estimate": 6}]}, headers=ada.headers
    )
    assert bulk.json()["results"][0]["error"]["code"] == "estimate-off-scale"
    # The t-shirt scale takes its sizes' points (XS 1 ... XXL 13), not the poker deck's 20.
    changed = await client.patch(
        "/api/v1/projects/API", json={"settings": {"estimate_scale": "tshirt"}}, headers=ada.headers
    )
    assert changed.status_code == 200, changed.text
    assert (
        await client.patch(f"/api/v1/items/{key}", json={"estimate": 20}, headers=ada.headers)
    ).status_code == 422
    assert (
        await client.patch(f"/api/v1/items/{key}", json={"estimate": 13}, headers=ada.headers)
    ).status_code == 200
    # Clearing an estimate, or changing other fields of an item estimated before, still works.
    assert (
        await client.patch(f"/api/v1/items/{key}", json={"estimate": None}, headers=ada.headers)
    ).status_code == 200


async def test_a_blocks_link_that_would_make_a_cycle_of_two_is_409(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    a, b = [str((await new_item(client, ada))["key"]) for _ in range(2)]
    first = await client.post(
        f"/api/v1/items/{a}/links", json={"type": "blocks", "target": b}, headers=ada.headers
    )
    assert first.status_code == 201
    for source, link_type, target in ((b, "blocks", a), (a, "blocked_by", b)):
        cycle = await client.post(
            f"/api/v1/items/{source}/links",
            json={"type": link_type, "target": target},
            headers=ada.headers,
        )
        assert cycle.status_code == 409, cycle.text
        assert cycle.json()["code"] == "link-cycle"
    # The blocking link still stands, alone.
    links = (await client.get(f"/api/v1/items/{a}/links", headers=ada.headers)).json()
    assert [(link["type"], link["target"]) for link in links["data"]] == [("blocks", b)]


async def test_two_opposite_blocks_links_made_at_once_are_not_both_made(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    for _ in range(5):
        a, b = [str((await new_item(client, ada))["key"]) for _ in range(2)]
        answers = await asyncio.gather(
            client.post(
                f"/api/v1/items/{a}/links",
                json={"type": "blocks", "target": b},
                headers=ada.headers,
            ),
            client.post(
                f"/api/v1/items/{b}/links",
                json={"type": "blocks", "target": a},
                headers=ada.headers,
            ),
        )
        assert sorted(r.status_code for r in answers) == [201, 409]


async def test_capacity_takes_a_member_by_username_or_id(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    sprint = (await client.post(SPRINTS, json={"name": "1"}, headers=ada.headers)).json()
    url = f"/api/v1/sprints/{sprint['id']}/capacity"
    by_name = await client.put(f"{url}/bob", json={"allocation": 0.5}, headers=ada.headers)
    assert by_name.status_code == 200, by_name.text
    by_id = await client.put(f"{url}/{bob.id}", json={"allocation": 0.25}, headers=ada.headers)
    assert by_id.status_code == 200
    bob_row = next(m for m in by_id.json()["members"] if m["user"]["id"] == bob.id)
    assert bob_row["allocation"] == 0.25
    for stranger in ("sam", people["sam"].id, "vic", "nobody"):
        refused = await client.put(f"{url}/{stranger}", json={"allocation": 1}, headers=ada.headers)
        assert refused.status_code == 404, stranger
