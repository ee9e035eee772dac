"""retrospectives: retros, cards, groups, votes, action links

Revision ID: 20261127_0017
Revises: 20261127_0016
Create Date: 2026-11-27 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import takt.core.models

revision: str = "20261127_0017"
down_revision: str | None = "20261127_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = takt.core.models.UTCDateTime(timezone=True)


def _common() -> list[sa.Column[object]]:
    """id, timestamps and version (IdMixin, TimestampMixin, VersionedMixin)."""
    return [
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    ]


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "retros",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("sprint_id", sa.String(length=36), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("template", sa.String(length=32), nullable=False),
        sa.Column("prompts", JSON, nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("hide_cards_during_collect", sa.Boolean(), nullable=False),
        sa.Column("vote_budget", sa.Integer(), nullable=False),
        sa.Column("max_votes_per_group", sa.Integer(), nullable=False),
        sa.Column("facilitator_id", sa.String(length=36), nullable=True),
        sa.Column("previous_retro_id", sa.String(length=36), nullable=True),
        sa.Column("phase_changed_at", TIME, nullable=False),
        sa.Column("closed_at", TIME, nullable=True),
        *_common(),
        _fk("retros", "project_id", "projects", "CASCADE"),
        _fk("retros", "sprint_id", "sprints", "SET NULL"),
        _fk("retros", "facilitator_id", "users", "SET NULL"),
        _fk("retros", "previous_retro_id", "retros", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retros")),
    )
    op.create_index("ix_retros_project_created", "retros", ["project_id", "created_at", "id"])

    op.create_table(
        "retro_groups",
        sa.Column("retro_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_common(),
        _fk("retro_groups", "retro_id", "retros", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retro_groups")),
    )
    op.create_index("ix_retro_groups_retro", "retro_groups", ["retro_id", "position"])

    op.create_table(
        "retro_cards",
        sa.Column("retro_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("prompt_id", sa.String(length=32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=True),
        sa.Column("group_id", sa.String(length=36), nullable=True),
        sa.Column("metric", sa.String(length=32), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        *_common(),
        _fk("retro_cards", "retro_id", "retros", "CASCADE"),
        _fk("retro_cards", "author_id", "users", "SET NULL"),
        _fk("retro_cards", "group_id", "retro_groups", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retro_cards")),
    )
    op.create_index("ix_retro_cards_retro", "retro_cards", ["retro_id", "created_at", "id"])
    op.create_index("ix_retro_cards_group", "retro_cards", ["group_id"])

    op.create_table(
        "retro_votes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("retro_id", sa.String(length=36), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("voter_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        _fk("retro_votes", "retro_id", "retros", "CASCADE"),
        _fk("retro_votes", "group_id", "retro_groups", "CASCADE"),
        _fk("retro_votes", "voter_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retro_votes")),
    )
    op.create_index("ix_retro_votes_voter", "retro_votes", ["retro_id", "voter_id", "group_id"])
    op.create_index("ix_retro_votes_group", "retro_votes", ["group_id"])

    op.create_table(
        "retro_actions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("retro_id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=True),
        sa.Column("created_by_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        _fk("retro_actions", "retro_id", "retros", "CASCADE"),
        _fk("retro_actions", "item_id", "items", "CASCADE"),
        _fk("retro_actions", "group_id", "retro_groups", "SET NULL"),
        _fk("retro_actions", "created_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retro_actions")),
        sa.UniqueConstraint("item_id", name=op.f("uq_retro_actions_item_id")),
    )
    op.create_index("ix_retro_actions_retro", "retro_actions", ["retro_id", "created_at", "id"])


def downgrade() -> None:
    # Each table's indexes go with it; children before what they point at.
    op.drop_table("retro_actions")
    op.drop_table("retro_votes")
    op.drop_table("retro_cards")
    op.drop_table("retro_groups")
    op.drop_table("retros")
