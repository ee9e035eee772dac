"""rate counters: failed-login counts shared by every worker process without Redis

Revision ID: 20261127_0007
Revises: 20261124_0006
Create Date: 2026-11-27 09:07:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import takt.core.models

revision: str = "20261127_0007"
down_revision: str | None = "20261124_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_counters",
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("window_ends_at", takt.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_counters")),
    )
    op.create_index(
        op.f("ix_rate_counters_window_ends_at"), "rate_counters", ["window_ends_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_counters_window_ends_at"), table_name="rate_counters")
    op.drop_table("rate_counters")
