"""The estimation benchmark's smoke pass (bench/estimation.py) on the database kind under test,
at a tiny size, so its code keeps working: its calibration counts every finished item it
loaded. Only correctness, never a speed."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from bench.estimation import parse, run

from takt.core.db import is_sqlite_url
from tests.conftest import create_postgres_database, drop_postgres_database

pytestmark = pytest.mark.slow

BASE_URL = os.environ.get("TAKT_TEST_DATABASE_URL") or None
ON_POSTGRES = BASE_URL is not None and not is_sqlite_url(BASE_URL)


def quiet(_line: str) -> None:
    pass


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A database of our own that the bench drops and recreates (unused on SQLite)."""
    if not (ON_POSTGRES and BASE_URL):
        yield ""
        return
    url = await create_postgres_database(BASE_URL)
    try:
        yield url
    finally:
        await drop_postgres_database(url)


async def test_the_bench_calibrates_every_finished_item(postgres_url: str) -> None:
    kind = "postgresql" if ON_POSTGRES else "sqlite"
    options = parse(
        [
            "--items",
            "60",
            "--unfinished",
            "10",
            "--runs",
            "3",
            "--warmup",
            "1",
            "--databases",
            kind,
            "--postgres-url",
            postgres_url or "postgresql://unused/x",
        ]
    )
    results = await run(options, say=quiet)
    measured = results[kind]
    assert sum(int(e["finished_items"]) for e in measured["calibration_shown"]) == 60
    assert measured["calibration"]["runs"] == 3
    assert measured["reveal"]["runs"] == 3
