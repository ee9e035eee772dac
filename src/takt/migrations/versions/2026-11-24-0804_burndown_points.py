"""burndown points: a sprint's totals at past moments; events by project, type and time

Revision ID: 20261124_0005
Revises: 20261124_0004
Create Date: 2026-11-24 08:04:58.732767
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import takt.core.models

revision: str = "20261124_0005"
down_revision: str | None = "20261124_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sprint_burndown_points",
        sa.Column("sprint_id", sa.String(length=36), nullable=False),
        sa.Column("moment", takt.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("scope_points", sa.Float(), nullable=False),
        sa.Column("scope_items", sa.Integer(), nullable=False),
        sa.Column("remaining_points", sa.Float(), nullable=False),
        sa.Column("remaining_items", sa.Integer(), nullable=False),
        sa.Column("unestimated", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sprint_id"],
            ["sprints.id"],
            name=op.f("fk_sprint_burndown_points_sprint_id_sprints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sprint_id", "moment", name=op.f("pk_sprint_burndown_points")),
    )
    op.create_index("ix_events_project_type_time", "events", ["project_id", "type", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_events_project_type_time", table_name="events")
    op.drop_table("sprint_burndown_points")
