"""Full-text search objects the migrations create and the models don't describe.

SQLite keeps an FTS5 index over items(title, description), synced by triggers; PostgreSQL has a
generated tsvector column with a GIN index. A migration that rebuilds the items table on SQLite
(Alembic's batch mode copies it to a new table) loses the triggers and may renumber rowids, so it
calls `restore_sqlite_fts()` afterwards.
"""

from __future__ import annotations

from alembic import op

SQLITE_TABLE = """CREATE VIRTUAL TABLE items_fts USING fts5(
    title, description, content='items', content_rowid='rowid', tokenize='unicode61'
)"""
SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS items_fts_insert AFTER INSERT ON items BEGIN
        INSERT INTO items_fts(rowid, title, description)
        VALUES (new.rowid, new.title, new.description);
    END""",
    """CREATE TRIGGER IF NOT EXISTS items_fts_delete AFTER DELETE ON items BEGIN
        INSERT INTO items_fts(items_fts, rowid, title, description)
        VALUES ('delete', old.rowid, old.title, old.description);
    END""",
    """CREATE TRIGGER IF NOT EXISTS items_fts_update AFTER UPDATE OF title, description ON items
    BEGIN
        INSERT INTO items_fts(items_fts, rowid, title, description)
        VALUES ('delete', old.rowid, old.title, old.description);
        INSERT INTO items_fts(rowid, title, description)
        VALUES (new.rowid, new.title, new.description);
    END""",
]
POSTGRES = [
    """ALTER TABLE items ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(title, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(description, '')), 'B')
    ) STORED""",
    "CREATE INDEX ix_items_search_vector ON items USING gin (search_vector)",
]


def _is_sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def create_full_text_search() -> None:
    statements = [SQLITE_TABLE, *SQLITE_TRIGGERS] if _is_sqlite() else POSTGRES
    for statement in statements:
        op.execute(statement)


def drop_full_text_search() -> None:
    if _is_sqlite():
        for name in ("items_fts_insert", "items_fts_delete", "items_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS items_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_items_search_vector")
        op.execute("ALTER TABLE items DROP COLUMN IF EXISTS search_vector")


def restore_sqlite_fts() -> None:
    """After a batch rebuild of `items` on SQLite: triggers back, index rebuilt from the table."""
    if not _is_sqlite():
        return
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)
    op.execute("INSERT INTO items_fts(items_fts) VALUES ('rebuild')")
