"""evidence anchors (issue 3)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Reserved so parallel work keeps one linear history; filled by its issue."""


def downgrade() -> None:
    """Nothing to undo yet."""
