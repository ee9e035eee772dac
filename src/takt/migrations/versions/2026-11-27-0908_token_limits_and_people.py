"""token limits and people

Revision ID: 20261127_0008
Revises: 20261127_0007
Create Date: 2026-11-27 09:08:00

Slot reserved for: token limits and people. A no-op until its change lands.
"""

from collections.abc import Sequence

revision: str = "20261127_0008"
down_revision: str | None = "20261127_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
