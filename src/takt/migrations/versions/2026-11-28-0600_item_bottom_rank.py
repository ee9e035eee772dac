"""projects.bottom_rank: creates append to the backlog in one statement on PostgreSQL

Revision ID: 20261128_0022
Revises: 20261127_0021
Create Date: 2026-11-28 06:00:00

`bottom_rank` is an upper bound of the project's item ranks (NULL: not known yet). A create
on PostgreSQL takes its number and its rank in the UPDATE that locks the project row, through
`takt_rank_after`, the database's copy of takt.items.ranking.rank_after (a test checks that the
two agree). No backfill: the first create of a project with NULL reads its last rank, as every
create did before, and stores it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261128_0022"
down_revision: str | None = "20261127_0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# rank_after: a key after `bottom`, stepping at a width that widens by two with each leading
# "z" (never more than one past the key's length), the last digit plus one with carry, then
# trailing "0"s cut. The width keeps a digit below "z" inside it, so the carry stops there.
RANK_AFTER = r"""
CREATE FUNCTION takt_rank_after(bottom text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    alphabet constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    run integer := length(bottom) - length(ltrim(bottom, 'z'));
    width integer := least(2 * run + 1, length(bottom) + 1);
    digits text := rpad(left(bottom, width), width, '0');
    place integer := width;
    digit integer;
BEGIN
    LOOP
        digit := strpos(alphabet, substr(digits, place, 1)) - 1;
        IF digit < 61 THEN
            RETURN rtrim(
                overlay(digits PLACING substr(alphabet, digit + 2, 1) FROM place FOR 1), '0'
            );
        END IF;
        digits := overlay(digits PLACING '0' FROM place FOR 1);
        place := place - 1;
    END LOOP;
END
$$
"""


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        rank_type = sa.String(length=64).with_variant(
            sa.String(length=64, collation="C"), "postgresql"
        )
        batch_op.add_column(sa.Column("bottom_rank", rank_type, nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(RANK_AFTER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION takt_rank_after(text)")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("bottom_rank")
