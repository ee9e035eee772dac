"""event commit order

Revision ID: 20261127_0012
Revises: 20261127_0011
Create Date: 2026-11-27 09:12:00

Slot reserved for: event cursor. A no-op until its change lands.
"""

from collections.abc import Sequence

revision: str = "20261127_0012"
down_revision: str | None = "20261127_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
