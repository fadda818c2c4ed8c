"""storage that scales (issue 15): the last fetch on the source row, composite and partial
indexes, one open flag per rating enforced by a partial unique index

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.sourcelog import backfill

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)
OPEN = "status = 'open' AND severity <> 'broken'"
OPEN_BROKEN = "status = 'open' AND severity = 'broken'"

# A broken-source flag names its source (its one source-broken reason says which).
_BROKEN_SOURCE = (
    "UPDATE flags SET source_id = (SELECT min(r.source_id) FROM flag_reasons r"
    " WHERE r.flag_id = flags.id AND r.kind = 'source-broken') WHERE severity = 'broken'"
)


def _merge_duplicates(keys: str, condition: str) -> None:
    """Open flags of one rating opened twice by overlapping crawls: the oldest keeps every
    reason (and the worst severity), the others go. Nothing an editor did is lost: an open
    flag has no review yet."""
    inner = condition.replace("status", "k.status").replace("severity", "k.severity")
    keep = f"(SELECT min(k.id) FROM flags k WHERE {inner}"
    keep += "".join(f" AND k.{key} = flags.{key}" for key in keys.split(", ")) + ")"
    dupes = f"SELECT id FROM flags WHERE {condition} AND id <> {keep}"
    conn = op.get_bind()
    pairs = conn.execute(sa.text(f"SELECT id, {keep} FROM flags WHERE id IN ({dupes})")).all()
    for dupe, kept in pairs:
        conn.execute(
            sa.text("UPDATE flag_reasons SET flag_id = :kept WHERE flag_id = :dupe"),
            {"kept": kept, "dupe": dupe},
        )
        conn.execute(
            sa.text(
                "UPDATE flags SET severity = 'evidence' WHERE id = :kept AND EXISTS "
                "(SELECT 1 FROM flags d WHERE d.id = :dupe AND d.severity = 'evidence')"
            ),
            {"kept": kept, "dupe": dupe},
        )
        conn.execute(sa.text("DELETE FROM flags WHERE id = :dupe"), {"dupe": dupe})


def upgrade() -> None:
    """Columns, indexes, then the data they need: the source rows' last fetch, the broken
    flags' source, duplicate open flags merged (so the unique index can exist)."""
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_fetch_id", Id, nullable=True))
        batch_op.add_column(sa.Column("last_outcome", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("last_error_kind", sa.String(32), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("last_started_at", When, nullable=True))
        batch_op.add_column(sa.Column("last_retry_after", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("last_ok_fetch_id", Id, nullable=True))
        batch_op.add_column(sa.Column("failing_since", When, nullable=True))
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_id", sa.String(200), nullable=True))
    # In SQLite an index on source_pk already ends with the rowid; PostgreSQL needs the id.
    op.create_index("ix_fetches_source_pk_id", "fetches", ["source_pk", "id"])
    op.drop_index("ix_fetches_source_pk", table_name="fetches")
    # The statements live with the code that keeps the state current (storage/sourcelog.py).
    backfill(op.get_bind())
    op.execute(_BROKEN_SOURCE)
    _merge_duplicates("tool_id, criterion_id", OPEN)
    _merge_duplicates("tool_id, criterion_id, source_id", OPEN_BROKEN)
    where = {"sqlite_where": sa.text(OPEN), "postgresql_where": sa.text(OPEN)}
    op.create_index("uq_flags_open", "flags", ["tool_id", "criterion_id"], unique=True, **where)
    where = {"sqlite_where": sa.text(OPEN_BROKEN), "postgresql_where": sa.text(OPEN_BROKEN)}
    op.create_index(
        "uq_flags_open_broken", "flags", ["tool_id", "criterion_id", "source_id"],
        unique=True, **where,
    )  # fmt: skip
    unreported = {"sqlite_where": sa.text("reported_at IS NULL"),
                  "postgresql_where": sa.text("reported_at IS NULL")}  # fmt: skip
    op.create_index("ix_changes_unreported", "changes", ["id"], **unreported)
    op.create_index("ix_flag_reasons_unreported", "flag_reasons", ["id"], **unreported)
    failing = {"sqlite_where": sa.text("consecutive_failures > 0"),
               "postgresql_where": sa.text("consecutive_failures > 0")}  # fmt: skip
    op.create_index("ix_sources_failing", "sources", ["id"], **failing)


def downgrade() -> None:
    """Drop the indexes and columns (the fetch log still holds everything they summed up)."""
    op.drop_index("ix_sources_failing", table_name="sources")
    op.drop_index("ix_flag_reasons_unreported", table_name="flag_reasons")
    op.drop_index("ix_changes_unreported", table_name="changes")
    op.drop_index("uq_flags_open_broken", table_name="flags")
    op.drop_index("uq_flags_open", table_name="flags")
    op.create_index("ix_fetches_source_pk", "fetches", ["source_pk"])
    op.drop_index("ix_fetches_source_pk_id", table_name="fetches")
    # In place (SQLite 3.35+): recreating a table others reference would break their keys.
    with op.batch_alter_table("flags", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("source_id")
    with op.batch_alter_table("sources", schema=None, recreate="never") as batch_op:
        for column in ("failing_since", "last_ok_fetch_id", "last_retry_after",
                       "last_started_at", "last_error", "last_error_kind", "last_outcome",
                       "last_fetch_id"):  # fmt: skip
            batch_op.drop_column(column)
