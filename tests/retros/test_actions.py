"""Action items become work items in one call, and the project's next retro opens with them and
their status as it is now."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.core.db import Database
from takt.items.models import Item
from tests.retros.kit import add_card, advance, advance_to, get_retro, join, new_retro
from tests.support import team


async def test_an_action_item_is_a_task_for_its_owner_linked_to_the_retro(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    rid = (await new_retro(client, ada, title="Sprint 7 retro"))["id"]
    await add_card(client, bob, rid, "Reviews wait")
    await advance_to(client, ada, rid, "discuss")
    group = (await get_retro(client, ada, rid))["groups"][0]["id"]
    made = await client.post(
        f"/api/v1/retros/{rid}/actions",
        json={
            "title": "Review within a day",
            "description": "Rotate a reviewer of the day.",
            "owner": "bob",
            "due_date": "2026-12-11",
            "group_id": group,
        },
        headers=ada.headers,
    )
    assert made.status_code == 201, made.text
    action = made.json()
    assert (action["retro_id"], action["group_id"], action["title"]) == (
        rid,
        group,
        "Review within a day",
    )
    assert action["assignee"]["username"] == "bob"
    assert (action["due_date"], action["done"], action["deleted"]) == ("2026-12-11", False, False)
    assert made.headers["Location"] == f"/api/v1/items/{action['item_key']}"
    item = (await client.get(f"/api/v1/items/{action['item_key']}", headers=bob.headers)).json()
    assert (item["type"], item["assignee"]["username"], item["due_date"]) == (
        "task",
        "bob",
        "2026-12-11",
    )
    assert item["description"].startswith("Rotate a reviewer of the day.")
    assert f"/api/v1/retros/{rid}" in item["description"]
    assert "Sprint 7 retro" in item["description"]
    backlog = await client.get("/api/v1/projects/API/items", headers=bob.headers)
    assert action["item_key"] in {i["key"] for i in backlog.json()["data"]}
    history = await client.get(f"/api/v1/items/{action['item_key']}/history", headers=bob.headers)
    assert history.json()["data"][0]["actor"]["username"] == "ada"
    assert [a["id"] for a in (await get_retro(client, bob, rid))["actions"]] == [action["id"]]


async def test_an_owner_must_be_a_member_who_can_work(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    rid = (await new_retro(client, ada))["id"]
    await advance_to(client, ada, rid, "discuss")
    for owner in ("vic", "sam", "nobody"):
        refused = await client.post(
            f"/api/v1/retros/{rid}/actions",
            json={"title": "T", "owner": owner},
            headers=bob.headers,
        )
        assert refused.status_code == 422, owner
        assert [e["pointer"] for e in refused.json()["errors"]] == ["/owner"]
    wrong_group = await client.post(
        f"/api/v1/retros/{rid}/actions",
        json={"title": "T", "owner": "bob", "group_id": "nope"},
        headers=bob.headers,
    )
    assert [e["pointer"] for e in wrong_group.json()["errors"]] == ["/group_id"]
    items = await client.get("/api/v1/projects/API/items", headers=bob.headers)
    assert items.json()["data"] == []


async def test_the_next_retro_opens_with_the_last_ones_actions_and_their_status_now(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    cyd = await join(client, app, db, ada, "cyd")
    first = (await new_retro(client, ada, title="First"))["id"]
    await advance_to(client, ada, first, "discuss")
    keys = []
    for title, owner in (("Fix flaky tests", "bob"), ("Write the runbook", "cyd")):
        made = await client.post(
            f"/api/v1/retros/{first}/actions",
            json={"title": title, "owner": owner},
            headers=cyd.headers,
        )
        keys.append(made.json()["item_key"])
    await advance(client, ada, first, "closed")
    finished = await client.patch(
        f"/api/v1/items/{keys[0]}", json={"status": "Done"}, headers=bob.headers
    )
    assert finished.status_code == 200
    second = await new_retro(client, bob, title="Second")
    assert second["previous_retro_id"] == first
    assert second["actions"] == []
    opened = [
        (a["item_key"], a["done"], a["status"]["category"]) for a in second["previous_actions"]
    ]
    assert opened == [(keys[0], True, "done"), (keys[1], False, "backlog")]
    # Their status as it is now, not as it was when the retro was created.
    started = await client.patch(
        f"/api/v1/items/{keys[1]}", json={"status": "In Progress"}, headers=cyd.headers
    )
    assert started.status_code == 200
    trashed = await client.delete(f"/api/v1/items/{keys[0]}", headers=ada.headers)
    assert trashed.status_code == 204
    later = await get_retro(client, ada, second["id"])
    assert [(a["status"]["name"], a["deleted"]) for a in later["previous_actions"]] == [
        ("Done", True),
        ("In Progress", False),
    ]
    assert [a["assignee"]["username"] for a in later["previous_actions"]] == ["bob", "cyd"]
    # A third retro opens with the second's actions (none), not the first's.
    third = await new_retro(client, ada)
    assert (third["previous_retro_id"], third["previous_actions"]) == (second["id"], [])


async def test_a_retro_holds_at_most_a_hundred_action_items(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """The retro lists its action items (and the next one its predecessor's) in every answer:
    like its cards and groups, they are bounded, so one member can't make every read of the
    retro as long as they like."""
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    rid = (await new_retro(client, ada))["id"]
    await advance_to(client, ada, rid, "discuss")
    url = f"/api/v1/retros/{rid}/actions"
    for n in range(100):
        made = await client.post(
            url, json={"title": f"Act {n}", "owner": "bob"}, headers=bob.headers
        )
        assert made.status_code == 201, made.text
    full = await client.post(url, json={"title": "One more", "owner": "bob"}, headers=bob.headers)
    assert full.status_code == 409, full.text
    assert full.json()["code"] == "retro-full"
    async with db.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(Item)) == 100
    assert len((await get_retro(client, ada, rid))["actions"]) == 100
    await advance(client, ada, rid, "closed")
    following = await new_retro(client, ada)
    assert len(following["previous_actions"]) == 100
