"""Run Alembic from code, and tell whether a database is at the migration head."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import takt
from takt.core.db import ensure_sqlite_directory

MIGRATIONS_DIR = Path(takt.__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Date-named files: versions/2026-11-24-1412_add_sprint_goal.py
    config.set_main_option(
        "file_template",
        "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s",
    )
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Blocking: runs its own event loop, so call it from a thread when inside one."""
    ensure_sqlite_directory(database_url)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return set(script.get_heads())


def _current(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


async def current_revisions(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def migration_state(engine: AsyncEngine) -> str | None:
    """None when the database is at head, otherwise why it is not."""
    current = await current_revisions(engine)
    heads = head_revisions()
    if current == heads:
        return None
    if not current:
        return "the database has not been migrated"
    return f"the database is at {', '.join(sorted(current))}, not at {', '.join(sorted(heads))}"


# Database objects that migrations create but models don't describe (full-text search).
UNMODELLED = {"items_fts", "search_vector", "ix_items_search_vector", "ix_items_project_search"}


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """For autogenerate and the models-match test: skip what only migrations know about."""
    return not (name and (name in UNMODELLED or name.startswith("items_fts_")))
