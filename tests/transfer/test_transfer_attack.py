"""Crafted documents: what the API itself would never write is a 422 at its pointer with
nothing written, never a 500, a project left broken, or far more work than the document's size."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response

from takt.core.db import Database
from takt.transfer import importing
from takt.transfer.schemas import MAX_DATA_DEPTH, ItemDoc
from tests.support import Account, make_user
from tests.transfer.test_delivery import delivery
from tests.transfer.test_transfer import IMPORT, big_document

START = "2026-01-05T09:00:00Z"


async def send(client: AsyncClient, who: Account, document: Any, key: str = "NEW") -> Response:
    return await client.post(IMPORT, json={"key": key, "document": document}, headers=who.headers)


async def refused_at(
    client: AsyncClient, who: Account, document: Any, pointer: str, key: str = "NEW"
) -> dict[str, Any]:
    """The import answers 422 problem+json at `pointer`, and no project was made."""
    response = await send(client, who, document, key)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["errors"][0]["pointer"] == pointer, problem
    missing = await client.get(f"/api/v1/projects/{key}", headers=who.headers)
    assert missing.status_code == 404
    return problem


def completed_sprint(document: dict[str, Any]) -> dict[str, Any]:
    """The document's sprint, completed with a commitment and report as the server freezes them
    (its one item committed and done)."""
    sprint: dict[str, Any] = document["sprints"][0]
    tally = {"items": 1, "points": 1.0}
    sprint |= {
        "state": "completed",
        "started_at": START,
        "completed_at": "2026-01-16T17:00:00Z",
        "commitment": [{"item_id": document["items"][0]["ref"], "key": "BIG-1", "estimate": 1.0}],
        "report": {
            "committed": dict(tally),
            "completed": dict(tally),
            "added": {"items": 0, "points": 0.0},
            "removed": {"items": 0, "points": 0.0},
            "carried_over": {"items": 0, "points": 0.0},
            "say_do_ratio": 1.0,
            "scope_change": 0.0,
            "carry_over_rate": 0.0,
            "unestimated": 0,
            "person_days": 10.0,
            "carried_over_to": "backlog",
        },
    }
    return sprint


# Unbounded work -----------------------------------------------------------------------------------


def test_a_deep_parent_chain_is_ordered_in_linear_time() -> None:
    # Each item is the parent of the one before it: a chain as deep as the document is long
    # (the API lets a parent change type, so an exported hierarchy may be deep). Walked by
    # comparing models against the chain so far, 6,000 items cost 18 million comparisons.
    n = 6_000
    document = big_document(n)
    for index, item in enumerate(document["items"]):
        item["parent_key"] = f"BIG-{index + 2}" if index + 1 < n else None
    items = [ItemDoc.model_validate(item) for item in document["items"]]
    began = time.perf_counter()
    ordered = importing._parents_first(items)
    assert time.perf_counter() - began < 2
    assert [i.key for i in ordered] == [f"BIG-{k}" for k in range(n, 0, -1)]


async def test_a_sprint_longer_than_the_api_allows_is_refused(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    # A sprint from 1970 to 9000 made every burndown of the copy take 17 s and answer 350 MB.
    ada = await make_user(app, db, "ada")
    document = big_document(1)
    document["sprints"][0] |= {"start_date": "1970-01-01", "end_date": "9000-12-31"}
    problem = await refused_at(client, ada, document, "/document/sprints/0/end_date")
    assert "at most 366 days" in problem["detail"]
    # A year and a day is a sprint the API takes too.
    document["sprints"][0] |= {"start_date": "2028-01-01", "end_date": "2028-12-31"}
    assert (await send(client, ada, document)).status_code == 201


# What the copy's answers must be able to read -----------------------------------------------------


async def test_a_report_or_commitment_the_sprint_cant_show_is_refused(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    # Imported as they came, these made every answer showing the sprint a 500 (the list of
    # sprints included) and the next sprint's capacity fail.
    ada = await make_user(app, db, "ada")
    document = big_document(1)
    completed_sprint(document)
    for path, value, pointer in (
        (("commitment",), [{"y": 2}], "/document/sprints/0/commitment/0/item_id"),
        (("report",), {"x": 1}, "/document/sprints/0/report/committed"),
        (("report", "completed", "points"), "many", "/document/sprints/0/report/completed/points"),
        (("report", "carried_over_to"), "next", "/document/sprints/0/report/carried_over_to"),
    ):
        broken = copy.deepcopy(document)
        target = broken["sprints"][0]
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        await refused_at(client, ada, broken, pointer)

    assert (await send(client, ada, document)).status_code == 201, "the valid one imports"
    sprints = await client.get("/api/v1/projects/NEW/sprints", headers=ada.headers)
    assert sprints.status_code == 200
    shown = sprints.json()["data"][0]
    assert shown["commitment"] == {"items": 1, "points": 1.0, "keys": ["NEW-1"]}
    assert shown["report"]["completed"] == {"items": 1, "points": 1.0}
    assert shown["report"]["carried_over_to"] == "backlog"


async def test_history_nested_deeper_than_any_event_is_a_422_not_a_500(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    document = big_document(1)
    sprint = completed_sprint(document)
    nested: Any = 1
    for _ in range(400):  # the request's NUL check ran out of stack from about 300 levels
        nested = [nested]
    event = {
        "type": "sprint.completed",
        "occurred_at": "2026-01-16T17:00:00Z",
        "actor": "ada",
        "subject": sprint["ref"],
        "data": {"id": sprint["ref"], "name": "Sprint 1", "report": {"deep": nested}},
        "changes": None,
    }
    document["history"].append(event)
    await refused_at(client, ada, document, "/document/history/1/data")
    # Nested as deep as allowed, it imports (and exports again).
    allowed: Any = 1
    for _ in range(MAX_DATA_DEPTH - 2):  # data and report are two levels already
        allowed = [allowed]
    event["data"]["report"] = {"deep": allowed}
    assert (await send(client, ada, document)).status_code == 201
    exported = await client.get("/api/v1/projects/NEW/export", headers=ada.headers)
    assert exported.status_code == 200
    assert exported.json()["history"][1]["data"]["report"] == {"deep": allowed}


async def test_a_body_nested_hundreds_deep_is_a_422_not_a_500(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    document = big_document(1)
    deep = "[" * 500 + "]" * 500
    body = json.dumps({"key": "NEW", "document": document})[:-1] + f', "extra": {deep}}}'
    response = await client.post(
        IMPORT, content=body, headers={**ada.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/extra"
    # The walk that replaced the recursive one still finds a NUL, however deep.
    nul: Any = "a\x00b"
    for _ in range(500):
        nul = [nul]
    document["items"][0]["title"] = nul
    response = await send(client, ada, document)
    assert response.status_code == 422, response.text
    assert "NUL" in response.json()["detail"]


async def test_a_project_key_the_api_wouldnt_take_is_refused(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    # The copy's data gives every string equal to the old key the new one: with the key
    # `added`, a scope change's `"change": "added"` was stored outside the event catalogue.
    ada = await make_user(app, db, "ada")
    document = big_document(1)
    document["project"]["key"] = "added"
    document["items"][0]["key"] = "added-1"
    document["history"] = [
        {
            "type": "sprint.scope_changed",
            "occurred_at": START,
            "actor": "ada",
            "subject": document["sprints"][0]["ref"],
            "data": {
                "sprint_id": document["sprints"][0]["ref"],
                "key": "added-1",
                "change": "added",
                "estimate": 1.0,
                "after_start": False,
            },
            "changes": None,
        }
    ]
    await refused_at(client, ada, document, "/document/project/key")


async def test_an_item_key_that_is_not_its_number_is_refused(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    # The copy's keys follow the numbers: BIG-7 numbered 2 would become NEW-2, while history
    # and commitments naming BIG-7 would name NEW-7, another item.
    ada = await make_user(app, db, "ada")
    document = big_document(2)
    document["items"][1]["key"] = "BIG-7"
    problem = await refused_at(client, ada, document, "/document/items/1/key")
    assert "BIG-2" in problem["detail"]


# What the database or the API refuses -------------------------------------------------------------


async def test_duplicates_the_database_refuses_are_a_422_at_their_pointer(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    # These were a 409 `conflict` from the database (or `already-member`) that said nothing of
    # where the document was wrong.
    ada = await make_user(app, db, "ada")
    await make_user(app, db, "bob")
    root = await make_user(app, db, "root", admin=True)
    labels = big_document(1)
    labels["items"][0]["labels"] = ["api", "api"]
    await refused_at(client, ada, labels, "/document/items/0/labels/1")
    capacity = big_document(1)
    capacity["sprints"][0]["capacity"] = [
        {"username": "ada", "allocation": 1.0, "absent_days": []},
        {"username": "ADA", "allocation": 0.5, "absent_days": []},
    ]
    await refused_at(client, ada, capacity, "/document/sprints/0/capacity/1/username")
    members = big_document(1)
    members["members"] = [
        {"username": "bob", "role": "member"},
        {"username": "Bob", "role": "admin"},
    ]
    await refused_at(client, root, members, "/document/members/1/username")


async def test_links_the_api_refuses_are_refused(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    document = big_document(2)

    def link(source: str, target: str, type_: str) -> dict[str, Any]:
        return {"source": source, "target": target, "type": type_, "created_at": START}

    cases = [
        ([link("BIG-1", "BIG-1", "relates_to")], "/document/links/0/target"),
        ([link("BIG-1", "BIG-2", "blocks"), link("BIG-2", "BIG-1", "blocks")], "/document/links/1"),
        (
            [link("BIG-1", "BIG-2", "relates_to"), link("BIG-2", "BIG-1", "relates_to")],
            "/document/links/1",
        ),
        ([link("BIG-1", "BIG-2", "blocks"), link("BIG-1", "BIG-2", "blocks")], "/document/links/1"),
    ]
    for links, pointer in cases:
        await refused_at(client, ada, {**document, "links": links}, pointer)
    # Duplicates may point both ways, as the API allows.
    both = [link("BIG-1", "BIG-2", "duplicates"), link("BIG-2", "BIG-1", "duplicates")]
    assert (await send(client, ada, {**document, "links": both})).status_code == 201


async def test_numbers_leave_room_for_the_next_one(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    # At 2**31 - 1 the copy's next item or incident overflowed the column: on PostgreSQL every
    # create was refused from then on, on SQLite the key outgrew the nine digits keys have.
    made = await delivery(client, app, db)
    ada = made["people"]["ada"]
    document = (await client.get("/api/v1/projects/API/export", headers=ada.headers)).json()
    for part, field, pointer in (
        ("project", "next_number", "/document/project/next_number"),
        ("items", "number", "/document/items/0/number"),
        ("incidents", "number", "/document/incidents/0/number"),
    ):
        broken = copy.deepcopy(document)
        target = broken[part] if part == "project" else broken[part][0]
        target[field] = 2**31 - 1
        await refused_at(client, ada, broken, pointer)
    document["project"]["next_number"] = 999_999_998
    assert (await send(client, ada, document)).status_code == 201
    created = await client.post(
        "/api/v1/projects/NEW/items", json={"title": "Next"}, headers=ada.headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["key"] == "NEW-999999999"


async def test_a_rank_longer_than_the_server_makes_is_refused(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    # A 64-character rank filled the column: on PostgreSQL the copy could then neither create
    # nor move an item (the next rank is a character longer).
    ada = await make_user(app, db, "ada")
    document = big_document(2)
    document["items"][0]["rank"] = "z" * 63 + "y"
    document["items"][1]["rank"] = "z" * 64
    await refused_at(client, ada, document, "/document/items/0/rank")
    document["items"][0]["rank"] = "z" * 31 + "y"
    document["items"][1]["rank"] = "z" * 32
    assert (await send(client, ada, document)).status_code == 201
    created = await client.post(
        "/api/v1/projects/NEW/items", json={"title": "x"}, headers=ada.headers
    )
    assert created.status_code == 201, created.text
    moved = await client.post(
        "/api/v1/items/NEW-1/move", json={"after": "NEW-2"}, headers=ada.headers
    )
    assert moved.status_code == 200, moved.text
    listed = (await client.get("/api/v1/projects/NEW/items", headers=ada.headers)).json()["data"]
    assert [i["key"] for i in listed] == ["NEW-2", "NEW-1", "NEW-3"]


async def test_statuses_take_positions_without_gaps(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    # Positions 5 and 40 were kept: a status added later got position 2, between them.
    ada = await make_user(app, db, "ada")
    document = big_document(1)
    document["statuses"][0]["position"] = 40
    document["statuses"][1]["position"] = 5
    assert (await send(client, ada, document)).status_code == 201
    added = await client.post(
        "/api/v1/projects/NEW/statuses",
        json={"name": "Later", "category": "done"},
        headers=ada.headers,
    )
    assert added.status_code == 201, added.text
    statuses = (await client.get("/api/v1/projects/NEW/statuses", headers=ada.headers)).json()
    shown = statuses["data"] if isinstance(statuses, dict) else statuses
    assert [(s["name"], s["position"]) for s in shown] == [
        ("Done", 0),
        ("To Do", 1),
        ("Later", 2),
    ]
