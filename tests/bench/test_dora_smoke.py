"""The DORA and flow benchmark's smoke pass on the database kind under test (bench/dora.py): a
small history (300 deployments, 3,000 commits, 1,500 items), every question asked for a moment
over HTTP, so its code keeps working. Only correctness: no errors, and the answers count what
was seeded; never a speed."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from bench.dora import Options, Sizes, run

from takt.core.db import is_sqlite_url
from tests.conftest import create_postgres_database, drop_postgres_database

pytestmark = pytest.mark.slow

BASE_URL = os.environ.get("TAKT_TEST_DATABASE_URL") or None
ON_POSTGRES = BASE_URL is not None and not is_sqlite_url(BASE_URL)


def quiet(_line: str) -> None:
    pass


@pytest.fixture(scope="module")
async def measured(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Any]]:
    workdir: Path = tmp_path_factory.mktemp("bench-dora")
    url = (
        await create_postgres_database(BASE_URL)
        if ON_POSTGRES and BASE_URL
        else f"sqlite+aiosqlite:///{workdir / 'dora.db'}"
    )
    options = Options(
        database_url=url,
        sizes=Sizes(deployments=300, commits=3000, items=1500),
        seconds=0.2,
        warmup=0,
        workdir=workdir,
    )
    try:
        yield await run(options, say=quiet)
    finally:
        if ON_POSTGRES:
            await drop_postgres_database(url)


def test_every_question_answers_without_errors(measured: dict[str, Any]) -> None:
    runs = measured["runs"]
    assert set(runs) == {
        "dora_90_days",
        "dora_2_years_weekly",
        "flow_30_days",
        "flow_90_days_bugs",
        "flow_2_years",
    }
    assert all(r["requests"] > 0 and r["errors"] == 0 for r in runs.values()), runs


def test_two_years_of_dora_count_every_deployment_and_commit(measured: dict[str, Any]) -> None:
    seeded, dora = measured["seeded"], measured["runs"]["dora_2_years_weekly"]["answer"]
    assert dora["deployment_frequency"]["successful"] == seeded["successful"]
    assert dora["change_failure_rate"]["failed"] == seeded["failed"] > 0
    assert dora["change_lead_time"]["commits"] == seeded["commits_counted"]
    assert dora["deployment_rework_rate"]["rework"] > 0
    weeks = dora["series"]
    assert 104 <= len(weeks) <= 106
    assert sum(w["deployment_frequency"]["successful"] for w in weeks) == seeded["successful"]


def test_two_years_of_flow_count_every_finish_and_item(measured: dict[str, Any]) -> None:
    seeded, flow = measured["seeded"], measured["runs"]["flow_2_years"]["answer"]
    assert flow["throughput"]["finished"] == seeded["finished_items"]
    assert flow["lead_time"]["count"] == seeded["finished_items"]
    assert flow["wip"] == flow["work_item_age"]["count"] == seeded["in_progress"]
    last = flow["cumulative_flow"][-1]
    assert last["done"] == seeded["done_now"]
    # The items are created evenly over the two years, so at the end of the first day only a
    # few exist: worked back from now, every creation's category takes its item out of the
    # bands (a creation recorded with something other than a category once left them all in).
    first = flow["cumulative_flow"][0]
    assert first["backlog"] + first["cancelled"] <= 1500 // 50
    assert len(flow["cumulative_flow"]) == 730
    bugs = measured["runs"]["flow_90_days_bugs"]["answer"]
    assert bugs["q"] == "type:bug"
    assert bugs["cumulative_flow"][-1]["backlog"] < last["backlog"]


def test_the_sweep_ran_and_the_scatter_is_cut(measured: dict[str, Any]) -> None:
    """The bench runs the worker's flow-snapshots sweep before asking (the server has no
    worker), and the two-year answer's scatter holds the latest 500 finishes, cut."""
    seeded, flow = measured["seeded"], measured["runs"]["flow_2_years"]["answer"]
    assert "snapshot_seconds" in seeded["extra"]
    points = flow["cycle_time"]["points"]
    assert len(points) == 500 < seeded["finished_items"]
    assert flow["cycle_time"]["points_cut"] is True
    assert points == sorted(points, key=lambda p: p["finished_at"], reverse=True)
