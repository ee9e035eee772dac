"""sprint dates within the calendar the API accepts

Revision ID: 20261127_0010
Revises: 20261127_0009
Create Date: 2026-11-27 09:10:00

Sprint dates are now bounded to 1970-01-01..9000-12-31 (takt.core.bounds): a sprint ending on
9999-12-31 made its capacity, burndown, forecast and completion fail, so it could never be
completed. Dates stored before the bound are brought inside it (no schema change). The downgrade
leaves them there: the old dates can't be told apart from new ones and were unusable anyway.
"""

import datetime
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261127_0010"
down_revision: str | None = "20261127_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST = datetime.date(1970, 1, 1)
LAST = datetime.date(9000, 12, 31)


def upgrade() -> None:
    for column in ("start_date", "end_date"):
        for bound, test in ((FIRST, "<"), (LAST, ">")):
            op.execute(
                sa.text(
                    f"UPDATE sprints SET {column} = :bound WHERE {column} {test} :bound"  # noqa: S608 (constant names)
                ).bindparams(sa.bindparam("bound", bound, type_=sa.Date()))
            )


def downgrade() -> None:
    pass
