"""planning poker: sessions, session items, votes by round

Revision ID: 20261127_0018
Revises: 20261127_0017
Create Date: 2026-11-27 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import takt.core.models

revision: str = "20261127_0018"
down_revision: str | None = "20261127_0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "estimation_sessions",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("facilitator_id", sa.String(length=36), nullable=True),
        sa.Column("scale", sa.String(length=16), nullable=False),
        sa.Column("cards", JSON, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("current_position", sa.Integer(), nullable=True),
        sa.Column("finished_at", takt.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", takt.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", takt.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facilitator_id"],
            ["users.id"],
            name=op.f("fk_estimation_sessions_facilitator_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_estimation_sessions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estimation_sessions")),
    )
    with op.batch_alter_table("estimation_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_estimation_sessions_project_created",
            ["project_id", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "estimation_participants",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["estimation_sessions.id"],
            name=op.f("fk_estimation_participants_session_id_estimation_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_estimation_participants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "user_id", name=op.f("pk_estimation_participants")),
    )
    with op.batch_alter_table("estimation_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_estimation_participants_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "estimation_items",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("estimate", sa.Float(), nullable=True),
        sa.Column("estimated_at", takt.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("estimated_by_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["estimated_by_id"],
            ["users.id"],
            name=op.f("fk_estimation_items_estimated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_estimation_items_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["estimation_sessions.id"],
            name=op.f("fk_estimation_items_session_id_estimation_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estimation_items")),
        sa.UniqueConstraint("session_id", "item_id", name="uq_estimation_items_session_item"),
        sa.UniqueConstraint("session_id", "position", name="uq_estimation_items_session_position"),
    )
    with op.batch_alter_table("estimation_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_estimation_items_item_id"), ["item_id"], unique=False)

    op.create_table(
        "estimation_rounds",
        sa.Column("session_item_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_at", takt.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revealed_at", takt.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reset_at", takt.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("calibration", JSON, nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_item_id"],
            ["estimation_items.id"],
            name=op.f("fk_estimation_rounds_session_item_id_estimation_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estimation_rounds")),
        sa.UniqueConstraint(
            "session_item_id", "number", name=op.f("uq_estimation_rounds_session_item_id")
        ),
    )

    op.create_table(
        "estimation_votes",
        sa.Column("round_id", sa.String(length=36), nullable=False),
        sa.Column("voter_id", sa.String(length=36), nullable=False),
        sa.Column("card", sa.String(length=8), nullable=False),
        sa.Column("points", sa.Float(), nullable=True),
        sa.Column("voted_at", takt.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["estimation_rounds.id"],
            name=op.f("fk_estimation_votes_round_id_estimation_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["voter_id"],
            ["users.id"],
            name=op.f("fk_estimation_votes_voter_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estimation_votes")),
        sa.UniqueConstraint("round_id", "voter_id", name=op.f("uq_estimation_votes_round_id")),
    )
    with op.batch_alter_table("estimation_votes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_estimation_votes_voter_id"), ["voter_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("estimation_votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_estimation_votes_voter_id"))
    op.drop_table("estimation_votes")
    op.drop_table("estimation_rounds")
    with op.batch_alter_table("estimation_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_estimation_items_item_id"))
    op.drop_table("estimation_items")
    with op.batch_alter_table("estimation_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_estimation_participants_user_id"))
    op.drop_table("estimation_participants")
    with op.batch_alter_table("estimation_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_estimation_sessions_project_created")
    op.drop_table("estimation_sessions")
