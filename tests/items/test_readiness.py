"""Readiness: the Definition of Ready in the project's settings, ticks on items, `ready` and
`missing` on every item answer (docs/refinement.md)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.support import Account, new_item, team

PROJECT = "/api/v1/projects/API"
DOR = [
    {"id": "acceptance-criteria", "text": "Acceptance criteria written"},
    {"id": "designs", "text": "Designs attached"},
]


async def set_dor(client: AsyncClient, who: Account, entries: list[dict[str, Any]]) -> Any:
    response = await client.patch(
        PROJECT, json={"settings": {"definition_of_ready": entries}}, headers=who.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["settings"]["definition_of_ready"]


async def tick(
    client: AsyncClient, who: Account, key: str, checked: list[str], **headers: str
) -> Any:
    return await client.put(
        f"/api/v1/items/{key}/readiness",
        json={"checked": checked},
        headers={**who.headers, **headers},
    )


async def history(client: AsyncClient, who: Account, key: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/items/{key}/history", headers=who.headers)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


# The Definition of Ready ------------------------------------------------------------------------


async def test_entries_without_an_id_get_one_and_sent_ids_are_kept(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    entries = await set_dor(client, ada, [{"text": "  Sized by the team "}, DOR[1]])
    made = entries[0]["id"]
    assert entries[0]["text"] == "Sized by the team"
    assert len(made) == 8
    assert entries[1] == DOR[1]
    again = await set_dor(client, ada, [{"id": made, "text": "Sized by the whole team"}])
    assert again == [{"id": made, "text": "Sized by the whole team"}]
    project = (await client.get(PROJECT, headers=ada.headers)).json()
    assert project["settings"]["definition_of_ready"] == again


async def test_twenty_entries_are_the_most(client: AsyncClient, app: FastAPI, db: Database) -> None:
    ada = (await team(app, db))["ada"]
    twenty = [{"id": f"e{i}", "text": f"Entry {i}"} for i in range(20)]
    assert len(await set_dor(client, ada, twenty)) == 20
    version = (await client.get(PROJECT, headers=ada.headers)).json()["version"]
    too_many = [*twenty, {"text": "One more"}]
    response = await client.patch(
        PROJECT, json={"settings": {"definition_of_ready": too_many}}, headers=ada.headers
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation-failed"
    assert [e["pointer"] for e in body["errors"]] == ["/settings/definition_of_ready"]
    project = (await client.get(PROJECT, headers=ada.headers)).json()
    assert project["version"] == version
    assert len(project["settings"]["definition_of_ready"]) == 20


async def test_bad_entries_are_refused_with_a_pointer(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    cases: list[tuple[list[dict[str, Any]], str]] = [
        ([{"id": "a", "text": "x"}, {"id": "a", "text": "y"}], "/settings/definition_of_ready"),
        ([{"text": "   "}], "/settings/definition_of_ready/0/text"),
        ([{"text": "x" * 201}], "/settings/definition_of_ready/0/text"),
        ([{"id": "Not An Id", "text": "x"}], "/settings/definition_of_ready/0/id"),
        ([{"id": "x" * 33, "text": "x"}], "/settings/definition_of_ready/0/id"),
        ([{"text": "x", "done": True}], "/settings/definition_of_ready/0/done"),
    ]
    for entries, pointer in cases:
        response = await client.patch(
            PROJECT, json={"settings": {"definition_of_ready": entries}}, headers=ada.headers
        )
        assert response.status_code == 422, entries
        assert [e["pointer"] for e in response.json()["errors"]] == [pointer], entries
    project = (await client.get(PROJECT, headers=ada.headers)).json()
    assert project["settings"]["definition_of_ready"] == []


async def test_only_project_admins_change_the_definition_of_ready(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    body = {"settings": {"definition_of_ready": DOR}}
    member = await client.patch(PROJECT, json=body, headers=people["bob"].headers)
    assert member.status_code == 403
    stranger = await client.patch(PROJECT, json=body, headers=people["sam"].headers)
    assert stranger.status_code == 404
    project = (await client.get(PROJECT, headers=people["ada"].headers)).json()
    assert project["settings"]["definition_of_ready"] == []


# ready and missing --------------------------------------------------------------------------------


async def test_an_item_lacks_estimate_description_and_each_unticked_entry_in_order(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    bare = await new_item(client, ada)
    assert bare["ready"] is False
    assert bare["missing"] == ["estimate", "description"]
    assert bare["dor_checked"] == []
    full = await new_item(client, ada, estimate=3, description="Why and what")
    assert full["ready"] is True
    assert full["missing"] == []
    await set_dor(client, ada, DOR)
    shown = (await client.get(f"/api/v1/items/{full['key']}", headers=ada.headers)).json()
    assert shown["ready"] is False
    assert shown["missing"] == ["dor:acceptance-criteria", "dor:designs"]
    shown = (await client.get(f"/api/v1/items/{bare['key']}", headers=ada.headers)).json()
    assert shown["missing"] == [
        "estimate",
        "description",
        "dor:acceptance-criteria",
        "dor:designs",
    ]


async def test_ticking_every_entry_makes_an_estimated_described_item_ready(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await set_dor(client, ada, DOR)
    item = await new_item(client, ada, estimate=3, description="Why and what")
    url = f"/api/v1/items/{item['key']}"
    half = await tick(client, ada, item["key"], ["designs"])
    assert half.status_code == 200, half.text
    assert half.json()["missing"] == ["dor:acceptance-criteria"]
    assert half.json()["dor_checked"] == ["designs"]
    # Sent in any order, shown in the checklist's.
    done = await tick(client, ada, item["key"], ["designs", "acceptance-criteria"])
    assert done.status_code == 200, done.text
    assert done.json()["ready"] is True
    assert done.json()["dor_checked"] == ["acceptance-criteria", "designs"]
    shown = await client.get(url, headers=ada.headers)
    assert shown.json() == done.json()
    assert shown.headers["etag"] == done.headers["etag"]
    # Clearing the description takes readiness away again; the ticks stay.
    cleared = await client.patch(url, json={"description": ""}, headers=ada.headers)
    assert cleared.json()["ready"] is False
    assert cleared.json()["missing"] == ["description"]
    assert cleared.json()["dor_checked"] == ["acceptance-criteria", "designs"]
    # Sending fewer unticks the others.
    fewer = await tick(client, ada, item["key"], [])
    assert fewer.json()["missing"] == ["description", "dor:acceptance-criteria", "dor:designs"]


async def test_ready_and_missing_show_in_lists_board_and_bulk(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await set_dor(client, ada, DOR[:1])
    ready = await new_item(client, ada, estimate=2, description="All there")
    await tick(client, ada, ready["key"], ["acceptance-criteria"])
    await new_item(client, ada, estimate=1)
    listed = (await client.get(f"{PROJECT}/items", headers=ada.headers)).json()["data"]
    assert [(i["ready"], i["missing"]) for i in listed] == [
        (True, []),
        (False, ["description", "dor:acceptance-criteria"]),
    ]
    board = (await client.get(f"{PROJECT}/board", headers=ada.headers)).json()
    cards = [card for column in board["columns"] for card in column["items"]]
    assert {c["key"]: c["ready"] for c in cards} == {"API-1": True, "API-2": False}
    bulk = await client.post(
        f"{PROJECT}/items/bulk",
        json={"updates": [{"key": "API-2", "description": "Now described"}]},
        headers=ada.headers,
    )
    assert bulk.json()["results"][0]["item"]["missing"] == ["dor:acceptance-criteria"]


async def test_editing_the_checklist_keeps_the_ticks_of_the_entries_it_keeps(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await set_dor(client, ada, DOR)
    item = await new_item(client, ada, estimate=3, description="Why and what")
    url = f"/api/v1/items/{item['key']}"
    await tick(client, ada, item["key"], ["acceptance-criteria", "designs"])
    # Reworded (same id) and one removed: the item is still ready.
    await set_dor(client, ada, [{"id": "acceptance-criteria", "text": "Given/when/then written"}])
    shown = (await client.get(url, headers=ada.headers)).json()
    assert (shown["ready"], shown["dor_checked"]) == (True, ["acceptance-criteria"])
    # A new entry starts unticked everywhere.
    entries = await set_dor(
        client, ada, [{"id": "acceptance-criteria", "text": "Given/when/then"}, {"text": "Sized"}]
    )
    new_id = entries[1]["id"]
    shown = (await client.get(url, headers=ada.headers)).json()
    assert shown["missing"] == [f"dor:{new_id}"]
    # A removed entry can't be ticked.
    removed = await tick(client, ada, item["key"], ["designs"])
    assert removed.status_code == 422


# Writing the ticks --------------------------------------------------------------------------------


async def test_unknown_or_repeated_entries_are_refused_and_nothing_changes(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await set_dor(client, ada, DOR)
    item = await new_item(client, ada)
    unknown = await tick(client, ada, item["key"], ["designs", "tested", "nope"])
    assert unknown.status_code == 422
    body = unknown.json()
    assert body["code"] == "unknown-dor-entry"
    assert [e["pointer"] for e in body["errors"]] == ["/checked/1", "/checked/2"]
    assert "acceptance-criteria, designs" in body["detail"]
    repeated = await tick(client, ada, item["key"], ["designs", "designs"])
    assert repeated.status_code == 422
    assert [e["pointer"] for e in repeated.json()["errors"]] == ["/checked"]
    malformed = await tick(client, ada, item["key"], ["Designs!"])
    assert malformed.status_code == 422
    extra = await client.put(
        f"/api/v1/items/{item['key']}/readiness",
        json={"checked": [], "ready": True},
        headers=ada.headers,
    )
    assert extra.status_code == 422
    shown = (await client.get(f"/api/v1/items/{item['key']}", headers=ada.headers)).json()
    assert (shown["dor_checked"], shown["version"]) == ([], item["version"])


async def test_without_a_definition_of_ready_only_an_empty_set_can_be_ticked(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    item = await new_item(client, ada)
    assert (await tick(client, ada, item["key"], [])).status_code == 200
    refused = await tick(client, ada, item["key"], ["designs"])
    assert refused.status_code == 422
    assert "it has none" in refused.json()["detail"]


async def test_members_tick_viewers_get_403_strangers_404(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await set_dor(client, people["ada"], DOR)
    item = await new_item(client, people["ada"])
    assert (await tick(client, people["bob"], item["key"], ["designs"])).status_code == 200
    viewer = await tick(client, people["vic"], item["key"], [])
    assert viewer.status_code == 403
    stranger = await tick(client, people["sam"], item["key"], [])
    assert stranger.status_code == 404
    missing = await tick(client, people["bob"], "API-99", [])
    assert missing.status_code == 404
    anonymous = await client.put(f"/api/v1/items/{item['key']}/readiness", json={"checked": []})
    assert anonymous.status_code == 401
    shown = (await client.get(f"/api/v1/items/{item['key']}", headers=people["ada"].headers)).json()
    assert shown["dor_checked"] == ["designs"]


async def test_a_change_of_ticks_is_the_items_own_change_in_its_history(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    await set_dor(client, ada, DOR)
    item = await new_item(client, ada)
    first = await tick(client, bob, item["key"], ["designs"])
    assert first.json()["version"] == item["version"] + 1
    # The same set again changes nothing: no event, the same version.
    same = await tick(client, bob, item["key"], ["designs"])
    assert same.json()["version"] == first.json()["version"]
    await tick(client, bob, item["key"], ["acceptance-criteria", "designs"])
    events = [e for e in await history(client, ada, item["key"]) if e["type"] == "item.updated"]
    assert [e["changes"]["dor_checked"] for e in events] == [
        [[], ["designs"]],
        [["designs"], ["acceptance-criteria", "designs"]],
    ]
    assert {e["actor"]["username"] for e in events} == {"bob"}
    assert all(e["data"] == {"key": item["key"], "reason": None} for e in events)


async def test_a_stale_if_match_is_412_and_concurrent_ticks_have_one_winner(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await set_dor(client, ada, DOR)
    item = await new_item(client, ada)
    url = f"/api/v1/items/{item['key']}"
    etag = (await client.get(url, headers=ada.headers)).headers["etag"]
    choices = [["designs"], ["acceptance-criteria"], ["acceptance-criteria", "designs"]]
    responses = await asyncio.gather(
        *(tick(client, ada, item["key"], choices[i % 3], **{"If-Match": etag}) for i in range(12))
    )
    assert sorted(r.status_code for r in responses) == [200] + [412] * 11
    winner = next(r for r in responses if r.status_code == 200)
    assert all(r.json()["code"] == "version-conflict" for r in responses if r.status_code == 412)
    shown = (await client.get(url, headers=ada.headers)).json()
    assert shown["dor_checked"] == winner.json()["dor_checked"]
    stale = await tick(client, ada, item["key"], [], **{"If-Match": etag})
    assert stale.status_code == 412
    events = [e for e in await history(client, ada, item["key"]) if e["type"] == "item.updated"]
    assert len(events) == 1
