"""Source rows: created set-based, and each one's last fetch kept on it (migration 0008).

The scheduler's due decision, `status` and notify's failure streaks read one row per source
instead of scanning the fetch log (a fetch per source per day: millions of rows in a year).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.bulk import chunks
from storage.models import BROKEN, SourceRow
from storage.records import FetchEntry, SourceState
from storage.upsert import insert_ignore

# The open flags' partial unique index condition (models.Flag, migration 0008).
OPEN_FLAG = sa.text(f"status = 'open' AND severity <> '{BROKEN}'")
OPEN_BROKEN_FLAG = sa.text(f"status = 'open' AND severity = '{BROKEN}'")
# (tool, source) pairs read back per statement: two bound values each, under SQLite's
# 32,766 (storage/bulk.py IN_BATCH is 10,000 values).
PAIR_BATCH = 5_000


def source_rows(s: Session, keys: Sequence[tuple[str, str, str]]) -> list[SourceState]:
    """The rows of (tool, source, url) keys, in order: created where missing; a new URL
    resets the validators (the last URL given for a key wins)."""
    urls = {(tool, source): url for tool, source, url in keys}
    new = [
        {"tool_id": tool, "source_id": source, "url": url, "consecutive_failures": 0}
        for (tool, source), url in urls.items()
    ]
    for batch in chunks(new, PAIR_BATCH):
        insert_ignore(s, SourceRow, batch, ["tool_id", "source_id"])
    rows: dict[tuple[str, str], SourceRow] = {}
    for pairs in chunks(list(urls), PAIR_BATCH):
        pair = sa.tuple_(SourceRow.tool_id, SourceRow.source_id)
        for row in s.scalars(sa.select(SourceRow).where(pair.in_(pairs))):
            rows[(row.tool_id, row.source_id)] = row
    for key, url in urls.items():
        row = rows[key]
        if row.url != url:
            row.url, row.etag, row.last_modified = url, None, None
    s.flush()
    return [source_state(rows[(tool, source)]) for tool, source, _ in keys]


def source_state(row: SourceRow) -> SourceState:
    """A source row as the crawl needs it."""
    return SourceState(
        pk=row.id,
        tool_id=row.tool_id,
        source_id=row.source_id,
        url=row.url,
        etag=row.etag,
        last_modified=row.last_modified,
        consecutive_failures=row.consecutive_failures,
        failure_class=row.failure_class,
        broken_since=aware(row.broken_since),
    )


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value


def note_fetch(row: SourceRow, entry: FetchEntry, fetch_id: int) -> None:
    """Keep the fetch on its source's row (before record_health counts it): what it was, and
    where the current streak of failures started."""
    row.last_fetch_id = fetch_id
    row.last_outcome = entry.outcome
    row.last_error_kind = entry.error_kind
    row.last_error = entry.error
    row.last_started_at = entry.started_at
    row.last_retry_after = entry.retry_after
    if entry.outcome != "failed":
        row.last_ok_fetch_id, row.failing_since = fetch_id, None
        return
    since = aware(row.failing_since)
    if row.consecutive_failures <= 0 or since is None or entry.started_at < since:
        row.failing_since = entry.started_at


# The source rows' state from the fetch log: for a database that predates it (migration
# 0008) and for rows written in bulk (bench/store_scale.py). Correlated subqueries on
# fetches(source_pk, id): one index probe per source on SQLite and PostgreSQL alike.
_LAST = "(SELECT max(f.id) FROM fetches f WHERE f.source_pk = sources.id)"
_LAST_OK = (
    "(SELECT max(f.id) FROM fetches f WHERE f.source_pk = sources.id AND f.outcome <> 'failed')"
)
_FROM_LAST = (
    ("last_outcome", "outcome"),
    ("last_error_kind", "error_kind"),
    ("last_error", "error"),
    ("last_started_at", "started_at"),
    ("last_retry_after", "retry_after"),
)
BACKFILL = (
    f"UPDATE sources SET last_fetch_id = {_LAST}, last_ok_fetch_id = {_LAST_OK}",
    "UPDATE sources SET "
    + ", ".join(
        f"{column} = (SELECT f.{field} FROM fetches f WHERE f.id = sources.last_fetch_id)"
        for column, field in _FROM_LAST
    ),
    "UPDATE sources SET failing_since = (SELECT min(f.started_at) FROM fetches f"
    " WHERE f.source_pk = sources.id AND f.outcome = 'failed'"
    " AND f.id > coalesce(sources.last_ok_fetch_id, 0)) WHERE consecutive_failures > 0",
)


def backfill(conn: sa.Connection) -> None:
    """Fill every source row's last-fetch state from the fetch log."""
    for statement in BACKFILL:
        conn.exec_driver_sql(statement)
