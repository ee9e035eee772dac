"""ETags, conditional requests, idempotent creates, and constant query counts."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.core.db import Database
from takt.items.models import Item
from tests.support import Account, QueryCounter, new_item, team

ITEMS = "/api/v1/projects/API/items"


async def test_fifty_concurrent_patches_with_one_etag_make_one_winner(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    item = await new_item(client, ada)
    url = f"/api/v1/items/{item['key']}"
    etag = (await client.get(url, headers=ada.headers)).headers["etag"]
    responses = await asyncio.gather(
        *(
            client.patch(
                url, json={"title": f"title {i}"}, headers={**ada.headers, "If-Match": etag}
            )
            for i in range(50)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * 49
    winner = next(r for r in responses if r.status_code == 200)
    assert all(r.json()["code"] == "version-conflict" for r in responses if r.status_code == 412)
    current = await client.get(url, headers=ada.headers)
    assert current.json()["title"] == winner.json()["title"]
    assert current.headers["etag"] != etag


async def test_if_none_match_gives_304_until_the_item_changes(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    item = await new_item(client, ada)
    url = f"/api/v1/items/{item['key']}"
    etag = (await client.get(url, headers=ada.headers)).headers["etag"]
    cached = await client.get(url, headers={**ada.headers, "If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    await client.patch(url, json={"title": "changed"}, headers=ada.headers)
    fresh = await client.get(url, headers={**ada.headers, "If-None-Match": etag})
    assert fresh.status_code == 200


async def test_stale_if_match_on_delete_is_412(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    item = await new_item(client, ada)
    url = f"/api/v1/items/{item['key']}"
    await client.patch(url, json={"title": "changed"}, headers=ada.headers)
    stale = await client.delete(url, headers={**ada.headers, "If-Match": f'"v{item["version"]}"'})
    assert stale.status_code == 412
    assert (await client.get(url, headers=ada.headers)).status_code == 200


async def test_idempotency_key_replays_the_create(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    headers = {**ada.headers, "Idempotency-Key": "create-42"}
    first = await client.post(ITEMS, json={"title": "once"}, headers=headers)
    again = await client.post(ITEMS, json={"title": "once"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = await client.post(ITEMS, json={"title": "twice"}, headers=headers)
    assert other.status_code == 422
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Item)) == 1


async def _count_queries(
    client: AsyncClient, db: Database, url: str, headers: dict[str, str], **params: str
) -> int:
    with QueryCounter(db) as counter:
        response = await client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return counter.count


async def test_list_and_board_use_a_constant_number_of_queries(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    for name in ("api", "web"):
        await client.post("/api/v1/projects/API/labels", json={"name": name}, headers=ada.headers)
    for _ in range(3):
        await new_item(client, ada, assignee="bob", labels=["api", "web"], status="To Do")
    small_list = await _count_queries(client, db, ITEMS, ada.headers, limit="100")
    small_board = await _count_queries(client, db, "/api/v1/projects/API/board", ada.headers)
    for i in range(97):
        await new_item(
            client,
            ada,
            assignee=["bob", "ada"][i % 2],
            labels=["api"],
            status=["To Do", "In Progress", "Done"][i % 3],
        )
    big_list = await _count_queries(client, db, ITEMS, ada.headers, limit="100")
    # One item: the caller, then the item with its project and the caller's role in one query.
    detail = await _count_queries(client, db, "/api/v1/items/API-7", ada.headers)
    begin = 1 if db.dialect == "sqlite" else 0  # SQLite's explicit BEGIN is a statement too
    assert detail <= 2 + begin
    big_board = await _count_queries(client, db, "/api/v1/projects/API/board", ada.headers)
    assert big_list == small_list
    assert big_board == small_board
    # caller, project access, items with their labels; the board adds statuses and column counts
    assert big_list <= 3 + begin
    assert big_board <= 5 + begin


async def test_hot_reads_carry_rate_limit_and_cache_headers(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    item = await new_item(client, ada)
    for url in (ITEMS, f"/api/v1/items/{item['key']}", "/api/v1/projects/API/board"):
        response = await client.get(url, headers=ada.headers)
        assert response.status_code == 200
        assert response.headers["ratelimit-limit"] == "600"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-type"] == "application/json"


async def _titles_in_history(client: AsyncClient, key: str, who: Account) -> list[str]:
    """The titles an item was given, in the order its history recorded them."""
    response = await client.get(
        f"/api/v1/items/{key}/history", params={"limit": 100}, headers=who.headers
    )
    assert response.status_code == 200, response.text
    return [
        e["changes"]["title"][1]
        for e in response.json()["data"]
        if e["type"] == "item.updated" and "title" in (e["changes"] or {})
    ]


async def test_concurrent_patches_without_if_match_all_apply_and_each_is_in_history(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """No precondition, no 412: each write applies to the version current when it runs."""
    ada = (await team(app, db))["ada"]
    keys = [str((await new_item(client, ada))["key"]) for _ in range(3)]
    sent = [(keys[i % 3], f"title {i}") for i in range(32)]
    responses = await asyncio.gather(
        *(
            client.patch(f"/api/v1/items/{key}", json={"title": title}, headers=ada.headers)
            for key, title in sent
        )
    )
    assert [r.status_code for r in responses] == [200] * 32, {r.text for r in responses}
    for key in keys:
        mine = [title for k, title in sent if k == key]
        recorded = await _titles_in_history(client, key, ada)
        assert sorted(recorded) == sorted(mine)  # every change recorded, none lost
        current = (await client.get(f"/api/v1/items/{key}", headers=ada.headers)).json()
        assert current["title"] == recorded[-1]  # the last writer wins
        assert current["version"] == 1 + len(mine)


async def test_concurrent_bulk_updates_and_patches_without_if_match_all_apply(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Bulk updates over the same items in opposite orders queue (no deadlock, no 412)."""
    ada = (await team(app, db))["ada"]
    keys = [str((await new_item(client, ada))["key"]) for _ in range(3)]
    bulks = [
        {
            "updates": [
                {"key": key, "title": f"bulk {b} {key}"}
                for key in (keys if b % 2 else list(reversed(keys)))
            ]
        }
        for b in range(8)
    ]
    patches = [(keys[i % 3], f"patch {i}") for i in range(8)]
    responses = await asyncio.gather(
        *(client.post(f"{ITEMS}/bulk", json=body, headers=ada.headers) for body in bulks),
        *(
            client.patch(f"/api/v1/items/{key}", json={"title": title}, headers=ada.headers)
            for key, title in patches
        ),
    )
    assert [r.status_code for r in responses] == [200] * 16, {r.text for r in responses}
    for answer in responses[:8]:
        assert [u["status"] for u in answer.json()["results"]] == [200, 200, 200]
    for key in keys:
        expected = [f"bulk {b} {key}" for b in range(8)] + [t for k, t in patches if k == key]
        assert sorted(await _titles_in_history(client, key, ada)) == sorted(expected)


async def test_if_match_still_guards_a_write_that_asked_for_it(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    item = await new_item(client, ada)
    url = f"/api/v1/items/{item['key']}"
    etag = (await client.get(url, headers=ada.headers)).headers["etag"]
    await client.patch(url, json={"title": "someone else"}, headers=ada.headers)
    stale = await client.patch(
        url, json={"title": "mine"}, headers={**ada.headers, "If-Match": etag}
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "version-conflict"


# The hierarchy (epic > story > task, bug, spike) ---------------------------------------------


async def _parent_of(client: AsyncClient, who: Account, key: str) -> str | None:
    response = await client.get(f"/api/v1/items/{key}", headers=who.headers)
    assert response.status_code == 200, response.text
    parent: str | None = response.json()["parent_key"]
    return parent


async def _type_of(client: AsyncClient, who: Account, key: str) -> str:
    response = await client.get(f"/api/v1/items/{key}", headers=who.headers)
    assert response.status_code == 200, response.text
    return str(response.json()["type"])


async def test_an_item_with_children_changes_only_to_a_type_that_holds_them(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    story = await new_item(client, ada, type="story")
    await new_item(client, ada, type="task", parent_key=story["key"])
    url = f"/api/v1/items/{story['key']}"
    refused = await client.patch(url, json={"type": "task"}, headers=ada.headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "invalid-parent"
    assert refused.json()["errors"][0]["pointer"] == "/type"
    assert (await client.patch(url, json={"type": "epic"}, headers=ada.headers)).status_code == 200


async def test_a_child_placed_while_its_parent_changes_type_keeps_the_type_rule(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Placed first, the child keeps the story from becoming a task; the story a task first,
    it can't take the child. Never a task under a task."""
    ada = (await team(app, db))["ada"]
    for _ in range(3):
        story = (await new_item(client, ada, type="story"))["key"]
        tasks = [(await new_item(client, ada, type="task"))["key"] for _ in range(2)]
        *placed, changed = await asyncio.gather(
            *(
                client.patch(
                    f"/api/v1/items/{task}", json={"parent_key": story}, headers=ada.headers
                )
                for task in tasks
            ),
            client.patch(f"/api/v1/items/{story}", json={"type": "task"}, headers=ada.headers),
        )
        answers = [a.status_code for a in (*placed, changed)]
        assert set(answers) <= {200, 422}, [a.text for a in (*placed, changed)]
        children = [t for t in tasks if await _parent_of(client, ada, t) == story]
        assert children == [t for t, a in zip(tasks, placed, strict=True) if a.status_code == 200]
        if children:
            assert changed.status_code == 422
            assert await _type_of(client, ada, story) == "story"
        else:
            assert await _type_of(client, ada, story) == "task"


async def test_two_items_put_under_each_other_at_once_make_no_cycle(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """A story under an epic, and at once the epic (turned task) under the story: one of the
    two goes through. (PostgreSQL may answer the other 503 "retry": each waits for the row
    the other holds.)"""
    ada = (await team(app, db))["ada"]
    for _ in range(3):
        story = (await new_item(client, ada, type="story"))["key"]
        epic = (await new_item(client, ada, type="epic"))["key"]
        answers = await asyncio.gather(
            client.patch(f"/api/v1/items/{story}", json={"parent_key": epic}, headers=ada.headers),
            client.patch(
                f"/api/v1/items/{epic}",
                json={"type": "task", "parent_key": story},
                headers=ada.headers,
            ),
        )
        codes = [a.status_code for a in answers]
        assert codes.count(200) == 1, [a.text for a in answers]
        assert set(codes) <= {200, 422, 503}, [a.text for a in answers]
        parents = (await _parent_of(client, ada, story), await _parent_of(client, ada, epic))
        assert parents in ((epic, None), (None, story))


async def test_a_child_placed_under_an_item_going_to_the_trash_keeps_it_out(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Placed first, the child keeps its parent out of the trash (409 item-has-children);
    the parent trashed first, it can't take the child (422). Never a live child of a trashed
    item."""
    ada = (await team(app, db))["ada"]
    for _ in range(3):
        story = (await new_item(client, ada, type="story"))["key"]
        tasks = [(await new_item(client, ada, type="task"))["key"] for _ in range(2)]
        *placed, deleted = await asyncio.gather(
            *(
                client.patch(
                    f"/api/v1/items/{task}", json={"parent_key": story}, headers=ada.headers
                )
                for task in tasks
            ),
            client.delete(f"/api/v1/items/{story}", headers=ada.headers),
        )
        placed_codes = {a.status_code for a in placed}
        if deleted.status_code == 204:
            assert placed_codes == {422}, [a.text for a in placed]
            assert [await _parent_of(client, ada, t) for t in tasks] == [None, None]
        else:
            assert deleted.json()["code"] == "item-has-children", deleted.text
            assert 200 in placed_codes
            assert placed_codes <= {200, 422}


async def test_an_item_created_under_a_parent_going_to_the_trash_keeps_it_out(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    for _ in range(3):
        story = (await new_item(client, ada, type="story"))["key"]
        *created, deleted = await asyncio.gather(
            *(
                client.post(
                    ITEMS,
                    json={"title": "under", "type": "task", "parent_key": story},
                    headers=ada.headers,
                )
                for _ in range(2)
            ),
            client.delete(f"/api/v1/items/{story}", headers=ada.headers),
        )
        made = {a.status_code for a in created}
        if deleted.status_code == 204:
            assert made == {422}, [a.text for a in created]
        else:
            assert deleted.json()["code"] == "item-has-children", deleted.text
            assert 201 in made
            assert made <= {201, 422}


async def test_a_child_restored_while_its_parent_goes_to_the_trash_keeps_it_out(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Restored first, the child keeps its parent out of the trash; the parent trashed first,
    the child stays in the trash (409 item-parent-in-trash)."""
    ada = (await team(app, db))["ada"]
    for _ in range(3):
        story = (await new_item(client, ada, type="story"))["key"]
        task = (await new_item(client, ada, type="task", parent_key=story))["key"]
        trashed = await client.delete(f"/api/v1/items/{task}", headers=ada.headers)
        assert trashed.status_code == 204, trashed.text
        restored, deleted = await asyncio.gather(
            client.post(f"/api/v1/items/{task}/restore", headers=ada.headers),
            client.delete(f"/api/v1/items/{story}", headers=ada.headers),
        )
        codes = sorted([restored.status_code, deleted.status_code])
        assert codes in ([200, 409], [204, 409]), [restored.text, deleted.text]
        live = await client.get(f"/api/v1/items/{task}", headers=ada.headers)
        assert (live.status_code == 200) == (restored.status_code == 200)
