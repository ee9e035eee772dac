"""Items sit below sprints: they reach sprints only through their hooks (`takt.items.hooks`) and
the sprint directory sprints provide at start-up (`takt.items.sprint_directory`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import grimp
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from takt import wiring
from takt.config import Settings
from takt.core.db import Database
from takt.core.hooks import Hook, HookNotConnected
from takt.items import sprint_directory
from takt.items.hooks import sprint_changed, sprint_changing
from takt.main import create_app
from tests.support import Account, QueryCounter, new_item, team


def test_items_import_nothing_of_sprints() -> None:
    graph = grimp.build_graph("takt", cache_dir=None)
    chain = graph.find_shortest_chain(
        importer="takt.items", imported="takt.sprints", as_packages=True
    )
    assert chain is None, " -> ".join(chain or ())


HOOKS: tuple[Hook[Any], ...] = (sprint_changing, sprint_changed)


@pytest.fixture
def unwired() -> Iterator[None]:
    """Items without sprints for the test (a process that never ran the wiring): no sprint
    directory, nothing subscribed to items' sprint hooks. Given back afterwards."""
    wiring.connect()
    provided = sprint_directory.withdraw()
    saved = {hook: hook.handlers for hook in HOOKS}
    for hook, handlers in saved.items():
        for handler in handlers:
            hook.unsubscribe(handler)
    try:
        yield
    finally:
        if provided is not None:
            sprint_directory.provide(provided)
        for hook, handlers in saved.items():
            for handler in handlers:
                hook.subscribe(handler)


@pytest.mark.usefixtures("unwired")
async def test_unwired_items_refuse_sprint_work_instead_of_skipping_the_sprints_part(
    settings: Settings, db: Database
) -> None:
    with pytest.raises(HookNotConnected, match="sprint directory"):
        sprint_directory.directory()
    for hook in HOOKS:
        assert hook.required
        with pytest.raises(HookNotConnected, match=hook.name):
            await hook.fire(cast(AsyncSession, object()), cast(Any, None))
    create_app(settings, database=db)
    assert sprint_directory.directory() is not None
    assert [hook.name for hook in HOOKS if not hook.handlers] == []


async def _sprint(client: AsyncClient, ada: Account, n: int) -> str:
    made = await client.post(
        "/api/v1/projects/API/sprints",
        json={"name": f"S{n}", "start_date": f"2026-0{n}-01", "end_date": f"2026-0{n}-14"},
        headers=ada.headers,
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def test_a_move_between_two_sprints_reads_both_in_one_statement(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    first, second = await _sprint(client, ada, 1), await _sprint(client, ada, 2)
    item = await new_item(client, ada, sprint_id=first, estimate=3)
    with QueryCounter(db) as counter:
        moved = await client.patch(
            f"/api/v1/items/{item['key']}", json={"sprint_id": second}, headers=ada.headers
        )
    assert moved.status_code == 200, moved.text
    sprint_reads = [sql for sql in counter.statements if sql.startswith("SELECT sprints.")]
    assert len(sprint_reads) == 1, counter.statements
    # ...and the sprints still record the move: out of the first, into the second.
    events = await client.get(
        "/api/v1/projects/API/events",
        params={"types": "sprint.scope_changed", "limit": 100},
        headers=ada.headers,
    )
    assert events.status_code == 200, events.text
    assert [(e["data"]["sprint_id"], e["data"]["change"]) for e in events.json()["data"]] == [
        (first, "added"),
        (first, "removed"),
        (second, "added"),
    ]
