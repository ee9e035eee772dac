"""sprint number bounds

Revision ID: 20261127_0010
Revises: 20261127_0009
Create Date: 2026-11-27 09:10:00

Slot reserved for: sprint numbers. A no-op until its change lands.
"""

from collections.abc import Sequence

revision: str = "20261127_0010"
down_revision: str | None = "20261127_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
