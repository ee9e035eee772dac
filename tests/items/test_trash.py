"""Deleting an item moves it to the trash: invisible everywhere, a scope removal for its sprint,
restorable for 30 days, then purged; its key is never handed out again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.core.db import Database
from takt.core.time import clock_at
from takt.items.models import Item
from takt.items.trash import purge_trash
from tests.support import Account, new_item, team


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


class Script:
    """Calls at pinned moments, as the sprint scripts do."""

    def __init__(self, client: AsyncClient, who: Account) -> None:
        self.client, self.who = client, who

    async def call(
        self, when: datetime, method: str, url: str, *, who: Account | None = None, **kw: Any
    ) -> Any:
        with clock_at(when):
            response = await self.client.request(
                method, url, headers=(who or self.who).headers, **kw
            )
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    async def status(
        self, when: datetime, method: str, url: str, *, who: Account | None = None, **kw: Any
    ) -> int:
        with clock_at(when):
            response = await self.client.request(
                method, url, headers=(who or self.who).headers, **kw
            )
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
        return response.status_code

    async def item(self, when: datetime, title: str, **fields: Any) -> str:
        body = {"title": title, **fields}
        created = await self.call(when, "POST", "/api/v1/projects/API/items", json=body)
        return str(created["key"])


async def _active_sprint(s: Script) -> tuple[str, dict[str, str]]:
    """Sprint 2026-11-02..13 started on the 2nd with A (3), B (5) and C (8): committed 16."""
    sprint = await s.call(
        at(1),
        "POST",
        "/api/v1/projects/API/sprints",
        json={"name": "Sprint 1", "start_date": "2026-11-02", "end_date": "2026-11-13"},
    )
    sid = str(sprint["id"])
    keys = {
        name: await s.item(at(1), name, estimate=est, sprint_id=sid)
        for name, est in (("A", 3), ("B", 5), ("C", 8))
    }
    await s.call(at(2, 9), "POST", f"/api/v1/sprints/{sid}/start")
    await s.call(at(3, 10), "PATCH", f"/api/v1/items/{keys['A']}", json={"status": "Done"})
    # Re-estimated after the start: the removal counts the estimate it has when deleted.
    await s.call(at(3, 11), "PATCH", f"/api/v1/items/{keys['C']}", json={"estimate": 13})
    return sid, keys


def _day(burndown: dict[str, Any], day: str) -> dict[str, Any]:
    found: dict[str, Any] = next(d for d in burndown["days"] if d["date"] == day)
    return found


async def test_deleting_an_item_of_an_active_sprint_is_a_scope_removal(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    s = Script(client, (await team(app, db))["ada"])
    sid, keys = await _active_sprint(s)
    await s.call(at(4, 12), "DELETE", f"/api/v1/items/{keys['C']}")

    burndown = await s.call(at(5, 18), "GET", f"/api/v1/sprints/{sid}/burndown")
    removal = _day(burndown, "2026-11-04")["scope_changes"]
    assert [(c["key"], c["change"], c["estimate"]) for c in removal] == [(keys["C"], "removed", 13)]
    assert _day(burndown, "2026-11-03")["scope_points"] == 21
    for day in ("2026-11-04", "2026-11-05"):
        point = _day(burndown, day)
        assert (point["scope_points"], point["remaining_points"]) == (8, 5)
        assert point["completed_points"] + point["remaining_points"] == point["scope_points"]

    report = (
        await s.call(
            at(13, 16), "POST", f"/api/v1/sprints/{sid}/complete", json={"carry_over_to": "backlog"}
        )
    )["report"]
    assert report["committed"] == {"items": 3, "points": 16}
    assert report["completed"] == {"items": 1, "points": 3}
    assert report["removed"] == {"items": 1, "points": 13}
    assert report["added"] == {"items": 0, "points": 0}
    assert report["carried_over"] == {"items": 1, "points": 5}
    assert report["scope_change"] == round(-13 / 16, 4)
    velocity = await s.call(at(13, 17), "GET", "/api/v1/projects/API/velocity")
    assert [(v["committed_points"], v["completed_points"]) for v in velocity["sprints"]] == [
        (16, 3)
    ]


async def test_restoring_into_an_active_sprint_is_a_scope_addition(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    s = Script(client, (await team(app, db))["ada"])
    sid, keys = await _active_sprint(s)
    await s.call(at(4, 12), "DELETE", f"/api/v1/items/{keys['C']}")
    restored = await s.call(at(5, 12), "POST", f"/api/v1/items/{keys['C']}/restore")
    assert (restored["key"], restored["sprint_id"], restored["estimate"]) == (keys["C"], sid, 13)
    assert (await s.call(at(5, 13), "GET", f"/api/v1/items/{keys['C']}"))["title"] == "C"

    burndown = await s.call(at(6, 18), "GET", f"/api/v1/sprints/{sid}/burndown")
    added = _day(burndown, "2026-11-05")["scope_changes"]
    assert [(c["key"], c["change"], c["estimate"]) for c in added] == [(keys["C"], "added", 13)]
    assert _day(burndown, "2026-11-04")["scope_points"] == 8
    assert _day(burndown, "2026-11-05")["scope_points"] == 21
    report = (
        await s.call(
            at(13, 16), "POST", f"/api/v1/sprints/{sid}/complete", json={"carry_over_to": "backlog"}
        )
    )["report"]
    assert report["committed"] == {"items": 3, "points": 16}
    assert report["removed"] == {"items": 1, "points": 13}
    assert report["added"] == {"items": 1, "points": 13}
    assert report["carried_over"] == {"items": 2, "points": 18}


async def test_an_item_restored_after_its_sprint_ended_returns_to_the_backlog(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    s = Script(client, (await team(app, db))["ada"])
    sid, keys = await _active_sprint(s)
    await s.call(at(4, 12), "DELETE", f"/api/v1/items/{keys['C']}")
    await s.call(
        at(13, 16), "POST", f"/api/v1/sprints/{sid}/complete", json={"carry_over_to": "backlog"}
    )
    restored = await s.call(at(16), "POST", f"/api/v1/items/{keys['C']}/restore")
    assert restored["sprint_id"] is None
    report = await s.call(at(16, 13), "GET", f"/api/v1/sprints/{sid}/report")
    assert report["removed"] == {"items": 1, "points": 13}


async def test_the_trash_lists_deleted_items_newest_first_page_by_page(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    s = Script(client, people["ada"])
    keys = [await s.item(at(2), f"Item {n}") for n in range(3)]
    for hour, key in enumerate(keys, start=9):
        await s.call(at(3, hour), "DELETE", f"/api/v1/items/{key}", who=people["bob"])
    first = await s.call(at(4), "GET", "/api/v1/projects/API/trash", params={"limit": 2})
    assert [i["key"] for i in first["data"]] == [keys[2], keys[1]]
    entry = first["data"][0]
    assert entry["deleted_by"]["username"] == "bob"
    assert entry["deleted_at"] == "2026-11-03T11:00:00Z"
    assert entry["purge_at"] == "2026-12-03T11:00:00Z"
    second = await s.call(
        at(4),
        "GET",
        "/api/v1/projects/API/trash",
        params={"limit": 2, "cursor": first["next_cursor"]},
    )
    assert [i["key"] for i in second["data"]] == [keys[0]]
    assert second["next_cursor"] is None

    await s.call(at(4, 13), "POST", f"/api/v1/items/{keys[1]}/restore")
    after = await s.call(at(4, 14), "GET", "/api/v1/projects/API/trash")
    assert [i["key"] for i in after["data"]] == [keys[2], keys[0]]
    # A viewer may look into the trash; the trash of a project you can't see is not found.
    assert await s.status(at(4), "GET", "/api/v1/projects/API/trash", who=people["vic"]) == 200
    assert await s.status(at(4), "GET", "/api/v1/projects/API/trash", who=people["sam"]) == 404


async def test_a_trashed_item_is_not_found_on_any_read_path(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    s = Script(client, (await team(app, db))["ada"])
    await s.call(at(1), "POST", "/api/v1/projects/API/labels", json={"name": "api"})
    sprint = await s.call(
        at(1),
        "POST",
        "/api/v1/projects/API/sprints",
        json={"name": "Next", "start_date": "2026-11-16", "end_date": "2026-11-27"},
    )
    sid = sprint["id"]
    story = await s.item(at(1), "Story", type="story")
    gone = await s.item(at(1), "Gone", parent_key=story, labels=["api"], sprint_id=sid, estimate=2)
    kept = await s.item(at(1), "Kept", sprint_id=sid, estimate=1)
    await s.call(
        at(1), "POST", f"/api/v1/items/{kept}/links", json={"type": "blocks", "target": gone}
    )
    await s.call(at(1), "POST", f"/api/v1/items/{gone}/comments", json={"body": "note"})
    await s.call(at(2), "DELETE", f"/api/v1/items/{gone}")

    when = at(3)
    reads: tuple[tuple[str, str, dict[str, Any]], ...] = (
        ("GET", f"/api/v1/items/{gone}", {}),
        ("PATCH", f"/api/v1/items/{gone}", {"json": {"title": "x"}}),
        ("DELETE", f"/api/v1/items/{gone}", {}),
        ("POST", f"/api/v1/items/{gone}/move", {"json": {"after": kept}}),
        ("GET", f"/api/v1/items/{gone}/links", {}),
        ("GET", f"/api/v1/items/{gone}/comments", {}),
        ("POST", f"/api/v1/items/{gone}/comments", {"json": {"body": "x"}}),
        ("GET", f"/api/v1/items/{gone}/history", {}),
        ("DELETE", f"/api/v1/sprints/{sid}/items/{gone}", {}),
    )
    for method, path, kw in reads:
        assert await s.status(when, method, path, **kw) == 404, (method, path)
    # Naming it from elsewhere finds nothing either.
    for method, path, body in (
        ("POST", f"/api/v1/items/{kept}/links", {"type": "relates_to", "target": gone}),
        ("POST", f"/api/v1/items/{kept}/move", {"before": gone}),
        ("POST", "/api/v1/projects/API/items", {"title": "child", "parent_key": gone}),
        ("POST", f"/api/v1/sprints/{sid}/items", {"item_keys": [gone]}),
    ):
        assert 400 <= await s.status(when, method, path, json=body) < 500, (method, path)
    bulk = await s.call(
        when,
        "POST",
        "/api/v1/projects/API/items/bulk",
        json={"updates": [{"key": gone, "priority": "high"}]},
    )
    assert bulk["results"][0]["status"] == 404

    links = await s.call(when, "GET", f"/api/v1/items/{kept}/links")
    assert links["data"] == []
    listed = await s.call(
        when, "GET", "/api/v1/projects/API/items", params={"facets": "label,type"}
    )
    assert gone not in [i["key"] for i in listed["data"]]
    assert listed["facets"]["label"] == {}
    assert listed["facets"]["type"] == {"story": 1, "task": 1}
    for q in (f"key:{gone}", f"parent:{story}", "label:api", f"sprint:{sid}"):
        found = await s.call(when, "GET", "/api/v1/projects/API/items", params={"q": q})
        assert gone not in [i["key"] for i in found["data"]], q
    board = await s.call(when, "GET", "/api/v1/projects/API/board", params={"sprint_id": sid})
    assert sum(c["count"] for c in board["columns"]) == 1
    assert [i["key"] for c in board["columns"] for i in c["items"]] == [kept]
    # Its parent has no child left, so it can go to the trash too.
    await s.call(when, "DELETE", f"/api/v1/items/{story}")
    # The planned sprint starts with what is left in it.
    started = await s.call(at(16, 9), "POST", f"/api/v1/sprints/{sid}/start")
    assert started["commitment"]["keys"] == [kept]
    assert started["commitment"]["points"] == 1


async def test_who_may_restore(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await team(app, db)
    s = Script(client, people["ada"])
    key = await s.item(at(2), "Oops")
    await s.call(at(2, 13), "DELETE", f"/api/v1/items/{key}")
    url = f"/api/v1/items/{key}/restore"
    assert await s.status(at(3), "POST", url, who=people["sam"]) == 404  # not a member
    assert await s.status(at(3), "POST", url, who=people["vic"]) == 403  # a viewer
    assert await s.status(at(3), "POST", url, who=people["bob"]) == 200  # a member
    assert await s.status(at(3), "POST", url, who=people["bob"]) == 404  # not in the trash now


async def test_a_child_waits_for_its_parent_to_be_restored(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    s = Script(client, (await team(app, db))["ada"])
    story = await s.item(at(2), "Story", type="story")
    task = await s.item(at(2), "Task", parent_key=story)
    assert await s.status(at(2, 13), "DELETE", f"/api/v1/items/{story}") == 409
    await s.call(at(2, 14), "DELETE", f"/api/v1/items/{task}")
    await s.call(at(2, 15), "DELETE", f"/api/v1/items/{story}")
    assert await s.status(at(3), "POST", f"/api/v1/items/{task}/restore") == 409
    await s.call(at(3, 13), "POST", f"/api/v1/items/{story}/restore")
    restored = await s.call(at(3, 14), "POST", f"/api/v1/items/{task}/restore")
    assert restored["parent_key"] == story


async def _rows(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Item)) or 0)


async def test_after_30_days_the_trash_is_purged_and_keys_are_not_reused(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    s = Script(client, (await team(app, db))["ada"])
    old = await s.item(at(2), "Old")
    recent = await s.item(at(2), "Recent")
    await s.call(at(2, 13), "DELETE", f"/api/v1/items/{old}")
    await s.call(at(20), "DELETE", f"/api/v1/items/{recent}")

    # Past 30 days an item can't be restored and leaves the trash list, purged or not yet.
    later = at(2, 13) + timedelta(days=30, minutes=1)
    trash = await s.call(later, "GET", "/api/v1/projects/API/trash")
    assert [i["key"] for i in trash["data"]] == [recent]
    assert await s.status(later, "POST", f"/api/v1/items/{old}/restore") == 404
    assert await _rows(db) == 2

    async with db.transaction() as session:
        assert await purge_trash(session, now=later) == 1
        assert await purge_trash(session, now=later) == 0
    assert await _rows(db) == 1
    # The next key continues the sequence: a purged item's key is never handed out again.
    assert await s.item(later, "New") == "API-3"
    await s.call(later, "POST", f"/api/v1/items/{recent}/restore")


async def test_deleting_an_item_purges_the_projects_expired_trash(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    s = Script(client, (await team(app, db))["ada"])
    old = await s.item(at(2), "Old")
    other = await s.item(at(2), "Other")
    await s.call(at(2, 13), "DELETE", f"/api/v1/items/{old}")
    assert await _rows(db) == 2
    await s.call(at(2, 13) + timedelta(days=31), "DELETE", f"/api/v1/items/{other}")
    assert await _rows(db) == 1


async def test_concurrent_deletes_trash_once_and_remove_from_scope_once(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    s = Script(client, (await team(app, db))["ada"])
    sid, keys = await _active_sprint(s)
    with clock_at(at(4, 12)):
        answers = await asyncio.gather(
            *(client.delete(f"/api/v1/items/{keys['B']}", headers=s.who.headers) for _ in range(8))
        )
    assert sorted(r.status_code for r in answers) == [204] + [404] * 7
    burndown = await s.call(at(5, 18), "GET", f"/api/v1/sprints/{sid}/burndown")
    changes = _day(burndown, "2026-11-04")["scope_changes"]
    assert [(c["key"], c["change"]) for c in changes] == [(keys["B"], "removed")]


async def test_concurrent_restores_bring_back_once_and_add_to_scope_once(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    s = Script(client, (await team(app, db))["ada"])
    sid, keys = await _active_sprint(s)
    await s.call(at(4, 10), "DELETE", f"/api/v1/items/{keys['B']}")
    with clock_at(at(4, 12)):
        answers = await asyncio.gather(
            *(
                client.post(f"/api/v1/items/{keys['B']}/restore", headers=s.who.headers)
                for _ in range(8)
            )
        )
    assert sorted(r.status_code for r in answers) == [200] + [404] * 7
    burndown = await s.call(at(5, 18), "GET", f"/api/v1/sprints/{sid}/burndown")
    changes = _day(burndown, "2026-11-04")["scope_changes"]
    assert [(c["key"], c["change"]) for c in changes] == [
        (keys["B"], "removed"),
        (keys["B"], "added"),
    ]


async def test_a_child_whose_parent_changed_type_in_the_meantime_is_not_restored_under_it(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """The type rule counts children outside the trash only, so a parent may change type while
    a child is in the trash; the child then comes back only once the parent can hold it."""
    ada = (await team(app, db))["ada"]
    story = (await new_item(client, ada, type="story"))["key"]
    task = (await new_item(client, ada, type="task", parent_key=story))["key"]
    refused = await client.patch(
        f"/api/v1/items/{story}", json={"type": "task"}, headers=ada.headers
    )
    assert refused.status_code == 422, refused.text
    assert (await client.delete(f"/api/v1/items/{task}", headers=ada.headers)).status_code == 204
    changed = await client.patch(
        f"/api/v1/items/{story}", json={"type": "task"}, headers=ada.headers
    )
    assert changed.status_code == 200, changed.text
    restored = await client.post(f"/api/v1/items/{task}/restore", headers=ada.headers)
    assert restored.status_code == 409, restored.text
    assert restored.json()["code"] == "item-parent-cant-hold"
    assert (await client.get(f"/api/v1/items/{task}", headers=ada.headers)).status_code == 404
    back = await client.patch(f"/api/v1/items/{story}", json={"type": "story"}, headers=ada.headers)
    assert back.status_code == 200, back.text
    restored = await client.post(f"/api/v1/items/{task}/restore", headers=ada.headers)
    assert restored.status_code == 200, restored.text
    assert restored.json()["parent_key"] == story
