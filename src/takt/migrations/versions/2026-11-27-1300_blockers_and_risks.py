"""blockers and risks: the risk register (risks, the items and sprints each threatens) and
blockers (what stops an item, waiting on whom or what, raised to resolved, escalated, promoted)

Revision ID: 20261127_0014
Revises: 20261127_0013
Create Date: 2026-11-27 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import takt.core.models

revision: str = "20261127_0014"
down_revision: str | None = "20261127_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = takt.core.models.UTCDateTime(timezone=True)
OPEN_NOT_ESCALATED = "status = 'open' AND escalated_at IS NULL"


def _common() -> list[sa.Column[object]]:
    """id, timestamps and version (IdMixin, TimestampMixin, VersionedMixin)."""
    return [
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "risks",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("likelihood", sa.SmallInteger(), nullable=False),
        sa.Column("impact", sa.SmallInteger(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=True),
        sa.Column("mitigation", sa.Text(), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=True),
        sa.Column("blocker_id", sa.String(length=36), nullable=True),
        sa.Column("created_by_id", sa.String(length=36), nullable=True),
        *_common(),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_risks_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_risks_owner_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_risks_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risks")),
        sa.UniqueConstraint("blocker_id", name=op.f("uq_risks_blocker_id")),
    )
    op.create_index("ix_risks_project_score", "risks", ["project_id", "score", "id"])

    op.create_table(
        "risk_items",
        sa.Column("risk_id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["risk_id"], ["risks.id"], name=op.f("fk_risk_items_risk_id_risks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_risk_items_item_id_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("risk_id", "item_id", name=op.f("pk_risk_items")),
    )
    op.create_index(op.f("ix_risk_items_item_id"), "risk_items", ["item_id"])

    op.create_table(
        "risk_sprints",
        sa.Column("risk_id", sa.String(length=36), nullable=False),
        sa.Column("sprint_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["risk_id"],
            ["risks.id"],
            name=op.f("fk_risk_sprints_risk_id_risks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sprint_id"],
            ["sprints.id"],
            name=op.f("fk_risk_sprints_sprint_id_sprints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("risk_id", "sprint_id", name=op.f("pk_risk_sprints")),
    )
    op.create_index(op.f("ix_risk_sprints_sprint_id"), "risk_sprints", ["sprint_id"])

    op.create_table(
        "blockers",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("waiting_on_kind", sa.String(length=16), nullable=False),
        sa.Column("waiting_on_user_id", sa.String(length=36), nullable=True),
        sa.Column("waiting_on_name", sa.String(length=100), nullable=True),
        sa.Column("waiting_on_item_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("raised_by_id", sa.String(length=36), nullable=True),
        sa.Column("raised_at", TIME, nullable=False),
        sa.Column("resolved_by_id", sa.String(length=36), nullable=True),
        sa.Column("resolved_at", TIME, nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("resolved_age_hours", sa.Float(), nullable=True),
        sa.Column("escalated_at", TIME, nullable=True),
        sa.Column("risk_id", sa.String(length=36), nullable=True),
        *_common(),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_blockers_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_blockers_item_id_items"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["waiting_on_user_id"],
            ["users.id"],
            name=op.f("fk_blockers_waiting_on_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["waiting_on_item_id"],
            ["items.id"],
            name=op.f("fk_blockers_waiting_on_item_id_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_id"],
            ["users.id"],
            name=op.f("fk_blockers_raised_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["users.id"],
            name=op.f("fk_blockers_resolved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["risk_id"], ["risks.id"], name=op.f("fk_blockers_risk_id_risks"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blockers")),
    )
    op.create_index(
        "ix_blockers_project_status_raised",
        "blockers",
        ["project_id", "status", "raised_at", "id"],
    )
    op.create_index("ix_blockers_item_status", "blockers", ["item_id", "status"])
    op.create_index(
        "ix_blockers_to_escalate",
        "blockers",
        ["raised_at"],
        sqlite_where=sa.text(OPEN_NOT_ESCALATED),
        postgresql_where=sa.text(OPEN_NOT_ESCALATED),
    )


def downgrade() -> None:
    op.drop_table("blockers")  # its indexes go with it
    op.drop_table("risk_sprints")
    op.drop_table("risk_items")
    op.drop_table("risks")
