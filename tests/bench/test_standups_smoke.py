"""The stand-ups benchmark's smoke pass on the database kind under test (bench/standups.py): the
small layer on dataset S, every request for a moment at one connection, so its code keeps
working. Only correctness: no errors, and the measured answers hold the data the goal describes
(open blockers, participants, absences, the busy member's month); never a speed."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from bench.standups import LAYERS, Options, measure

from takt.core.db import is_sqlite_url
from tests.conftest import create_postgres_database, drop_postgres_database

pytestmark = pytest.mark.slow

BASE_URL = os.environ.get("TAKT_TEST_DATABASE_URL") or None
ON_POSTGRES = BASE_URL is not None and not is_sqlite_url(BASE_URL)
LAYER = LAYERS["S"]


def quiet(_line: str) -> None:
    pass


@pytest.fixture(scope="module")
async def measured(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Any]]:
    workdir: Path = tmp_path_factory.mktemp("bench-standups")
    url = (
        await create_postgres_database(BASE_URL)
        if ON_POSTGRES and BASE_URL
        else f"sqlite+aiosqlite:///{workdir / 'standups.db'}"
    )
    options = Options(
        database_url=url,
        size="S",
        rounds=1,
        seconds=1,
        warmup=0.2,
        concurrency=(1, 2),
        workdir=workdir,
    )
    try:
        yield await measure(options, say=quiet)
    finally:
        if ON_POSTGRES:
            await drop_postgres_database(url)


def test_every_request_answers_without_errors(measured: dict[str, Any]) -> None:
    runs = measured["runs"]
    assert {run["target"] for run in runs} == {
        "summary",
        "summary_changed",
        "summary_recorded",
        "draft_busy",
        "draft_member",
    }
    assert all(run["requests"] > 0 and run["errors"] == 0 for run in runs), runs
    # The forecast-changing requests run at one connection only (they move one item).
    assert {run["connections"] for run in runs if run["target"] == "summary_changed"} == {1}


def test_the_summary_shows_the_layers_team_and_blockers(measured: dict[str, Any]) -> None:
    today, recorded = measured["checks"]["summary"], measured["checks"]["summary_recorded"]
    expected = LAYER.team - LAYER.absent_today - LAYER.missing_today
    assert today["open_blocker_count"] == today["open_blockers_listed"] == LAYER.open_blockers
    assert (today["participants"], today["absent"], today["missing"], today["entries"]) == (
        LAYER.team,
        LAYER.absent_today,
        LAYER.missing_today,
        expected,
    )
    assert today["sprint_as_of"] == "now"
    assert not today["recorded"]
    assert recorded["recorded"]
    assert recorded["sprint_as_of"] == "cutoff"


def test_the_busy_members_draft_covers_their_month(measured: dict[str, Any]) -> None:
    draft = measured["checks"]["draft_busy"]
    kinds = draft["lines_by_kind"]
    assert 0 < kinds["commented"] <= 100  # a source lists its latest 100 at most
    assert kinds["moved"] + kinds["finished"] > 0
    assert kinds["created"] > 0
    assert kinds["open_blocker"] == LAYER.busy_blockers
    assert draft["suggested_blockers"] == LAYER.busy_blockers
