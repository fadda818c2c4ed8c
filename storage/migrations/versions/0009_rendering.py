"""rendering (issue 16): fetches.rendered, and each snapshot's screenshot and text boxes

Revision ID: 0009_rendering
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_rendering"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Every existing fetch was a plain one; no existing version has a screenshot."""
    with op.batch_alter_table("fetches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rendered", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("screenshot_sha", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("screenshot_boxes", sa.JSON(), nullable=True))
        batch_op.create_foreign_key(
            "fk_snapshots_screenshot_sha_blobs", "blobs", ["screenshot_sha"], ["sha256"]
        )


def downgrade() -> None:
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.drop_constraint("fk_snapshots_screenshot_sha_blobs", type_="foreignkey")
        batch_op.drop_column("screenshot_boxes")
        batch_op.drop_column("screenshot_sha")
    with op.batch_alter_table("fetches", schema=None) as batch_op:
        batch_op.drop_column("rendered")
