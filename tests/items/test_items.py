"""Work items through the API: fields, keys, workflow timestamps, hierarchy, ranking, links,
comments and history."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.core.db import Database
from takt.core.events import Event
from takt.items.models import Item
from tests.support import make_project, new_item, team

ITEMS = "/api/v1/projects/API/items"


async def test_create_item_with_every_field(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    await client.post("/api/v1/projects/API/labels", json={"name": "api"}, headers=ada.headers)
    epic = await new_item(client, ada, type="epic", title="Checkout")
    body = {
        "type": "story",
        "title": "Pay by card",
        "description": "As a *buyer*…",
        "status": "To Do",
        "priority": "high",
        "assignee": "bob",
        "estimate": 5,
        "labels": ["API"],
        "parent_key": epic["key"],
        "due_date": "2026-12-24",
        "blocked": True,
    }
    response = await client.post(ITEMS, json=body, headers=ada.headers)
    assert response.status_code == 201
    item = response.json()
    assert item["key"] == "API-2"
    assert response.headers["location"] == "/api/v1/items/API-2"
    # Its version, then a digest of what the item shows (test_representation_etag.py).
    assert response.headers["etag"].startswith(f'"v{item["version"]}-')
    assert item["status"]["name"] == "To Do"
    assert item["status"]["category"] == "todo"
    assert item["assignee"]["username"] == "bob"
    assert item["reporter"]["username"] == "ada"
    assert item["labels"] == ["api"]
    assert item["parent_key"] == "API-1"
    assert item["priority"] == "high"
    assert item["estimate"] == 5
    assert item["due_date"] == "2026-12-24"
    assert item["blocked"] is True
    assert item["description"] == "As a *buyer*…"
    assert item["project_key"] == "API"


async def test_server_owned_fields_are_refused(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    for field, value in (
        ("key", "API-9"),
        ("rank", "0"),
        ("version", 3),
        ("reporter", "bob"),
        ("created_at", "2020-01-01T00:00:00Z"),
        ("started_at", None),
    ):
        response = await client.post(ITEMS, json={"title": "x", field: value}, headers=ada.headers)
        assert response.status_code == 422, field
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Item)) == 0


async def test_bounds_are_enforced(client: AsyncClient, app: FastAPI, db: Database) -> None:
    ada = (await team(app, db))["ada"]
    for body in (
        {"title": ""},
        {"title": "x" * 256},
        {"title": "x", "description": "d" * 65537},
        {"title": "x", "type": "saga"},
        {"title": "x", "priority": "asap"},
        {"title": "x", "estimate": -1},
        {"title": "x", "labels": ["a"] * 21},
    ):
        assert (await client.post(ITEMS, json=body, headers=ada.headers)).status_code == 422


async def test_fifty_concurrent_creates_get_fifty_distinct_keys(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    responses = await asyncio.gather(
        *(client.post(ITEMS, json={"title": f"item {i}"}, headers=ada.headers) for i in range(50))
    )
    assert [r.status_code for r in responses] == [201] * 50
    keys = {r.json()["key"] for r in responses}
    assert keys == {f"API-{n}" for n in range(1, 51)}


async def test_keys_are_never_reused(client: AsyncClient, app: FastAPI, db: Database) -> None:
    ada = (await team(app, db))["ada"]
    first = await new_item(client, ada)
    assert (
        await client.delete(f"/api/v1/items/{first['key']}", headers=ada.headers)
    ).status_code == 204
    second = await new_item(client, ada)
    assert second["key"] == "API-2"


async def test_started_and_finished_follow_the_workflow(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    item = await new_item(client, ada)
    url = f"/api/v1/items/{item['key']}"
    assert item["started_at"] is None
    started = (await client.patch(url, json={"status": "In Progress"}, headers=ada.headers)).json()
    assert started["started_at"] is not None
    back = (await client.patch(url, json={"status": "To Do"}, headers=ada.headers)).json()
    again = (await client.patch(url, json={"status": "In Progress"}, headers=ada.headers)).json()
    assert again["started_at"] == started["started_at"] == back["started_at"]
    done = (await client.patch(url, json={"status": "Done"}, headers=ada.headers)).json()
    assert done["finished_at"] is not None
    reopened = (await client.patch(url, json={"status": "In Review"}, headers=ada.headers)).json()
    assert reopened["finished_at"] is None


async def test_hierarchy_rules(client: AsyncClient, app: FastAPI, db: Database) -> None:
    ada = (await team(app, db))["ada"]
    epic = await new_item(client, ada, type="epic")
    story = await new_item(client, ada, type="story", parent_key=epic["key"])
    task = await new_item(client, ada, type="task", parent_key=story["key"])
    under_task = await client.post(
        ITEMS, json={"title": "x", "type": "story", "parent_key": task["key"]}, headers=ada.headers
    )
    assert under_task.status_code == 422
    assert under_task.json()["code"] == "invalid-parent"
    epic_under_story = await client.patch(
        f"/api/v1/items/{epic['key']}", json={"parent_key": story["key"]}, headers=ada.headers
    )
    assert epic_under_story.status_code == 422
    missing = await client.post(
        ITEMS, json={"title": "x", "parent_key": "API-99"}, headers=ada.headers
    )
    assert missing.status_code == 422
    has_children = await client.delete(f"/api/v1/items/{epic['key']}", headers=ada.headers)
    assert has_children.status_code == 409


async def test_story_cannot_become_its_own_ancestor(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    first = await new_item(client, ada, type="epic")
    second = await new_item(client, ada, type="epic")
    story = await new_item(client, ada, type="story", parent_key=first["key"])
    # Re-typing the parent so that the story could hold it would still form a cycle.
    await client.patch(
        f"/api/v1/items/{second['key']}", json={"parent_key": None}, headers=ada.headers
    )
    cyc = await client.patch(
        f"/api/v1/items/{first['key']}",
        json={"type": "task", "parent_key": story["key"]},
        headers=ada.headers,
    )
    assert cyc.status_code == 422
    assert cyc.json()["code"] == "invalid-parent"


async def test_assignee_must_be_a_member(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await team(app, db)
    ada = people["ada"]
    for who in ("sam", people["sam"].id, "ghost"):
        refused = await client.post(
            ITEMS, json={"title": "x", "assignee": who}, headers=ada.headers
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["pointer"] == "/assignee"
    by_id = await client.post(
        ITEMS, json={"title": "x", "assignee": people["bob"].id}, headers=ada.headers
    )
    assert by_id.json()["assignee"]["username"] == "bob"


async def test_references_into_another_project_change_nothing(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    await make_project(db, ada, "WEB")
    foreign = await new_item(client, ada, "WEB", type="epic")
    mine = await new_item(client, ada)
    before = (await client.get(f"/api/v1/items/{mine['key']}", headers=ada.headers)).json()
    for body in ({"parent_key": foreign["key"]}, {"status": "Nope"}):
        response = await client.patch(
            f"/api/v1/items/{mine['key']}", json=body, headers=ada.headers
        )
        assert response.status_code in (404, 422)
    link = await client.post(
        f"/api/v1/items/{mine['key']}/links",
        json={"type": "blocks", "target": foreign["key"]},
        headers=ada.headers,
    )
    assert link.status_code == 404
    move = await client.post(
        f"/api/v1/items/{mine['key']}/move", json={"before": foreign["key"]}, headers=ada.headers
    )
    assert move.status_code == 422
    after = (await client.get(f"/api/v1/items/{mine['key']}", headers=ada.headers)).json()
    assert after == before


async def test_stranger_and_viewer(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await team(app, db)
    item = await new_item(client, people["ada"])
    url = f"/api/v1/items/{item['key']}"
    assert (await client.get(url, headers=people["sam"].headers)).status_code == 404
    assert (await client.get(url, headers=people["vic"].headers)).status_code == 200
    assert (
        await client.patch(url, json={"title": "x"}, headers=people["vic"].headers)
    ).status_code == 403
    assert (
        await client.get("/api/v1/items/NOPE-1", headers=people["ada"].headers)
    ).status_code == 404
    assert (
        await client.get("/api/v1/items/garbage", headers=people["ada"].headers)
    ).status_code == 404


async def test_move_changes_one_row(client: AsyncClient, app: FastAPI, db: Database) -> None:
    ada = (await team(app, db))["ada"]
    keys = [(await new_item(client, ada, title=f"n{i}"))["key"] for i in range(5)]
    async with db.transaction() as session:
        before = dict((await session.execute(select(Item.key, Item.version))).all())
    moved = await client.post(
        f"/api/v1/items/{keys[4]}/move", json={"before": keys[1]}, headers=ada.headers
    )
    assert moved.status_code == 200
    async with db.transaction() as session:
        after = dict((await session.execute(select(Item.key, Item.version))).all())
    assert [k for k in keys if before[k] != after[k]] == [keys[4]]
    order = await client.get(ITEMS, params={"sort": "rank"}, headers=ada.headers)
    assert [i["key"] for i in order.json()["data"]] == [keys[0], keys[4], keys[1], keys[2], keys[3]]
    after_last = await client.post(
        f"/api/v1/items/{keys[0]}/move", json={"after": keys[3]}, headers=ada.headers
    )
    assert after_last.status_code == 200
    order = await client.get(ITEMS, params={"sort": "rank"}, headers=ada.headers)
    assert [i["key"] for i in order.json()["data"]] == [keys[4], keys[1], keys[2], keys[3], keys[0]]
    both = await client.post(
        f"/api/v1/items/{keys[0]}/move",
        json={"before": keys[1], "after": keys[2]},
        headers=ada.headers,
    )
    assert both.status_code == 422


async def test_links_show_from_both_ends(client: AsyncClient, app: FastAPI, db: Database) -> None:
    ada = (await team(app, db))["ada"]
    a = (await new_item(client, ada))["key"]
    b = (await new_item(client, ada))["key"]
    created = await client.post(
        f"/api/v1/items/{a}/links", json={"type": "blocked_by", "target": b}, headers=ada.headers
    )
    assert created.status_code == 201
    from_b = (await client.get(f"/api/v1/items/{b}/links", headers=ada.headers)).json()["data"]
    assert [(link["type"], link["target"]) for link in from_b] == [("blocks", a)]
    dup = await client.post(
        f"/api/v1/items/{b}/links", json={"type": "blocks", "target": a}, headers=ada.headers
    )
    assert dup.status_code == 409
    self_link = await client.post(
        f"/api/v1/items/{a}/links", json={"type": "relates_to", "target": a}, headers=ada.headers
    )
    assert self_link.status_code == 422
    removed = await client.delete(
        f"/api/v1/items/{b}/links", params={"type": "blocks", "target": a}, headers=ada.headers
    )
    assert removed.status_code == 204
    for key in (a, b):
        assert (await client.get(f"/api/v1/items/{key}/links", headers=ada.headers)).json()[
            "data"
        ] == []


async def test_comments_resolve_mentions_of_members(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    item = (await new_item(client, ada))["key"]
    comment = await client.post(
        f"/api/v1/items/{item}/comments",
        json={"body": "@bob and @VIC please look; @sam is not here, mail me@example.com"},
        headers=ada.headers,
    )
    assert comment.status_code == 201
    body = comment.json()
    assert sorted(m["username"] for m in body["mentions"]) == ["bob", "vic"]
    async with db.transaction() as session:
        mentioned = (
            await session.scalars(select(Event).where(Event.type == "comment.mentioned"))
        ).all()
    assert sorted(e.data["username"] for e in mentioned) == ["bob", "vic"]
    not_author = await client.patch(
        f"/api/v1/items/{item}/comments/{body['id']}", json={"body": "hijack"}, headers=bob.headers
    )
    assert not_author.status_code == 403
    edited = await client.patch(
        f"/api/v1/items/{item}/comments/{body['id']}",
        json={"body": "now only @bob"},
        headers=ada.headers,
    )
    assert edited.json()["body"] == "now only @bob"
    listed = await client.get(f"/api/v1/items/{item}/comments", headers=bob.headers)
    assert [c["body"] for c in listed.json()["data"]] == ["now only @bob"]
    deleted = await client.delete(
        f"/api/v1/items/{item}/comments/{body['id']}", headers=ada.headers
    )
    assert deleted.status_code == 204


async def test_history_records_old_and_new_values(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    item = await new_item(client, ada, title="Old title", estimate=3)
    url = f"/api/v1/items/{item['key']}"
    await client.patch(
        url,
        json={"title": "New title", "estimate": 5, "assignee": "bob", "status": "In Progress"},
        headers=ada.headers,
    )
    await client.post(f"{url}/comments", json={"body": "hi"}, headers=ada.headers)
    history = (await client.get(f"{url}/history", headers=people["vic"].headers)).json()["data"]
    assert [e["type"] for e in history] == ["item.created", "item.updated", "comment.created"]
    update = history[1]
    assert update["changes"] == {
        "title": ["Old title", "New title"],
        "estimate": [3, 5],
        "assignee": [None, "bob"],
        "status": ["Backlog", "In Progress"],
        "category": ["backlog", "in_progress"],
    }
    assert update["actor"]["username"] == "ada"
    assert update["project_key"] == "API"


async def test_failed_update_writes_no_event(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    item = await new_item(client, ada)
    async with db.transaction() as session:
        before = await session.scalar(select(func.count()).select_from(Event))
    refused = await client.patch(
        f"/api/v1/items/{item['key']}",
        json={"title": "ok", "assignee": "ghost"},
        headers=ada.headers,
    )
    assert refused.status_code == 422
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Event)) == before
    current = (await client.get(f"/api/v1/items/{item['key']}", headers=ada.headers)).json()
    assert current["title"] == item["title"]


async def test_project_event_log_pulls_by_cursor(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    for i in range(3):
        await new_item(client, ada, title=f"t{i}")
    first = await client.get(
        "/api/v1/projects/API/events",
        params={"types": "item.created", "limit": 2},
        headers=ada.headers,
    )
    page = first.json()
    assert [e["data"]["title"] for e in page["data"]] == ["t0", "t1"]
    rest = (
        await client.get(
            "/api/v1/projects/API/events",
            params={"types": "item.created", "after": page["next_cursor"]},
            headers=ada.headers,
        )
    ).json()
    assert [e["data"]["title"] for e in rest["data"]] == ["t2"]
    await new_item(client, ada, title="t3")
    newer = (
        await client.get(
            "/api/v1/projects/API/events",
            params={"types": "item.created", "after": rest["next_cursor"]},
            headers=ada.headers,
        )
    ).json()
    assert [e["data"]["title"] for e in newer["data"]] == ["t3"]


async def test_deleted_item_is_gone_but_its_history_stays(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    item = await new_item(client, ada)
    assert (
        await client.delete(f"/api/v1/items/{item['key']}", headers=ada.headers)
    ).status_code == 204
    assert (
        await client.get(f"/api/v1/items/{item['key']}", headers=ada.headers)
    ).status_code == 404
    log = (
        await client.get(
            "/api/v1/projects/API/events", params={"types": "item.deleted"}, headers=ada.headers
        )
    ).json()
    assert log["data"][0]["data"]["key"] == item["key"]


async def test_nul_characters_are_refused_not_500(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    body = await client.post(ITEMS, json={"title": "bad\u0000title"}, headers=ada.headers)
    assert body.status_code == 422
    label = await client.post(
        "/api/v1/projects/API/labels", json={"name": "x\u0000"}, headers=ada.headers
    )
    assert label.status_code == 422
    path = await client.get("/api/v1/items/API-1%00", headers=ada.headers)
    assert 400 <= path.status_code < 500
    query = await client.get(ITEMS, params={"q": 'status:"a\u0000b"'}, headers=ada.headers)
    assert 400 <= query.status_code < 500
