"""idempotency scoping

Revision ID: 20261127_0009
Revises: 20261127_0008
Create Date: 2026-11-27 09:09:00

Idempotency keys are scoped to the caller's identity (user, and personal access token) rather
than to a hash of the `Authorization` header, and a response that carried a secret is recorded
without its body (`secret_withheld`). Keys stored under the old scoping can never match again;
they are dropped rather than left to expire.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261127_0009"
down_revision: str | None = "20261127_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM idempotency_keys")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("secret_withheld", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    op.execute("DELETE FROM idempotency_keys")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_column("secret_withheld")
