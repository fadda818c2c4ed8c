"""reviews.reported_at: a digest lists the resolutions made since the last one (issue 3)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """When a report first carried each resolution; the ones made before count as carried."""
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
    # A database that predates the column has sent its reports already: its old resolutions
    # are not news for the next digest.
    op.execute("UPDATE reviews SET reported_at = at")


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_column("reported_at")
