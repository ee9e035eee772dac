"""ix_deployments_env_rolled_back: an environment's rolled-back deployments by index

Revision ID: 20261129_0025
Revises: 20261128_0024
Create Date: 2026-11-29 00:00:00

Every DORA answer looks up the environment's rolled-back deployments (their commits don't count
towards the change lead time); a partial index holds only those few, instead of a scan of all
the environment's deployments (bench.dora, 10,000 deployments: 5.7 -> 0.6 ms).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261129_0025"
down_revision: str | None = "20261128_0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_deployments_env_rolled_back",
        "deployments",
        ["environment_id"],
        sqlite_where=sa.text("state = 'rolled_back'"),
        postgresql_where=sa.text("state = 'rolled_back'"),
    )


def downgrade() -> None:
    op.drop_index("ix_deployments_env_rolled_back", table_name="deployments")
