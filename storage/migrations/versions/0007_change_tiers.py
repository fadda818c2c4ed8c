"""changes.tier: substantive, minor or noise (issue 12: three tiers instead of two)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Every existing change keeps its verdict: significant ones are substantive, the rest
    noise (a minor tier did not exist when they were judged)."""
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tier", sa.String(16), nullable=False, server_default="noise")
        )
    op.execute("UPDATE changes SET tier = 'substantive' WHERE significant")


def downgrade() -> None:
    """Drop the column; minor changes read as noise again (significant is kept)."""
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_column("tier")
