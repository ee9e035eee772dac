"""event commit order: events carry their writing transaction's id, the cursor reads (tx, seq)

Revision ID: 20261127_0012
Revises: 20261127_0011
Create Date: 2026-11-27 09:12:00

On PostgreSQL `tx` defaults to the writing transaction's id, so a cursor reader can stay below
the oldest running transaction (see takt.core.events.committed_horizon). On SQLite it stays 0.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261127_0012"
down_revision: str | None = "20261127_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column("tx", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
    if op.get_bind().dialect.name == "postgresql":
        # Existing rows keep 0: they all committed before any reader of the new cursor.
        op.alter_column(
            "events",
            "tx",
            server_default=sa.text("(pg_current_xact_id()::text::bigint)"),
        )
    op.create_index("ix_events_project_position", "events", ["project_id", "tx", "seq"])


def downgrade() -> None:
    op.drop_index("ix_events_project_position", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("tx")
