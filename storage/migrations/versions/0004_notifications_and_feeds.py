"""notifications and feeds (issue 5)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Reserved so parallel work keeps one linear history; filled by its issue."""


def downgrade() -> None:
    """Nothing to undo yet."""
