"""Migration 0027 masks the userinfo of existing standard webhooks' shown URL (their sealed URL,
what is sent, stays), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from takt.core.migrations import upgrade
from tests.conftest import FreshDatabase

SHOWN = {
    "w1": ("standard", "https://hook:s3cret@hooks.example.com/takt?x=1"),
    "w2": ("standard", "https://sk_live_KEY:@hooks.example.com/takt"),
    "w3": ("standard", "https://hooks.example.com/takt?mail=a@b.example"),
    "w4": ("slack", "https://hooks.slack.com"),
}


async def test_existing_webhooks_show_their_userinfo_masked(
    fresh_databases: FreshDatabase,
) -> None:
    url = await fresh_databases.new_url()
    await asyncio.to_thread(upgrade, url, "20261129_0026")
    engine = create_async_engine(url, poolclass=NullPool)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    if url.startswith("sqlite"):
        now = now.replace(tzinfo=None)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO projects (id, key, name, description, settings, item_seq,"
                    " created_at, updated_at, version) VALUES ('p', 'OLD', 'Old', '',"
                    " :settings, 0, :now, :now, 1)"
                ),
                {"settings": json.dumps({}), "now": now},
            )
            for webhook_id, (kind, shown) in SHOWN.items():
                await connection.execute(
                    text(
                        "INSERT INTO webhooks (id, project_id, kind, url_encrypted, url_display,"
                        " event_types, enabled, secret_encrypted, created_at, updated_at,"
                        " version) VALUES (:id, 'p', :kind, 'sealed', :shown, :types, true,"
                        " 'sealed', :now, :now, 1)"
                    ),
                    {
                        "id": webhook_id,
                        "kind": kind,
                        "shown": shown,
                        "types": json.dumps(["*"]),
                        "now": now,
                    },
                )
        await asyncio.to_thread(upgrade, url)
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT id, url_display, url_encrypted FROM webhooks ORDER BY id")
            )
            assert [tuple(row) for row in rows] == [
                ("w1", "https://***@hooks.example.com/takt?x=1", "sealed"),
                ("w2", "https://***@hooks.example.com/takt", "sealed"),
                ("w3", "https://hooks.example.com/takt?mail=a@b.example", "sealed"),
                ("w4", "https://hooks.slack.com", "sealed"),
            ]
    finally:
        await engine.dispose()
