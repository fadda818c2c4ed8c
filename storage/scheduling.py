"""The scheduler's bookkeeping: its heartbeat row, each source's schedule state, killed crawls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.models import CrawlRun, Fetch, SchedulerRow, SourceRow
from storage.records import FetchEntry
from storage.store import Store, now
from storage.values import FailureClass, Outcome

_ROW_ID = 1  # one scheduler per database, so one row
# The longest wait a server's Retry-After can impose, in seconds. A day: a legal page we check
# daily may skip one check, not more. The fetch clamps the header's value to it; reading clamps
# again, for rows an older version stored as sent ("1e23", "inf" overflowed every due time).
RETRY_AFTER_MAX_S = 86400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat:
    """The scheduler's row: who runs, since when, last sign of life, what it watches."""

    pid: int
    host: str
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    catalog: str
    every_s: int
    heartbeat_s: int
    next_wake_at: datetime | None
    cycles: int
    last_cycle_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceSchedule:
    """A source's database state as scheduling and `status` need it."""

    tool: str
    source: str
    url: str
    last_fetch_at: datetime | None
    last_ok_at: datetime | None
    consecutive_failures: int
    last_outcome: Outcome | None  # the last fetch's
    last_error_kind: str | None
    last_error: str | None
    failing_since: datetime | None  # start of the current run of failures
    failure_class: FailureClass | None = None  # the last failure's class
    broken_since: datetime | None = None  # set once the source counts as broken (flagged)
    retry_after: datetime | None = None  # a failed last fetch's Retry-After, as a time


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything here is aware UTC."""
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def write_heartbeat(store: Store, beat: Heartbeat) -> None:
    """Create or replace the scheduler's row (at start)."""
    with store.sessions.begin() as s:
        row = s.get(SchedulerRow, _ROW_ID) or SchedulerRow(id=_ROW_ID)
        for name in Heartbeat.__slots__:
            setattr(row, name, getattr(beat, name))
        s.add(row)


def beat(
    store: Store,
    *,
    next_wake_at: datetime | None = None,
    cycle_done: bool = False,
    stopped: bool = False,
) -> None:
    """Move the heartbeat; optionally record a finished cycle, the next wake, or a clean stop."""
    at = now()
    with store.sessions.begin() as s:
        row = s.get(SchedulerRow, _ROW_ID)
        if row is None:
            return
        row.heartbeat_at = at
        if next_wake_at is not None:
            row.next_wake_at = next_wake_at
        if cycle_done:
            row.cycles += 1
            row.last_cycle_at = at
        if stopped:
            row.stopped_at = at


def read_heartbeat(store: Store) -> Heartbeat | None:
    """The scheduler's row, if a scheduler ever ran on this database."""
    with store.sessions() as s:
        row = s.get(SchedulerRow, _ROW_ID)
        if row is None:
            return None
        values = {name: getattr(row, name) for name in Heartbeat.__slots__}
    for name in ("started_at", "heartbeat_at", "stopped_at", "next_wake_at", "last_cycle_at"):
        values[name] = _utc(values[name])
    return Heartbeat(**values)


def source_schedules(store: Store) -> dict[tuple[str, str], SourceSchedule]:
    """Every known source's schedule state, by (tool, source)."""
    latest = sa.select(sa.func.max(Fetch.id)).group_by(Fetch.source_pk)
    with store.sessions() as s:
        fetches = {f.source_pk: f for f in s.scalars(sa.select(Fetch).where(Fetch.id.in_(latest)))}
        out: dict[tuple[str, str], SourceSchedule] = {}
        for row in s.scalars(sa.select(SourceRow).order_by(SourceRow.id)):
            last = fetches.get(row.id)
            out[(row.tool_id, row.source_id)] = SourceSchedule(
                tool=row.tool_id,
                source=row.source_id,
                url=row.url,
                last_fetch_at=_utc(row.last_fetch_at),
                last_ok_at=_utc(row.last_ok_at),
                consecutive_failures=row.consecutive_failures,
                last_outcome=last.outcome if last else None,
                last_error_kind=last.error_kind if last else None,
                last_error=last.error if last else None,
                failing_since=_failing_since(s, row),
                failure_class=row.failure_class if row.consecutive_failures else None,
                broken_since=_utc(row.broken_since),
                retry_after=_retry_after(last),
            )
    return out


def _retry_after(last: Fetch | None) -> datetime | None:
    """When a server that answered Retry-After allows the next request (None: no limit)."""
    if last is None or last.outcome != "failed" or not last.retry_after:
        return None
    seconds = last.retry_after
    if not seconds > 0:  # NaN (PostgreSQL keeps it) or negative: no usable wait
        return None
    started = _utc(last.started_at)
    return None if started is None else started + timedelta(seconds=min(seconds, RETRY_AFTER_MAX_S))


def _failing_since(s: Session, row: SourceRow) -> datetime | None:
    """When the current streak of failures began: its first fetch's start."""
    if row.consecutive_failures <= 0:
        return None
    streak = (
        sa.select(Fetch.started_at)
        .where(Fetch.source_pk == row.id)
        .order_by(Fetch.id.desc())
        .limit(row.consecutive_failures)
    )
    return _utc(min(s.scalars(streak), default=None))


def record_killed(
    store: Store,
    catalog: str,
    keys: Sequence[tuple[str, str, str]],
    since: datetime,
    why: str,
    kind: str = "crawl-killed",
) -> int:
    """After a crawl child was killed or died: close its runs, log a failure per unfinished source.

    A source whose fetch the child already recorded (last_fetch_at ≥ since) keeps it; the others
    get a failure of `kind`, so they count towards backoff and never look fetched.
    Returns the number of failures recorded.
    """
    with store.sessions.begin() as s:
        for run in s.scalars(
            sa.select(CrawlRun).where(CrawlRun.status == "running", CrawlRun.started_at >= since)
        ):
            run.status, run.finished_at = "killed", now()
    states = store.source_states(keys)
    with store.sessions() as s:
        fetched = {
            pk
            for pk, at in s.execute(
                sa.select(SourceRow.id, SourceRow.last_fetch_at).where(
                    SourceRow.id.in_([st.pk for st in states])
                )
            )
            if at is not None and _utc(at) >= since  # type: ignore[operator]
        }
    unfinished = [st for st in states if st.pk not in fetched]
    if not unfinished:
        return 0
    run_id = store.begin_run(catalog)
    for st in unfinished:
        entry = FetchEntry(
            run_id=run_id,
            source_pk=st.pk,
            requested_url=st.url,
            final_url=None,
            redirects=(),
            status=None,
            outcome="failed",
            error=why,
            error_kind=kind,
            content_type=None,
            raw=None,
            started_at=since,
            elapsed_ms=int((now() - since).total_seconds() * 1000),
        )
        store.record_fetch(entry)
    store.end_run(run_id, "killed")
    return len(unfinished)
