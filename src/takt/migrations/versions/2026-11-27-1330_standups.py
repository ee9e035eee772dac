"""stand-ups: config, entries and summaries (filled in by the standups domain)

Revision ID: 20261127_0015
Revises: 20261127_0014
Create Date: 2026-11-27 13:30:00
"""

from collections.abc import Sequence

revision: str = "20261127_0015"
down_revision: str | None = "20261127_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
