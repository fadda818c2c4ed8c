"""changes.tier (substantive, minor or noise) and suggestions (citation gaps): issue 12

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
    op.create_table(
        "suggestions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("change_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  sa.ForeignKey("changes.id"), nullable=False),
        sa.Column("tool_id", sa.String(200), nullable=False),
        sa.Column("criterion_id", sa.String(200), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sentences", sa.JSON(), nullable=False),
        sa.Column("matched_terms", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )  # fmt: skip
    op.create_index("ix_suggestions_change_id", "suggestions", ["change_id"])


def downgrade() -> None:
    """Drop the column and the table; minor changes read as noise again (significant is
    kept), and citation gaps are gone."""
    op.drop_index("ix_suggestions_change_id", table_name="suggestions")
    op.drop_table("suggestions")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_column("tier")
