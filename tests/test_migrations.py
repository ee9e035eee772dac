"""Migrations: reversible, equal to the models, and readiness refuses an unmigrated database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from httpx import ASGITransport, AsyncClient
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from takt.config import Settings
from takt.core.db import Database
from takt.core.errors import PROBLEM_MEDIA_TYPE
from takt.core.migrations import downgrade, head_revisions, include_object, upgrade
from takt.main import create_app
from takt.models_registry import metadata
from tests.conftest import FreshDatabase


async def on_connection(url: str, inspect_with: Callable[[Connection], Any]) -> Any:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(inspect_with)
    finally:
        await engine.dispose()


def differences_from_models(connection: Connection) -> list[Any]:
    # The same options as migrations/env.py, so "equal" means what autogenerate would see.
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": include_object}
    )
    return list(compare_metadata(context, metadata))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def test_migration_history_has_one_head() -> None:
    assert len(head_revisions()) == 1


async def test_migrations_go_down_to_nothing_and_up_again_to_the_models(
    fresh_databases: FreshDatabase,
) -> None:
    url = await fresh_databases.new_url()
    await asyncio.to_thread(upgrade, url)
    await asyncio.to_thread(downgrade, url, "base")
    assert await on_connection(url, table_names) <= {"alembic_version"}
    await asyncio.to_thread(upgrade, url)
    assert await on_connection(url, differences_from_models) == []


async def test_readyz_on_an_unmigrated_database_gets_503_problem(
    fresh_databases: FreshDatabase, settings: Settings
) -> None:
    url = await fresh_databases.new_url()
    unmigrated = settings.model_copy(update={"database_url": url})
    database = Database.from_settings(unmigrated)
    app = create_app(unmigrated, database=database)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
            response = await client.get("/readyz")
    finally:
        await database.dispose()
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["code"] == "service-unavailable"
    assert "takt migrate" in body["detail"]
