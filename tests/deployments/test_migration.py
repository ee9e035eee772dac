"""Migration 0020 gives every existing project the default promotion path (and leaves a
project that has environments alone), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from takt.core.migrations import upgrade
from tests.conftest import FreshDatabase


async def test_existing_projects_get_development_staging_and_production(
    fresh_databases: FreshDatabase,
) -> None:
    url = await fresh_databases.new_url()
    await asyncio.to_thread(upgrade, url, "20261127_0019")
    engine = create_async_engine(url, poolclass=NullPool)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    if url.startswith("sqlite"):
        now = now.replace(tzinfo=None)
    try:
        async with engine.begin() as connection:
            for n, key in enumerate(("OLD", "OLDER")):
                await connection.execute(
                    text(
                        "INSERT INTO projects (id, key, name, description, settings, item_seq,"
                        " created_at, updated_at, version) VALUES (:id, :key, :key, '',"
                        " :settings, 0, :now, :now, 1)"
                    ),
                    {"id": f"p{n}", "key": key, "settings": json.dumps({}), "now": now},
                )
        await asyncio.to_thread(upgrade, url)
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT project_id, name, type, position FROM environments"
                    " ORDER BY project_id, position"
                )
            )
            assert [tuple(r) for r in rows] == [
                (project, name, name, position)
                for project in ("p0", "p1")
                for position, name in enumerate(("development", "staging", "production"))
            ]
    finally:
        await engine.dispose()
