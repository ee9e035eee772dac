"""auth sessions and login failures

Revision ID: 20261127_0007
Revises: 20261124_0006
Create Date: 2026-11-27 09:07:00

Slot reserved for: auth (issue 10/11 login and sessions). A no-op until its change lands.
"""

from collections.abc import Sequence

revision: str = "20261127_0007"
down_revision: str | None = "20261124_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
