"""Several API processes on PostgreSQL: a change made through one reaches the streams of
another (woken by LISTEN/NOTIFY; the event table stays the source of truth)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from takt.config import Settings
from takt.core.db import Database, is_sqlite_url
from takt.main import create_app
from tests.conftest import empty_all_tables
from tests.events.test_stream import API_EVENTS, key_of, opened
from tests.live import live_server
from tests.support import Account, make_project, make_user

pytestmark = pytest.mark.slow

ENV = {"TAKT_EMBEDDED_WORKER": "false", "TAKT_RATE_LIMIT_PER_MINUTE": "1000000"}


@pytest.fixture
async def ada(settings: Settings) -> AsyncIterator[Account]:
    if is_sqlite_url(settings.database_url):
        pytest.skip("several API processes share a PostgreSQL database")
    database = Database.from_settings(settings)
    app = create_app(settings, database=database)
    ada = await make_user(app, database, "ada")
    await make_project(database, ada, "API")
    yield ada
    await empty_all_tables(database)
    await database.dispose()


async def test_a_change_made_through_one_process_reaches_the_streams_of_another(
    database_url: str, tmp_path: Path, ada: Account
) -> None:
    with (
        live_server(database_url, tmp_path / "one", **ENV) as one,
        live_server(database_url, tmp_path / "two", **ENV) as two,
    ):
        async with (
            httpx.AsyncClient(timeout=30) as client,
            opened(client, f"{one}{API_EVENTS}", ada.headers) as stream,
        ):
            keys = []
            for title in ("Through two", "Through two again"):
                created = await client.post(
                    f"{two}/api/v1/projects/API/items", json={"title": title}, headers=ada.headers
                )
                assert created.status_code == 201, created.text
                keys.append(created.json()["key"])
            got = await stream.events(2)
    assert [key_of(e) for e in got] == keys
