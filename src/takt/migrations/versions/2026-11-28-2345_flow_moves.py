"""flow_moves: the category moves of the flow snapshots' written days, per item

Revision ID: 20261128_0024
Revises: 20261128_0023
Create Date: 2026-11-28 23:45:00

A filtered flow answer (`q=`) joins the written days' moves to the items matching its filter
instead of reading those days' events again (bench.dora: flow over 90 days of bugs). The
snapshots written so far have no moves, so they are set aside: they are a cache of the event
log, answers come from the log until the worker's `flow-snapshots` sweep writes them again
(within the hour), moves included.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261128_0024"
down_revision: str | None = "20261128_0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flow_moves",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("old", sa.String(), nullable=True),
        sa.Column("new", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_flow_moves_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_flow_moves_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "seq", name=op.f("pk_flow_moves")),
    )
    op.create_index(
        "ix_flow_moves_project_day",
        "flow_moves",
        ["project_id", "day", "item_id", "old", "new"],
        unique=False,
    )
    # The written snapshots have no moves: the next sweep writes them whole again.
    op.execute(sa.text("DELETE FROM flow_finishes"))
    op.execute(sa.text("DELETE FROM flow_days"))
    op.execute(sa.text("DELETE FROM flow_snapshots"))


def downgrade() -> None:
    op.drop_index("ix_flow_moves_project_day", table_name="flow_moves")
    op.drop_table("flow_moves")
