"""notifications and feeds (issue 5)

Revision ID: 0004
Revises: 0003

The digest marks flag reasons it reported (``flag_reasons.reported_at``, like
``changes.reported_at``); the notification outbox keeps every composed message
(``notifications``), what it covered (``notification_items``, each item once) and each
channel's delivery with its attempts (``deliveries``), so a failed send is retried, never lost.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Add flag_reasons.reported_at and the outbox tables."""
    op.create_table(
        "notifications",
        sa.Column("id", Id, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", Id, nullable=False),
        sa.Column("notification_id", Id, nullable=False),
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_deliveries_notification_id_notifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("notification_id", "channel", name="uq_deliveries_channel"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deliveries_notification_id"), ["notification_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_deliveries_sent_at"), ["sent_at"], unique=False)

    op.create_table(
        "notification_items",
        sa.Column("id", Id, nullable=False),
        sa.Column("notification_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_items_notification_id_notifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_items")),
        sa.UniqueConstraint("kind", "item_id", name="uq_notification_items_item"),
    )
    with op.batch_alter_table("notification_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_items_notification_id"), ["notification_id"], unique=False
        )

    with op.batch_alter_table("flag_reasons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the outbox tables and flag_reasons.reported_at."""
    with op.batch_alter_table("flag_reasons", schema=None) as batch_op:
        batch_op.drop_column("reported_at")
    with op.batch_alter_table("notification_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_items_notification_id"))
    op.drop_table("notification_items")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_sent_at"))
        batch_op.drop_index(batch_op.f("ix_deliveries_notification_id"))
    op.drop_table("deliveries")
    op.drop_table("notifications")
