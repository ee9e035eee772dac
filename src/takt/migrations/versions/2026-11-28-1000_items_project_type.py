"""ix_items_project_type: the live items of a project by type, with their status and id

Revision ID: 20261128_0023
Revises: 20261128_0022
Create Date: 2026-11-28 10:00:00

A filter on the type (`q=type:bug`) reads this index only: the flow metrics count the matching
items by status and join their ids to the period's events and finishes without reading the
items' rows (bench.dora: flow over 90 days of bugs).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261128_0023"
down_revision: str | None = "20261128_0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_items_project_type",
        "items",
        ["project_id", "type", "status_id", "id"],
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_items_project_type", table_name="items")
