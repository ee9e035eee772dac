"""sprints

Revision ID: 20261124_0004
Revises: 20261124_0003
Create Date: 2026-11-24 05:04:21.843963
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import takt.core.models
from takt.migrations.fts import restore_sqlite_fts

revision: str = "20261124_0004"
down_revision: str | None = "20261124_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sprints",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", takt.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", takt.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "commitment", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column(
            "report", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", takt.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", takt.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_sprints_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sprints")),
    )
    with op.batch_alter_table("sprints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sprints_project_start", ["project_id", "start_date", "id"], unique=False
        )
        batch_op.create_index(
            "uq_sprints_one_active",
            ["project_id"],
            unique=True,
            sqlite_where=sa.text("state = 'active'"),
            postgresql_where=sa.text("state = 'active'"),
        )

    op.create_table(
        "sprint_capacity",
        sa.Column("sprint_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("allocation", sa.Float(), nullable=False),
        sa.Column("absent_days", sa.JSON(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["sprint_id"],
            ["sprints.id"],
            name=op.f("fk_sprint_capacity_sprint_id_sprints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sprint_capacity_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sprint_capacity")),
        sa.UniqueConstraint("sprint_id", "user_id", name=op.f("uq_sprint_capacity_sprint_id")),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_items_sprint_id_sprints"),
            "sprints",
            ["sprint_id"],
            ["id"],
            ondelete="SET NULL",
        )
    restore_sqlite_fts()


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_items_sprint_id_sprints"), type_="foreignkey")
    restore_sqlite_fts()

    op.drop_table("sprint_capacity")
    with op.batch_alter_table("sprints", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_sprints_one_active",
            sqlite_where=sa.text("state = 'active'"),
            postgresql_where=sa.text("state = 'active'"),
        )
        batch_op.drop_index("ix_sprints_project_start")

    op.drop_table("sprints")
