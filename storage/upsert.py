"""INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL: rows that two overlapping writers
may both create (blobs, source rows, open flags) are inserted, never looked up first.

Get-then-insert loses a race on PostgreSQL: both transactions see no row, both insert, one
aborts on UniqueViolation (a whole crawl's fetch lost) or, without a unique key, both rows
stay (two open flags for one rating). ON CONFLICT waits for the other writer's row and skips.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Base


def insert_ignore(
    s: Session,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    where: sa.TextClause | None = None,
    returning: sa.Column[Any] | None = None,
) -> list[Any]:
    """Insert the rows, skipping those whose `keys` (a unique index, partial with `where`)
    another row already holds; returns `returning` of the rows inserted."""
    if not rows:
        return []
    statement = _insert(s, model).on_conflict_do_nothing(
        index_elements=list(keys), index_where=where
    )
    if returning is None:
        s.execute(statement, list(rows))
        return []
    # One row per statement: RETURNING with executemany is not portable.
    found = [s.execute(statement.values(**row).returning(returning)).scalar() for row in rows]
    return [value for value in found if value is not None]


def upsert(
    s: Session, model: type[Base], rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> None:
    """Insert the rows, or update the columns of those whose `keys` (a unique constraint)
    another row already holds: INSERT … ON CONFLICT DO UPDATE."""
    if not rows:
        return
    statement = _insert(s, model)
    changed = {c: statement.excluded[c] for c in rows[0] if c not in keys}
    s.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=changed), list(rows))


def _insert(s: Session, model: type[Base]) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    dialect = s.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
