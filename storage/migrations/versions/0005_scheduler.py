"""scheduler heartbeat and lock (issue 4, run/status)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """The scheduler's row: pid, host, heartbeat, catalog and next wake."""
    op.create_table(
        "scheduler",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("catalog", sa.Text(), nullable=False),
        sa.Column("every_s", sa.Integer(), nullable=False),
        sa.Column("heartbeat_s", sa.Integer(), nullable=False),
        sa.Column("next_wake_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cycles", sa.Integer(), nullable=False),
        sa.Column("last_cycle_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler")),
    )


def downgrade() -> None:
    """Drop the scheduler's row."""
    op.drop_table("scheduler")
