"""item trash

Revision ID: 20261127_0011
Revises: 20261127_0010
Create Date: 2026-11-27 09:11:00

Slot reserved for: item trash and transfer. A no-op until its change lands.
"""

from collections.abc import Sequence

revision: str = "20261127_0011"
down_revision: str | None = "20261127_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
