"""stand-ups: config, entries and summaries; the events index drafts read by

Revision ID: 20261127_0015
Revises: 20261127_0014
Create Date: 2026-11-27 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import takt.core.models

revision: str = "20261127_0015"
down_revision: str | None = "20261127_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "standup_configs",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("questions", JSON, nullable=False),
        sa.Column("weekdays", JSON, nullable=True),
        sa.Column("cutoff", sa.String(length=5), nullable=False),
        sa.Column("participants", JSON, nullable=True),
        sa.Column("share_answers_in_events", sa.Boolean(), nullable=False),
        sa.Column("created_at", takt.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", takt.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_standup_configs_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_standup_configs")),
    )
    op.create_table(
        "standup_entries",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("standup_date", sa.Date(), nullable=False),
        sa.Column("answers", JSON, nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("blocker_ids", JSON, nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", takt.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", takt.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_standup_entries_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_standup_entries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_entries")),
        sa.UniqueConstraint(
            "project_id",
            "user_id",
            "standup_date",
            name=op.f("uq_standup_entries_project_id"),
        ),
    )
    op.create_index(
        "ix_standup_entries_project_date",
        "standup_entries",
        ["project_id", "standup_date"],
        unique=False,
    )
    op.create_table(
        "standup_summaries",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("standup_date", sa.Date(), nullable=False),
        sa.Column("recorded_at", takt.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("submitted", sa.Integer(), nullable=False),
        sa.Column("participation", sa.Float(), nullable=True),
        sa.Column("blocked_rate", sa.Float(), nullable=True),
        sa.Column("open_blockers", sa.Integer(), nullable=False),
        sa.Column("sprint_id", sa.String(length=36), nullable=True),
        sa.Column("sprint_probability", sa.Float(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_standup_summaries_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_summaries")),
        sa.UniqueConstraint(
            "project_id", "standup_date", name=op.f("uq_standup_summaries_project_id")
        ),
    )
    # A member's events of a project over a period (stand-up drafts).
    op.create_index(
        "ix_events_project_actor_time",
        "events",
        ["project_id", "actor_id", "occurred_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_events_project_actor_time", table_name="events")
    op.drop_table("standup_summaries")
    op.drop_index("ix_standup_entries_project_date", table_name="standup_entries")
    op.drop_table("standup_entries")
    op.drop_table("standup_configs")
