"""The flow's statements PostgreSQL gets built once with bound parameters
(metrics/repository.py): the changes by day (`_unfiltered_flow_changes_on_postgres`), the same
rows as the statement built for the call whatever the zone and the moment it starts from, and
the written days' finishes (`_written_finishes_on_postgres`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.core.db import Database
from takt.core.time import clock_at
from takt.metrics import repository as repo
from takt.metrics import snapshots
from takt.metrics.periods import LocalDays, Period
from takt.projects.models import Project
from tests.metrics.test_flow import NOW, at, history
from tests.metrics.test_flow_snapshots import sweep
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


# The finishes of written days and the days after them, whose statement PostgreSQL gets built
# once with bound parameters (`_written_finishes_on_postgres`): the same figures and latest
# rows as the statements built for the call, with the period before, across and after the
# last written day, and with fewer latest rows asked than there are.
SPANS = [
    (date(2026, 10, 29), date(2026, 11, 6)),
    (date(2026, 11, 2), date(2026, 11, 17)),
    (date(2026, 11, 12), date(2026, 11, 17)),
]


async def test_the_written_finishes_built_once_answer_as_those_built_per_call(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    if db.write_engine.dialect.name != "postgresql":
        pytest.skip("the statement is built once on PostgreSQL only")
    ada = (await team(app, db))["ada"]
    await history(client, ada)
    await sweep(app, db, at(11, 11, 12))  # writes up to the 10th
    found: dict[tuple[date, date, int], Any] = {}
    async with db.transaction(write=False) as session:
        project = await session.scalar(select(Project).where(Project.key == "API"))
        assert project is not None
        with clock_at(NOW):
            state = await snapshots.usable(session, project)
        assert state is not None
        assert str(state.through_day) == "2026-11-10"
        for first, last in SPANS:
            for limit in (2, 501):
                span = Period(first=first, last=last, zone="UTC", as_of=NOW)
                once = await snapshots.written_finishes(session, project, state, span, limit)
                parts = snapshots.finish_parts(session, project, state, span, [])
                per_call = await repo.finishes(session, parts, limit)
                assert once == per_call, (first, last, limit)
                found[first, last, limit] = once
    # Each part holds finishes, and the limit cuts the latest.
    before, across, after = (found[first, last, 501] for first, last in SPANS)
    assert before[0]["finished"]
    assert after[0]["finished"]
    assert across[0]["finished"] > max(before[0]["finished"], after[0]["finished"])
    assert len(found[SPANS[1][0], SPANS[1][1], 2][1]) == 2 < len(across[1])
