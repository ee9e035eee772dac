"""The event cursor hands out every committed event exactly once, in commit order, even when
transactions that started earlier commit later (the live stream and webhooks rely on it)."""

from __future__ import annotations

import asyncio
import random

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.core.events import emit
from tests.support import Probe, bearer, make_project, make_user

WRITERS = 40


async def _write_slowly(db: Database, project_id: str, delay: float) -> str:
    """One transaction that writes an event, then holds its commit back for `delay` seconds."""
    async with db.transaction() as session:
        event = await emit(session, Probe(label=f"delay {delay}"), project_id, None)
        await asyncio.sleep(delay)
        return event.id


async def _poll(
    client: AsyncClient, headers: dict[str, str], cursor: str | None
) -> tuple[list[str], str | None]:
    params = {"limit": "100", **({"after": cursor} if cursor else {})}
    response = await client.get("/api/v1/projects/LOG/events", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return [event["id"] for event in body["data"]], body["next_cursor"]


async def test_a_poller_sees_every_committed_event_once_in_cursor_order(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    owner = await make_user(app, db, "owner")
    project_id = await make_project(db, owner, "LOG")
    headers = bearer(owner.token)
    _, cursor = await _poll(client, headers, None)  # skip the project's own creation events

    rng = random.Random(7)
    # Early writers hold their commit longest, so later ones commit first with higher seqs.
    delays = sorted((rng.uniform(0, 0.4) for _ in range(WRITERS)), reverse=True)
    writers = [asyncio.create_task(_write_slowly(db, project_id, d)) for d in delays]

    seen: list[str] = []
    while not all(w.done() for w in writers):
        ids, cursor = await _poll(client, headers, cursor)
        seen += ids
        # Often enough to read between commits, but within the per-token rate limit even when
        # SQLite runs the writers one after the other (~8 s).
        await asyncio.sleep(0.03)
    committed = [w.result() for w in writers]
    for _ in range(3):  # drain what committed after the last poll
        ids, cursor = await _poll(client, headers, cursor)
        seen += ids

    assert len(seen) == len(set(seen)), "an event was handed out twice"
    assert set(seen) == set(committed), f"{len(set(committed) - set(seen))} events were skipped"

    # Cursor order is stable: reading the log again from the start gives the same sequence.
    from_start, _ = await _poll(client, headers, None)
    assert [i for i in from_start if i in set(committed)] == seen


async def test_a_write_running_in_another_database_does_not_hold_the_log_back(
    app: FastAPI, db: Database, client: AsyncClient, test_database_url_base: str | None
) -> None:
    if not test_database_url_base or "postgresql" not in test_database_url_base:
        pytest.skip("transaction ids shared across databases are a PostgreSQL matter")
    import asyncpg
    from sqlalchemy.engine import make_url

    server = make_url(test_database_url_base)
    other = await asyncpg.connect(
        host=server.host, port=server.port or 5432, user=server.username, database="postgres"
    )
    try:
        transaction = other.transaction()
        await transaction.start()
        await other.fetchval("SELECT pg_current_xact_id()")  # holds a transaction id open

        owner = await make_user(app, db, "owner")
        await make_project(db, owner, "LOG")
        ids, _ = await _poll(client, bearer(owner.token), None)
        assert ids, "the project's events waited for another database's transaction"
        await transaction.rollback()
    finally:
        await other.close()
