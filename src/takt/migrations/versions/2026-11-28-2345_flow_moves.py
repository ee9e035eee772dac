"""flow_moves: the category moves of the flow snapshots' written days, per item

Revision ID: 20261128_0024
Revises: 20261128_0023
Create Date: 2026-11-28 23:45:00

A filtered flow answer (`q=`) joins the written days' moves to the items matching its filter
instead of reading those days' events again (bench.dora: flow over 90 days of bugs). The
snapshots written so far have no moves, so they are set aside: they are a cache of the event
log, answers come from the log until the worker's `flow-snapshots` sweep writes them again
(within the hour), moves included; `flow_snapshots.layout` tells rows with moves (2) from
rows a worker still running the older code might write after the upgrade (1, not used).
`ix_flow_finishes_item` serves the finishes' foreign key (purging an item from the trash).
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
        sa.Column("old", sa.String(length=16), nullable=True),
        sa.Column("new", sa.String(length=16), nullable=True),
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
    op.create_index("ix_flow_finishes_item", "flow_finishes", ["item_id"], unique=False)
    with op.batch_alter_table("flow_snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("layout", sa.Integer(), server_default="1", nullable=False))
    # The written snapshots have no moves: the next sweep writes them whole again.
    op.execute(sa.text("DELETE FROM flow_finishes"))
    op.execute(sa.text("DELETE FROM flow_days"))
    op.execute(sa.text("DELETE FROM flow_snapshots"))


def downgrade() -> None:
    with op.batch_alter_table("flow_snapshots", schema=None) as batch_op:
        batch_op.drop_column("layout")
    op.drop_index("ix_flow_finishes_item", table_name="flow_finishes")
    op.drop_index("ix_flow_moves_project_day", table_name="flow_moves")
    op.drop_table("flow_moves")
