"""scheduler heartbeat and lock (issue 4, run/status)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Reserved so parallel work keeps one linear history; filled by its issue."""


def downgrade() -> None:
    """Nothing to undo yet."""
