"""A write answers with the item as a read shows it, without reading it again: the answer of
every kind of change equals the GET that follows."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.support import QueryCounter, new_item, team

DETAIL_READ = "SELECT items.id, items.key, items.type, items.title"

CHANGES: list[dict[str, Any]] = [
    {"title": "Renamed"},
    {"status": "In Progress"},
    {"status": "Done"},
    {"assignee": "bob"},
    {"assignee": None},
    {"labels": ["api", "ui"]},
    {"labels": []},
    {"estimate": 8, "priority": "high", "due_date": "2026-12-24", "blocked": True},
    {"description": "Longer text", "type": "bug"},
    {"parent_key": "API-1"},
    {"parent_key": None},
    {"status": "In Review", "assignee": "ada", "labels": ["ui"], "title": "All at once"},
    {},
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: ",".join(c) or "nothing")
async def test_the_answer_of_a_patch_is_what_a_get_shows(
    client: AsyncClient, app: FastAPI, db: Database, change: dict[str, Any]
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    for name in ("api", "ui"):
        made = await client.post(
            "/api/v1/projects/API/labels", json={"name": name}, headers=ada.headers
        )
        assert made.status_code == 201, made.text
    await new_item(client, ada, title="Parent story", type="story")
    item = await new_item(
        client, ada, title="Child", assignee="ada", labels=["api"], parent_key="API-1"
    )
    url = f"/api/v1/items/{item['key']}"
    with QueryCounter(db) as counter:
        patched = await client.patch(url, json=change, headers=ada.headers)
    assert patched.status_code == 200, patched.text
    shown = await client.get(url, headers=ada.headers)
    assert patched.json() == shown.json()
    assert patched.headers["etag"] == shown.headers["etag"]
    # No statement reads the item again after the update. The statement log keeps 90 characters;
    # the detail read begins like this (quotes aside); the write context's read does not.
    assert counter.statements
    assert not [sql for sql in counter.statements if sql.replace('"', "").startswith(DETAIL_READ)]


async def test_the_answer_of_a_move_is_what_a_get_shows(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    first = await new_item(client, ada, title="First")
    second = await new_item(client, ada, title="Second", assignee="ada")
    url = f"/api/v1/items/{second['key']}"
    moved = await client.post(f"{url}/move", json={"before": first["key"]}, headers=ada.headers)
    assert moved.status_code == 200, moved.text
    assert moved.json() == (await client.get(url, headers=ada.headers)).json()
    assert moved.json()["rank"] < first["rank"]


CREATES: list[dict[str, Any]] = [
    {},
    {"labels": ["UI", "api"], "assignee": "bob"},
    {"status": "In Progress", "estimate": 3, "priority": "urgent"},
    {"status": "Done", "type": "story", "due_date": "2027-01-31", "blocked": True},
    {"parent_key": "API-1", "description": "With a parent"},
]


@pytest.mark.parametrize("fields", CREATES, ids=lambda f: ",".join(f) or "title only")
async def test_the_answer_of_a_create_is_what_a_get_shows(
    client: AsyncClient, app: FastAPI, db: Database, fields: dict[str, Any]
) -> None:
    ada = (await team(app, db))["ada"]
    for name in ("api", "ui"):
        made = await client.post(
            "/api/v1/projects/API/labels", json={"name": name}, headers=ada.headers
        )
        assert made.status_code == 201, made.text
    await new_item(client, ada, title="Parent story", type="story")
    with QueryCounter(db) as counter:
        created = await client.post(
            "/api/v1/projects/API/items", json={"title": "New", **fields}, headers=ada.headers
        )
    assert created.status_code == 201, created.text
    shown = await client.get(created.headers["location"], headers=ada.headers)
    assert created.json() == shown.json()
    assert created.headers["etag"] == shown.headers["etag"]
    assert counter.statements
    assert not [sql for sql in counter.statements if sql.replace('"', "").startswith(DETAIL_READ)]
