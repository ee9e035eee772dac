"""deployments.rolled_back_at: when a deployment became rolled back

Revision ID: 20261129_0026
Revises: 20261129_0025
Create Date: 2026-11-29 13:00:00

DORA's change lead time leaves out the commits of deployments rolled back by `as_of`. It took
that moment from `restored_at` or `failed_at`, which belong to the deployment's earliest failure
(an incident it caused may come days before the rollback), so a past answer changed once a later
rollback was reported. Existing rolled-back rows get the best moment known: the restore, the
failure, the finish, the last update.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import takt.core.models

revision: str = "20261129_0026"
down_revision: str | None = "20261129_0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rolled_back_at", takt.core.models.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute(
        sa.text(
            "UPDATE deployments"
            " SET rolled_back_at = coalesce(restored_at, failed_at, finished_at, updated_at)"
            " WHERE state = 'rolled_back'"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_column("rolled_back_at")
