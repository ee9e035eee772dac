"""The integrations benchmark's smoke pass on the database kind under test (bench/integrations.py):
each measurement at a tiny size, so its code keeps working. Only correctness: every write
delivered once and signed, every queued delivery succeeded, every stream client got every
event; never a speed."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bench.integrations import measure_fanout, measure_latency, measure_throughput

from takt.core.db import is_sqlite_url
from tests.conftest import create_postgres_database, drop_postgres_database

pytestmark = pytest.mark.slow

BASE_URL = os.environ.get("TAKT_TEST_DATABASE_URL") or None
ON_POSTGRES = BASE_URL is not None and not is_sqlite_url(BASE_URL)
KIND = "postgresql" if ON_POSTGRES else "sqlite"


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


async def test_latency_delivers_every_write_once_signed(postgres_url: str, tmp_path: Path) -> None:
    result = await measure_latency(KIND, postgres_url, tmp_path, rate=10, seconds=1.5, say=quiet)
    writes = result["writes"]
    assert writes["succeeded"] == writes["sent"] == 15
    assert result["delivered"] == 15
    assert result["not_delivered"] == 0
    assert result["duplicates"] == 0
    assert result["bad_signatures"] == 0
    assert result["latency_from_answer"]["count"] == 15


async def test_throughput_succeeds_every_queued_delivery(postgres_url: str, tmp_path: Path) -> None:
    result = await measure_throughput(
        postgres_url, tmp_path, workers=1, events=40, webhooks=2, say=quiet, kind=KIND
    )
    assert result["deliveries"] == 40  # 20 events to each of 2 endpoints
    assert result["all_succeeded"]
    assert result["states"]["succeeded"] == 40
    assert result["received"] == 40
    assert result["duplicates"] == 0


async def test_fanout_reaches_every_stream_client(postgres_url: str, tmp_path: Path) -> None:
    result = await measure_fanout(
        postgres_url,
        tmp_path,
        clients=6,
        client_processes=2,
        rate=4,
        seconds=1,
        ratio_seconds=1,
        generator="asyncio",
        stream="project",
        settle=1.0,
        say=quiet,
        kind=KIND,
    )
    assert result["writes"]["succeeded"] == 4
    assert result["frames_received"] == result["frames_expected"] == 24
    assert result["events_reaching_every_client"] == 4
    assert result["client_errors"] == 0
    assert result["read_ratio_with_clients"]["E1"]["errors"] == 0
