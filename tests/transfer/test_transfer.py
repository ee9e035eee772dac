"""Export → import → export: the law, big projects, and imports that can't forge people."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.core.time import clock_at, utcnow
from takt.demo.loader import DEMO_PASSWORD, load_demo
from tests.support import bearer, login, make_user, new_item, team

IMPORT = "/api/v1/projects/import"


def normalise(document: dict[str, Any], key: str) -> Any:
    """The document with the project key and item keys made neutral."""

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return "KEY" if value == key else re.sub(rf"^{key}-(\d+)$", r"KEY-\1", value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return walk(document)


def assert_same_except_key(again: dict[str, Any], key: str, original: dict[str, Any]) -> None:
    left, right = normalise(again, key), normalise(original, original["project"]["key"])
    for part in right:
        if isinstance(right[part], list):
            assert len(left[part]) == len(right[part]), part
            for index, (a, b) in enumerate(zip(left[part], right[part], strict=True)):
                assert a == b, (part, index)
    assert left == right


async def test_export_import_export_round_trips(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    await client.post(
        "/api/v1/projects/API/labels", json={"name": "api", "color": "#112233"}, headers=ada.headers
    )
    await client.post(
        "/api/v1/projects/API/statuses",
        json={"name": "QA", "category": "in_review", "wip_limit": 2},
        headers=ada.headers,
    )
    epic = await new_item(client, ada, type="epic", title="Epic", description="Big **thing**")
    story = await new_item(
        client,
        ada,
        type="story",
        parent_key=epic["key"],
        assignee="bob",
        labels=["api"],
        estimate=5,
        due_date="2027-01-31",
        priority="high",
    )
    task = await new_item(client, ada, type="task", parent_key=story["key"], status="QA")
    await client.post(
        f"/api/v1/items/{task['key']}/move", json={"before": epic["key"]}, headers=ada.headers
    )
    await client.patch(
        f"/api/v1/items/{story['key']}", json={"status": "Done"}, headers=ada.headers
    )
    await client.post(
        f"/api/v1/items/{story['key']}/links",
        json={"type": "blocks", "target": task["key"]},
        headers=ada.headers,
    )
    await client.post(
        f"/api/v1/items/{story['key']}/comments", json={"body": "Ship it @bob"}, headers=ada.headers
    )
    sprint = (
        await client.post("/api/v1/projects/API/sprints", json={"name": "One"}, headers=ada.headers)
    ).json()
    await client.post(
        f"/api/v1/sprints/{sprint['id']}/items",
        json={"item_keys": [task["key"]]},
        headers=ada.headers,
    )
    assert (
        await client.post(f"/api/v1/sprints/{sprint['id']}/start", headers=ada.headers)
    ).status_code == 200

    exported = await client.get("/api/v1/projects/API/export", headers=ada.headers)
    assert exported.status_code == 200
    document = exported.json()
    assert len(document["items"]) == 3
    assert len(document["history"]) >= 8
    assert document["sprints"][0]["state"] == "active"
    assert document["sprints"][0]["commitment"][0]["key"] == task["key"]

    imported = await client.post(
        IMPORT, json={"key": "NEW", "document": document}, headers=ada.headers
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["key"] == "NEW"
    again = (await client.get("/api/v1/projects/NEW/export", headers=ada.headers)).json()
    # ada imported as herself, not as an instance admin: she is the only member of the copy.
    assert again["members"] == [{"username": "ada", "role": "admin"}]
    again["members"] = document["members"]
    assert_same_except_key(again, "NEW", document)

    # The imported project works like any other: new items continue the numbering, and its
    # sprint is the one its items are in.
    fresh = await new_item(client, ada, "NEW")
    assert fresh["key"] == "NEW-4"
    sprints = (await client.get("/api/v1/projects/NEW/sprints", headers=ada.headers)).json()
    copy = sprints["data"][0]
    assert copy["state"] == "active"
    burndown = await client.get(f"/api/v1/sprints/{copy['id']}/burndown", headers=ada.headers)
    assert burndown.status_code == 200
    # Its commitment is the item it holds (the burndown's first point is the sprint's first
    # working day, which is still to come when a test runs at a weekend).
    assert copy["commitment"]["keys"] == ["NEW-3"]


async def test_demo_project_round_trips_with_its_sprints_and_numbers(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    async with db.transaction() as session:
        await load_demo(session, app.state.security)
    admin = bearer((await login(client, "admin", DEMO_PASSWORD))["access_token"])
    document = (await client.get("/api/v1/projects/DEMO/export", headers=admin)).json()
    assert len(document["sprints"]) == 4
    assert sum(1 for i in document["items"] if i["sprint"]) >= 40
    assert all(s["report"] for s in document["sprints"] if s["state"] == "completed")
    # The demo's ceremonies travel too: blockers (one promoted), its risk register, two weeks
    # of stand-up entries and recorded summaries.
    assert len(document["blockers"]) == 5
    assert any(b["risk"] for b in document["blockers"])
    assert len(document["risks"]) >= 4
    assert document["standups"]["config"] is not None
    assert len(document["standups"]["entries"]) >= 20
    assert len(document["standups"]["summaries"]) >= 5

    imported = await client.post(IMPORT, json={"key": "COPY", "document": document}, headers=admin)
    assert imported.status_code == 201, imported.text
    again = (await client.get("/api/v1/projects/COPY/export", headers=admin)).json()
    # An instance admin brings the exported members along, and is the copy's admin too.
    assert again["members"] == sorted(
        [*document["members"], {"username": "admin", "role": "admin"}],
        key=lambda m: m["username"],
    )
    again["members"] = document["members"]
    assert_same_except_key(again, "COPY", document)

    paths = ("velocity", "sprints", "blockers", "risks", "risks/matrix", "standup-config")
    for path in paths:
        # Both read at one moment: a blocker's age grows with the clock.
        with clock_at(utcnow()):
            original = (await client.get(f"/api/v1/projects/DEMO/{path}", headers=admin)).json()
            copied = (await client.get(f"/api/v1/projects/COPY/{path}", headers=admin)).json()
        if path == "risks":
            # Risks of one score are listed in the order of their ids, which the copy makes anew.
            for listed in (original, copied):
                listed["data"].sort(key=lambda risk: (-risk["score"], risk["title"]))
        assert normalise(_without_ids(copied), "COPY") == normalise(
            _without_ids(original), "DEMO"
        ), path


def _without_ids(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    if isinstance(value, dict):
        return {
            k: _without_ids(v)
            for k, v in value.items()
            if k
            not in (
                *("id", "sprint_id", "carried_over_to", "version"),
                *("risk_id", "blocker_id", "sprint_ids", "blocker_ids"),
            )
        }
    return value


def big_document(items: int) -> dict[str, Any]:
    """A project of `items` items with a sprint, labels, links, comments and history, made
    directly (as an export would write it) rather than through thousands of requests."""
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)

    def ref(n: int) -> str:
        return f"00000000-0000-4000-8000-{n:012x}"

    def at(n: int) -> str:
        return (start + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")

    sprint = ref(10)
    document: dict[str, Any] = {
        "format": "takt.project",
        "version": 2,
        "project": {
            "ref": ref(1),
            "key": "BIG",
            "name": "Big",
            "description": "",
            "settings": {},
            "next_number": items,
        },
        "members": [{"username": "ada", "role": "admin"}],
        "statuses": [
            {"ref": ref(2), "name": "To Do", "category": "todo", "position": 0, "wip_limit": None},
            {"ref": ref(3), "name": "Done", "category": "done", "position": 1, "wip_limit": None},
        ],
        "labels": [{"ref": ref(4), "name": "api", "color": "#112233"}],
        "sprints": [
            {
                "ref": sprint,
                "name": "Sprint 1",
                "goal": "",
                "start_date": "2026-01-05",
                "end_date": "2026-01-16",
                "state": "planned",
                "started_at": None,
                "completed_at": None,
                "created_at": at(0),
                "updated_at": at(0),
                "commitment": None,
                "report": None,
                "capacity": [],
            }
        ],
        "items": [],
        "links": [],
        "comments": [],
        "history": [],
    }
    for n in range(1, items + 1):
        key = f"BIG-{n}"
        document["items"].append(
            {
                "ref": ref(100 + n),
                "key": key,
                "number": n,
                "type": "task",
                "title": f"Item number {n}",
                "description": "Something to do, described at some length. " * 3,
                "status": "Done" if n % 3 == 0 else "To Do",
                "priority": "medium",
                "assignee": "ada" if n % 2 else None,
                "reporter": "ada",
                "estimate": float(n % 8),
                "labels": ["api"] if n % 5 == 0 else [],
                "parent_key": None,
                "sprint": sprint if n <= 50 else None,
                "due_date": None,
                "blocked": False,
                "rank": f"i{n:06d}1",
                "created_at": at(n),
                "updated_at": at(n),
                "started_at": None,
                "finished_at": None,
            }
        )
        document["history"].append(
            {
                "type": "item.created",
                "occurred_at": at(n),
                "actor": "ada",
                "subject": ref(100 + n),
                "data": {
                    "key": key,
                    "title": f"Item number {n}",
                    "type": "task",
                    "status": "To Do",
                    "category": "todo",
                    "priority": "medium",
                    "estimate": float(n % 8),
                    "assignee": "ada" if n % 2 else None,
                    "parent_key": None,
                    "sprint_id": sprint if n <= 50 else None,
                    "labels": [],
                },
                "changes": None,
            }
        )
        if n % 10 == 0:
            document["links"].append(
                {
                    "ref": ref(100_000 + n),
                    "source": key,
                    "target": f"BIG-{n - 1}",
                    "type": "blocks",
                    "created_at": at(n),
                }
            )
            document["comments"].append(
                {
                    "ref": ref(200_000 + n),
                    "item_key": key,
                    "author": "ada",
                    "body": "Looks good.",
                    "created_at": at(n),
                    "updated_at": at(n),
                }
            )
    return document


async def test_an_export_over_the_general_body_limit_imports(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    body = json.dumps({"key": "BIG", "document": big_document(3_000)}).encode()
    assert len(body) > 1024 * 1024
    imported = await client.post(
        IMPORT, content=body, headers={**ada.headers, "Content-Type": "application/json"}
    )
    assert imported.status_code == 201, imported.text[:500]


@pytest.mark.slow
async def test_a_ten_thousand_item_project_round_trips(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    document = big_document(10_000)
    body = json.dumps({"key": "BIG", "document": document}).encode()
    # Far over the general body limit (1 MiB): the import route has its own.
    assert len(body) > 4 * 1024 * 1024
    began = time.perf_counter()
    imported = await client.post(
        IMPORT, content=body, headers={**ada.headers, "Content-Type": "application/json"}
    )
    assert imported.status_code == 201, imported.text[:2000]
    again = (await client.get("/api/v1/projects/BIG/export", headers=ada.headers)).json()
    elapsed = time.perf_counter() - began
    assert len(again["items"]) == 10_000
    # The generated document numbers its references its own way; the export numbers them in
    # order of appearance. Exported once more after a second import, it is a fixed point.
    second = await client.post(IMPORT, json={"key": "BIG2", "document": again}, headers=ada.headers)
    assert second.status_code == 201
    third = (await client.get("/api/v1/projects/BIG2/export", headers=ada.headers)).json()
    third["members"] = again["members"]
    assert_same_except_key(third, "BIG2", {**again, "project": {**again["project"]}})
    assert elapsed < 120


async def test_other_routes_keep_the_general_body_limit(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    response = await client.post(
        "/api/v1/projects/API/items",
        json={"title": "x", "description": "y" * (2 * 1024 * 1024)},
        headers=ada.headers,
    )
    assert response.status_code == 413


def forged_document() -> dict[str, Any]:
    """What mallory writes: ada as a member, the author of a comment and the actor of history."""
    document = big_document(1)
    document["project"]["key"] = "OLD"
    document["items"][0]["key"] = "OLD-1"
    document["history"][0]["data"]["key"] = "OLD-1"
    document["members"] = [
        {"username": "ada", "role": "admin"},
        {"username": "mallory", "role": "admin"},
    ]
    document["comments"] = [
        {
            "item_key": "OLD-1",
            "author": "ada",
            "body": "I approve this, signed ada",
            "created_at": "2026-01-05T09:00:00Z",
            "updated_at": "2026-01-05T09:00:00Z",
        }
    ]
    document["history"].append(
        {
            "type": "member.role_changed",
            "occurred_at": "2026-01-05T10:00:00Z",
            "actor": "ada",
            "subject": None,
            "data": {
                "user_id": "00000000-0000-4000-8000-0000000000aa",
                "username": "mallory",
                "from": "member",
                "to": "admin",
            },
            "changes": {"role": ["member", "admin"]},
        }
    )
    return document


async def test_import_cannot_make_anyone_a_member_or_an_author(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    mallory = await make_user(app, db, "mallory")
    imported = await client.post(
        IMPORT, json={"key": "FORGE", "document": forged_document()}, headers=mallory.headers
    )
    assert imported.status_code == 201, imported.text
    members = (await client.get("/api/v1/projects/FORGE/members", headers=mallory.headers)).json()
    assert [m["user"]["username"] for m in members["data"]] == ["mallory"]
    assert (await client.get("/api/v1/projects/FORGE", headers=ada.headers)).status_code == 404

    comments = (await client.get("/api/v1/items/FORGE-1/comments", headers=mallory.headers)).json()[
        "data"
    ]
    assert comments[0]["author"] is None
    assert comments[0]["imported_author"] == "ada"
    item = (await client.get("/api/v1/items/FORGE-1", headers=mallory.headers)).json()
    assert item["reporter"] is None
    events = (await client.get("/api/v1/projects/FORGE/events", headers=mallory.headers)).json()[
        "data"
    ]
    assert events
    assert all(e["actor"] is None and e["imported"] for e in events)
    assert {e["imported_actor"] for e in events} == {"ada"}
    # The names are kept: the copy exports them as the document gave them.
    again = (await client.get("/api/v1/projects/FORGE/export", headers=mallory.headers)).json()
    assert again["comments"][0]["author"] == "ada"
    assert {e["actor"] for e in again["history"]} == {"ada"}


async def test_an_instance_admin_import_brings_members_along(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    root = await make_user(app, db, "root", admin=True)
    imported = await client.post(
        IMPORT, json={"key": "FORGE", "document": forged_document()}, headers=root.headers
    )
    assert imported.status_code == 201, imported.text
    members = (await client.get("/api/v1/projects/FORGE/members", headers=root.headers)).json()
    assert {m["user"]["username"]: m["role"] for m in members["data"]} == {
        "ada": "admin",
        "root": "admin",
    }
    # Authorship stays imported even then.
    comments = (await client.get("/api/v1/items/FORGE-1/comments", headers=root.headers)).json()
    assert comments["data"][0]["author"] is None


async def test_import_refuses_a_taken_key_and_a_broken_document(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await new_item(client, ada)
    document = (await client.get("/api/v1/projects/API/export", headers=ada.headers)).json()
    taken = await client.post(
        IMPORT, json={"key": "API", "document": document}, headers=ada.headers
    )
    assert taken.status_code == 409
    cases = [
        (("items", 0, "status"), "Missing", "/document/items/0/status"),
        (
            ("items", 0, "sprint"),
            "00000000-0000-4000-8000-0000000000ff",
            "/document/items/0/sprint",
        ),
        (("statuses", 1, "ref"), document["statuses"][0]["ref"], "/document/statuses/1/ref"),
    ]
    for (part, index, field), value, pointer in cases:
        broken = json.loads(json.dumps(document))
        broken[part][index][field] = value
        response = await client.post(
            IMPORT, json={"key": "NEW", "document": broken}, headers=ada.headers
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["pointer"] == pointer
    two_active = big_document(1)
    two_active["sprints"] = [
        {
            **two_active["sprints"][0],
            "ref": f"00000000-0000-4000-8000-00000000002{n}",
            "state": "active",
        }
        for n in range(2)
    ]
    two_active["items"][0]["sprint"] = None
    response = await client.post(
        IMPORT, json={"key": "NEW", "document": two_active}, headers=ada.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/document/sprints/1/state"
    assert (await client.get("/api/v1/projects/NEW", headers=ada.headers)).status_code == 404


async def test_import_refuses_malformed_rank_keys(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await new_item(client, ada)
    document = (await client.get("/api/v1/projects/API/export", headers=ada.headers)).json()
    for bad in ("", "V0", "a b", "!"):
        document["items"][0]["rank"] = bad
        response = await client.post(
            IMPORT, json={"key": "NEW", "document": document}, headers=ada.headers
        )
        assert response.status_code == 422, (bad, response.text)
    # A project imported with valid ranks keeps working: new items go after them.
    document["items"][0]["rank"] = "zzz1"
    imported = await client.post(
        IMPORT, json={"key": "NEW", "document": document}, headers=ada.headers
    )
    assert imported.status_code == 201
    assert (await new_item(client, ada, "NEW"))["rank"] > "zzz1"


async def test_import_refuses_history_outside_the_event_catalogue(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await new_item(client, ada)
    document = (await client.get("/api/v1/projects/API/export", headers=ada.headers)).json()
    created = next(i for i, e in enumerate(document["history"]) if e["type"] == "item.created")
    for change in ({"type": "item.exploded"}, {"data": {"kee": "API-1"}}):
        broken = json.loads(json.dumps(document))
        broken["history"][created] |= change
        response = await client.post(
            IMPORT, json={"key": "NEW", "document": broken}, headers=ada.headers
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["pointer"] == f"/document/history/{created}"
    assert (await client.get("/api/v1/projects/NEW", headers=ada.headers)).status_code == 404


async def test_an_item_number_beyond_the_database_is_refused_not_a_500(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await new_item(client, ada)
    document = (await client.get("/api/v1/projects/API/export", headers=ada.headers)).json()
    for field, where in (("number", "items"), ("next_number", "project")):
        broken = json.loads(json.dumps(document))
        target = broken[where][0] if where == "items" else broken[where]
        target[field] = 10**20
        response = await client.post(
            IMPORT, json={"key": "NEW", "document": broken}, headers=ada.headers
        )
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation-failed"
    assert (await client.get("/api/v1/projects/NEW", headers=ada.headers)).status_code == 404
