"""refinement: the Definition of Ready ticks on items

Revision ID: 20261127_0016
Revises: 20261127_0015
Create Date: 2026-11-27 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261127_0016"
down_revision: str | None = "20261127_0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # A plain ADD COLUMN (with a default, so existing rows get none ticked): on SQLite, rebuilding
    # `items` would drop the triggers that keep its full-text index (items_fts) in step. The
    # Definition of Ready itself lives in `projects.settings` (JSON), which needs no change.
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(
            # A plain string default: a SQL expression would make alembic rebuild the table.
            sa.Column("dor_checked", JSON, server_default="[]", nullable=False)
        )


def downgrade() -> None:
    # Not in a batch either: a batch drop rebuilds `items` on SQLite (and loses its full-text
    # triggers); SQLite has dropped a plain column in place since 3.35.
    op.drop_column("items", "dor_checked")
