"""evidence anchors (issue 3)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Where each evidence quote stands in its source: followed from version to version."""
    op.create_table(
        "anchors",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tool_id", sa.String(length=200), nullable=False),
        sa.Column("criterion_id", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("quote_sha", sa.String(length=64), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column("suffix", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("passage", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anchors")),
        sa.UniqueConstraint(
            "tool_id", "criterion_id", "source_id", "quote_sha", name="uq_anchors_quote"
        ),
    )
    op.create_index(op.f("ix_anchors_tool_id"), "anchors", ["tool_id"], unique=False)


def downgrade() -> None:
    """Drop the anchors."""
    op.drop_index(op.f("ix_anchors_tool_id"), table_name="anchors")
    op.drop_table("anchors")
