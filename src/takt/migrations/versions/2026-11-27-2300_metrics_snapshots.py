"""metrics pre-aggregates: flow snapshots per closed day, stored change lead times

Revision ID: 20261127_0021
Revises: 20261127_0020
Create Date: 2026-11-27 23:00:00

Flow snapshots need no backfill: a project without snapshot rows is answered from the event
log, as before, until the worker's `flow-snapshots` sweep writes them (within the hour). The
shipped commits get their environment, when their deployment went live and their lead time,
computed by the database as takt.deployments.repository.store_lead_times does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import takt.core.models

revision: str = "20261127_0021"
down_revision: str | None = "20261127_0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flow_snapshots",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("through_day", sa.Date(), nullable=False),
        sa.Column("through_seq", sa.BigInteger(), nullable=False),
        sa.Column("trashed", sa.Integer(), nullable=False),
        sa.Column("trashed_latest", takt.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("written_at", takt.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_flow_snapshots_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_flow_snapshots")),
    )
    op.create_table(
        "flow_days",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("backlog", sa.Integer(), nullable=False),
        sa.Column("todo", sa.Integer(), nullable=False),
        sa.Column("in_progress", sa.Integer(), nullable=False),
        sa.Column("in_review", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Integer(), nullable=False),
        sa.Column("finished", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_flow_days_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "day", name=op.f("pk_flow_days")),
    )
    op.create_table(
        "flow_finishes",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("finished_at", takt.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cycle", sa.Float(), nullable=True),
        sa.Column("lead", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_flow_finishes_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_flow_finishes_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "seq", name=op.f("pk_flow_finishes")),
    )
    with op.batch_alter_table("flow_finishes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_flow_finishes_project_finished",
            ["project_id", "finished_at", "seq", "cycle", "lead"],
            unique=False,
        )

    with op.batch_alter_table("deployment_commits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("environment_id", sa.String(length=36), nullable=True))
        batch_op.add_column(
            sa.Column("deployed_at", takt.core.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("lead", sa.Float(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE deployment_commits AS c SET environment_id = d.environment_id, "
            "deployed_at = d.succeeded_at, lead = CASE WHEN c.committed_at < d.succeeded_at "
            "THEN CAST(date_part('epoch', d.succeeded_at - c.committed_at) AS FLOAT) END "
            "FROM deployments AS d WHERE d.id = c.deployment_id"
        )
    else:
        op.execute(
            "UPDATE deployment_commits SET "
            "environment_id = (SELECT d.environment_id FROM deployments d "
            "WHERE d.id = deployment_commits.deployment_id), "
            "deployed_at = (SELECT d.succeeded_at FROM deployments d "
            "WHERE d.id = deployment_commits.deployment_id)"
        )
        op.execute(
            "UPDATE deployment_commits SET lead = CASE WHEN committed_at < deployed_at "
            "THEN (julianday(deployed_at) - julianday(committed_at)) * 86400.0 END"
        )
    with op.batch_alter_table("deployment_commits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deployment_commits_env_deployed",
            ["environment_id", "deployed_at", "deployment_id", "committed_at", "lead"],
            unique=False,
        )
        batch_op.create_index(
            "ix_deployment_commits_env_lead",
            ["environment_id", "lead", "deployed_at", "deployment_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("deployment_commits", schema=None) as batch_op:
        batch_op.drop_index("ix_deployment_commits_env_lead")
        batch_op.drop_index("ix_deployment_commits_env_deployed")
        batch_op.drop_column("lead")
        batch_op.drop_column("deployed_at")
        batch_op.drop_column("environment_id")
    with op.batch_alter_table("flow_finishes", schema=None) as batch_op:
        batch_op.drop_index("ix_flow_finishes_project_finished")
    op.drop_table("flow_finishes")
    op.drop_table("flow_days")
    op.drop_table("flow_snapshots")
