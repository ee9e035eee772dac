"""webhooks.url_display: the userinfo of a standard webhook's URL masked

Revision ID: 20261129_0027
Revises: 20261129_0026
Create Date: 2026-11-29 16:00:00

A standard webhook's `url_display` (what answers, events and the audit log show) held the whole
URL, credentials of its userinfo included (they are sent as basic auth, and a project's viewers
read its `webhook.*` events). New webhooks show the userinfo as `***@`
(`webhooks.service.url_display`); this masks the existing ones the same way. The URL that is
sent is the sealed one (`url_encrypted`), unchanged. Events written before stay as they were.
"""

from collections.abc import Sequence

import httpx
import sqlalchemy as sa
from alembic import op

revision: str = "20261129_0027"
down_revision: str | None = "20261129_0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As webhooks.service.MASK, copied: a migration keeps what it did when the code moves on.
MASK = b"***"


def _masked(url: str) -> str | None:
    """The URL with its userinfo masked as httpx (the sender) reads it; None when it has none
    (or doesn't parse, which a checked URL always does)."""
    try:
        parsed = httpx.URL(url)
        if not parsed.userinfo or parsed.userinfo == MASK:
            return None
        return str(parsed.copy_with(userinfo=MASK))
    except (httpx.InvalidURL, ValueError):
        return None


def upgrade() -> None:
    connection = op.get_bind()
    webhooks = sa.table(
        "webhooks", sa.column("id", sa.String), sa.column("kind", sa.String),
        sa.column("url_display", sa.String),
    )  # fmt: skip
    rows = connection.execute(
        sa.select(webhooks.c.id, webhooks.c.url_display).where(
            webhooks.c.kind == "standard", webhooks.c.url_display.contains("@")
        )
    ).all()
    for webhook_id, shown in rows:
        masked = _masked(shown)
        if masked is not None:
            connection.execute(
                sa.update(webhooks).where(webhooks.c.id == webhook_id).values(url_display=masked)
            )


def downgrade() -> None:
    """Nothing to undo: the credentials are not kept anywhere but in the sealed URL."""
