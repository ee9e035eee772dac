"""The event catalogue is served, documented, and every event written fits it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.core.events import EVENT_TYPES, InvalidEvent, emit, parse_event
from takt.events.catalogue import render_markdown
from takt.items.events import ItemChanges, ItemCreated, ItemUpdated
from tests.support import make_user

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events.md"


async def test_the_catalogue_lists_every_type_with_its_schemas(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    user = await make_user(app, db, "reader")
    response = await client.get("/api/v1/event-types", headers=user.headers)
    assert response.status_code == 200
    served = {entry["type"]: entry for entry in response.json()["data"]}
    assert set(served) == {
        name for name, declared in EVENT_TYPES.items() if declared.__module__.startswith("takt.")
    }
    assert "item.updated" in served
    updated = served["item.updated"]
    assert updated["data_schema"]["properties"]["key"]["type"] == "string"
    assert "priority" in updated["changes_schema"]["properties"]
    assert served["item.created"]["changes_schema"] is None
    assert all(entry["description"] for entry in served.values())


async def test_the_catalogue_needs_a_signed_in_caller(client: AsyncClient) -> None:
    assert (await client.get("/api/v1/event-types")).status_code == 401


def test_docs_events_md_is_generated_from_the_catalogue() -> None:
    assert DOCS.read_text() == render_markdown(), "run `make docs` and commit docs/events.md"


def test_an_unknown_type_or_a_payload_that_does_not_fit_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="not an event type"):
        parse_event("item.exploded", {"key": "API-1"})
    with pytest.raises(InvalidEvent, match=r"item\.updated"):
        parse_event("item.updated", {"kee": "API-1"})
    with pytest.raises(InvalidEvent, match=r"item\.updated"):
        parse_event("item.updated", {"key": "API-1"}, {"estimate": ["three", 5]})
    with pytest.raises(InvalidEvent, match="no changes"):
        parse_event("item.created", _created(), {"title": ["a", "b"]})


def test_changes_round_trip_as_old_new_pairs() -> None:
    data, changes = parse_event("item.updated", {"key": "API-1"}, {"estimate": [3, 5]})
    assert isinstance(data, ItemUpdated)
    assert isinstance(changes, ItemChanges)
    assert changes.estimate == (3, 5)
    assert changes.model_dump(mode="json", exclude_unset=True) == {"estimate": [3.0, 5.0]}


async def test_emit_writes_the_model_it_is_given(db: Database) -> None:
    async with db.transaction() as session:
        event = await emit(
            session,
            ItemUpdated(key="API-1"),
            None,
            None,
            ItemChanges(priority=("low", "high")),
        )
    assert event.type == "item.updated"
    assert event.data == {"key": "API-1", "reason": None}
    assert event.changes == {"priority": ["low", "high"]}


async def test_emit_refuses_changes_of_another_type(db: Database) -> None:
    from takt.sprints.events import SprintChanges

    with pytest.raises(InvalidEvent):
        async with db.transaction() as session:
            await emit(
                session, ItemUpdated(key="API-1"), None, None, SprintChanges(name=("a", "b"))
            )


def _created(**overrides: Any) -> dict[str, Any]:
    return (
        ItemCreated(
            key="API-1",
            title="t",
            type="task",
            status="To Do",
            category="todo",
            priority="none",
            estimate=None,
            assignee=None,
            parent_key=None,
            sprint_id=None,
            labels=[],
        ).model_dump(mode="json")
        | overrides
    )


async def test_an_event_that_does_not_fit_its_model_is_the_servers_bug_not_a_422() -> None:
    from fastapi import FastAPI as App
    from httpx import ASGITransport
    from pydantic import BaseModel

    from takt.core.problems import install_error_handlers

    class Input(BaseModel):
        count: int

    app = App()
    install_error_handlers(app)

    @app.post("/event")
    async def bad_event() -> None:
        ItemChanges.model_validate({"estimate": ["three", 5]})

    @app.post("/input")
    async def bad_input() -> None:
        Input.model_validate({"count": "many"})

    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://t") as c:
        assert (await c.post("/event")).status_code == 500
        assert (await c.post("/input")).status_code == 422
