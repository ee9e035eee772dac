"""idempotency scoping

Revision ID: 20261127_0009
Revises: 20261127_0008
Create Date: 2026-11-27 09:09:00

Slot reserved for: idempotency. A no-op until its change lands.
"""

from collections.abc import Sequence

revision: str = "20261127_0009"
down_revision: str | None = "20261127_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
