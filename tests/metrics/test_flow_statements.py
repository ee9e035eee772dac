"""The flow's changes by day, whose statement PostgreSQL gets built once with bound parameters
(metrics/repository.py, `_unfiltered_flow_changes_on_postgres`): the same rows as the statement
built for the call, whatever the zone and the moment it starts from."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.core.db import Database
from takt.metrics import repository as repo
from takt.metrics.periods import LocalDays
from takt.projects.models import Project
from tests.metrics.test_flow import history
from tests.support import team

ZONES = ["UTC", "Pacific/Auckland", "America/Sao_Paulo"]
SINCE = [datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 4, 8, 15, tzinfo=UTC)]
UNTIL = datetime(2026, 11, 20, tzinfo=UTC)


def _sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: str(row["day"]))


async def test_the_statement_built_once_answers_as_one_built_per_call(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    if db.write_engine.dialect.name != "postgresql":
        pytest.skip("the statement is built once on PostgreSQL only")
    ada = (await team(app, db))["ada"]
    await history(client, ada)
    found: dict[tuple[str, datetime], list[dict[str, Any]]] = {}
    async with db.transaction(write=False) as session:
        project_id = await session.scalar(select(Project.id).where(Project.key == "API"))
        assert project_id is not None
        for zone in ZONES:
            for since in SINCE:
                days = LocalDays(zone, "postgresql", since, UNTIL)
                once = await repo.flow_changes_by_day(session, project_id, since, [], days)
                built = repo._flow_changes(project_id, since, [], days.day, bytewise=True)
                per_call = [dict(row._mapping) for row in await session.execute(built)]
                assert _sorted(once) == _sorted(per_call), (zone, since)
                found[zone, since] = _sorted(once)
    # The rows hold moves, and the zone and the start reach the statement.
    assert any(row["finished"] for row in found["UTC", SINCE[0]])
    assert found["UTC", SINCE[0]] != found["Pacific/Auckland", SINCE[0]]
    assert found["UTC", SINCE[0]] != found["UTC", SINCE[1]]
