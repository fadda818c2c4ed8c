"""unattended operation (issue 4): failure classes, broken sources, killed runs

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Failure class per fetch and per source, broken-since, broken-source reasons, run owner."""
    with op.batch_alter_table("fetches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure_class", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("retry_after", sa.Float(), nullable=True))
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure_class", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("broken_since", When, nullable=True))
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("host", sa.String(length=255), nullable=True))
    # A broken-source reason has no change: it points at the source, its class and since when.
    with op.batch_alter_table("flag_reasons", schema=None) as batch_op:
        batch_op.alter_column("change_id", existing_type=Id, nullable=True)
        batch_op.add_column(sa.Column("failure_class", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("broken_since", When, nullable=True))


def downgrade() -> None:
    """Drop the columns; broken-source flags (which have no change) go with them."""
    broken = "SELECT id FROM flags WHERE severity = 'broken'"
    op.execute(f"DELETE FROM reviews WHERE flag_id IN ({broken})")
    op.execute(f"DELETE FROM flag_reasons WHERE flag_id IN ({broken}) OR change_id IS NULL")
    op.execute("DELETE FROM flags WHERE severity = 'broken'")
    with op.batch_alter_table("flag_reasons", schema=None) as batch_op:
        batch_op.drop_column("broken_since")
        batch_op.drop_column("failure_class")
        batch_op.alter_column("change_id", existing_type=Id, nullable=False)
    # Dropping a column in place (SQLite 3.35+): recreating a table that others reference
    # would break their foreign keys.
    with op.batch_alter_table("crawl_runs", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("host")
        batch_op.drop_column("pid")
    with op.batch_alter_table("sources", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("broken_since")
        batch_op.drop_column("failure_class")
    with op.batch_alter_table("fetches", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("retry_after")
        batch_op.drop_column("failure_class")
