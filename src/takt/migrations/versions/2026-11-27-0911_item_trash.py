"""item trash

Revision ID: 20261127_0011
Revises: 20261127_0010
Create Date: 2026-11-27 09:11:00

Deleted items go to a trash for 30 days: `items.deleted_at` (set while trashed) and
`items.deleted_by_id`, with an index for the trash list and the purge.

Transfer: `items.reporter_name`, `items.assignee_name`, `comments.author_name` and
`events.actor_name` keep the people an imported document names as names; `events.imported`
marks history brought in by an import.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import takt.core.models

revision: str = "20261127_0011"
down_revision: str | None = "20261127_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs, no foreign key: on SQLite a new constraint means rebuilding `items`,
    # which would drop the triggers that keep its full-text index (items_fts) in step.
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deleted_at", takt.core.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("deleted_by_id", sa.String(length=36), nullable=True))
        batch_op.create_index(
            "ix_items_project_deleted", ["project_id", "deleted_at"], unique=False
        )
    # Transfer: people named by an imported document stay names (never local accounts), and the
    # history an import brings in says so.
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reporter_name", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("assignee_name", sa.String(length=32), nullable=True))
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author_name", sa.String(length=32), nullable=True))
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("imported", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("actor_name", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("actor_name")
        batch_op.drop_column("imported")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_column("author_name")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("assignee_name")
        batch_op.drop_column("reporter_name")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index("ix_items_project_deleted")
        batch_op.drop_column("deleted_by_id")
        batch_op.drop_column("deleted_at")
