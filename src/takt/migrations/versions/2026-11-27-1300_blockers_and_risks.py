"""blockers and risks: the blocker and risk tables (filled in by the blockers and risks domains)

Revision ID: 20261127_0014
Revises: 20261127_0013
Create Date: 2026-11-27 13:00:00
"""

from collections.abc import Sequence

revision: str = "20261127_0014"
down_revision: str | None = "20261127_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
