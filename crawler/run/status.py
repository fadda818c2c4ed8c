"""`citewatch status`: each source's last fetch, outcome, next due time and breakage, whether
the scheduler is alive, and the evidence quotes never found (ratings not watched by them).
Built as a pure function of database state and catalog."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crawler.catalog.cache import CatalogCache
from crawler.catalog.model import Catalog, CatalogError, load_catalog
from crawler.report.watching import as_json as unwatched_json
from crawler.report.watching import describe, unwatched
from crawler.run.schedule import Policy, SourceTiming, due_at
from storage import Store
from storage.records import AnchorState
from storage.scheduling import (
    Heartbeat,
    SourceSchedule,
    collector_paused,
    read_heartbeat,
    source_schedules,
)
from storage.store import now
from storage.values import Outcome

# A heartbeat older than this many beats means the scheduler is gone (killed, host down):
# one missed beat can be a busy database, three cannot.
STALE_AFTER_BEATS = 3
# The interval assumed for sources without `every:` when no scheduler ever recorded its --every.
DEFAULT_EVERY = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class SchedulerStatus:
    """Whether a scheduler runs: running, stale (no recent heartbeat), stopped, not running."""

    state: str
    pid: int | None
    host: str | None
    started_at: datetime | None
    heartbeat_at: datetime | None
    heartbeat_age_s: float | None
    catalog: str | None
    next_wake_at: datetime | None
    cycles: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceStatus:
    """One source's line."""

    tool: str
    source: str
    url: str
    last_fetch_at: datetime | None
    outcome: Outcome | None  # the last fetch's; None: never fetched
    error_kind: str | None
    error: str | None
    due_at: datetime | None  # None: due now
    consecutive_failures: int
    broken: bool
    broken_since: datetime | None
    in_catalog: bool


@dataclass(frozen=True, slots=True)
class StatusReport:
    """What `status` prints."""

    at: datetime
    scheduler: SchedulerStatus
    sources: tuple[SourceStatus, ...]
    unwatched: tuple[AnchorState, ...] = ()  # evidence quotes never found in their source

    def as_json(self) -> dict[str, Any]:
        """One JSON object: `scheduler`, `sources` and `unwatched`, times as ISO 8601."""
        return {
            "at": self.at.isoformat(),
            "scheduler": _jsonable(self.scheduler),
            "sources": [_jsonable(s) for s in self.sources],
            "unwatched": [unwatched_json(a) for a in self.unwatched],
        }


def _jsonable(value: SchedulerStatus | SourceStatus) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in type(value).__slots__:
        v = getattr(value, name)
        out[name] = v.isoformat() if isinstance(v, datetime) else v
    return out


def scheduler_status(hb: Heartbeat | None, at: datetime) -> SchedulerStatus:
    """The scheduler's state from its row and the time now."""
    if hb is None:
        return SchedulerStatus(
            state="not running",
            pid=None,
            host=None,
            started_at=None,
            heartbeat_at=None,
            heartbeat_age_s=None,
            catalog=None,
            next_wake_at=None,
            cycles=0,
        )
    age = (at - hb.heartbeat_at).total_seconds()
    if hb.stopped_at is not None:
        state = "stopped"
    elif age > STALE_AFTER_BEATS * hb.heartbeat_s:
        state = "stale"
    else:
        state = "running"
    return SchedulerStatus(
        state=state,
        pid=hb.pid,
        host=hb.host,
        started_at=hb.started_at,
        heartbeat_at=hb.heartbeat_at,
        heartbeat_age_s=round(age, 1),
        catalog=hb.catalog,
        next_wake_at=hb.next_wake_at,
        cycles=hb.cycles,
    )


def build_status(
    hb: Heartbeat | None,
    known: Mapping[tuple[str, str], SourceSchedule],
    catalog: Catalog | None,
    policy: Policy,
    at: datetime,
    never_found: Sequence[AnchorState] = (),
) -> StatusReport:
    """Catalog sources first (in catalog order), then sources only the database knows;
    `never_found`: the evidence quotes never found in their source."""
    tools = catalog.tools if catalog else ()
    with collector_paused():  # a few objects per source, no cycles (as the scheduler's timings)
        every = {(t.id, s.id): (s.every, s.url) for t in tools for s in t.sources}
        keys = list(every) + [k for k in known if k not in every]
        lines = tuple(_status_line(key, known.get(key), every, policy) for key in keys)
    return StatusReport(at, scheduler_status(hb, at), lines, tuple(never_found))


def _status_line(
    key: tuple[str, str],
    row: SourceSchedule | None,
    every: Mapping[tuple[str, str], tuple[timedelta | None, str]],
    policy: Policy,
) -> SourceStatus:
    """One source's line: its timing from the catalog entry (if listed) and its row."""
    source_every, url = every.get(key, (None, row.url if row else ""))
    fresh = row is None or row.url != url  # never fetched, or moved: due now
    timing = SourceTiming(
        tool=key[0],
        source=key[1],
        every=source_every,
        last_fetch_at=None if fresh or row is None else row.last_fetch_at,
        consecutive_failures=0 if row is None else row.consecutive_failures,
        retry_after=None if row is None else row.retry_after,
    )
    return _line(key, url, row, due_at(timing, policy), key in every)


def _line(
    key: tuple[str, str], url: str, row: SourceSchedule | None, due: datetime | None, listed: bool
) -> SourceStatus:
    tool, source = key
    if row is None:
        return SourceStatus(
            tool=tool,
            source=source,
            url=url,
            last_fetch_at=None,
            outcome=None,
            error_kind=None,
            error=None,
            due_at=due,
            consecutive_failures=0,
            broken=False,
            broken_since=None,
            in_catalog=listed,
        )
    return SourceStatus(
        tool=tool,
        source=source,
        url=url,
        last_fetch_at=row.last_fetch_at,
        outcome=row.last_outcome,
        error_kind=row.failure_class or row.last_error_kind,
        error=row.last_error,
        due_at=due,
        consecutive_failures=row.consecutive_failures,
        # Broken as the crawl decided it (BROKEN_AFTER failures in a row raised the flag).
        broken=row.broken_since is not None,
        broken_since=row.broken_since,
        in_catalog=listed,
    )


def render(report: StatusReport) -> str:
    """A readable table: the scheduler line, then one row per source."""
    sch = report.scheduler
    if sch.state == "not running":
        head = "scheduler: not running (no `citewatch run` ever started on this database)"
    else:
        head = (
            f"scheduler: {sch.state} — pid {sch.pid} on {sch.host},"
            f" started {_when(sch.started_at)}, heartbeat {sch.heartbeat_age_s:.0f} s ago,"
            f" {sch.cycles} cycles,"
            f" next wake {_when(sch.next_wake_at)}\n  catalog {sch.catalog}"
        )
    rows = [("source", "last fetch", "outcome", "next due", "broken since")]
    for s in report.sources:
        outcome: str = s.outcome or "never fetched"
        if s.error_kind:
            outcome += f" ({s.error_kind})"
        if s.consecutive_failures:
            outcome += f" ×{s.consecutive_failures}"
        name = f"{s.tool}/{s.source}" + ("" if s.in_catalog else " (not in catalog)")
        due = "now" if s.due_at is None or s.due_at <= report.at else _when(s.due_at)
        rows.append((name, _when(s.last_fetch_at), outcome, due, _when(s.broken_since, "")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    table = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    broken = sum(1 for s in report.sources if s.broken)
    tail = f"{len(report.sources)} sources, {broken} broken"
    if report.unwatched:
        tail += f", {len(report.unwatched)} evidence quote(s) never found"
    lines = [head, "", *table, "", tail]
    if report.unwatched:
        lines += ["", f"Not watched — evidence never found ({len(report.unwatched)}):"]
        lines += [line for a in report.unwatched for line in describe(a)]
    return "\n".join(lines)


def _when(value: datetime | None, missing: str = "-") -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else missing


def status_report(
    store: Store, catalog_path: str | None = None, cache: CatalogCache | None = None
) -> StatusReport:
    """Read the database (and the catalog: given, else the scheduler's, else the last crawl's)."""
    hb = read_heartbeat(store)
    catalog: Catalog | None = None
    if catalog_path is not None:
        # Asked for explicitly: a broken one is an error.
        catalog = load_catalog(catalog_path, cache=cache)
    else:
        implicit = hb.catalog if hb else store.last_catalog()
        if implicit:
            try:
                catalog = load_catalog(implicit, cache=cache)
            except CatalogError:
                catalog = None  # moved or broken since: show what the database knows
    every = timedelta(seconds=hb.every_s) if hb else DEFAULT_EVERY
    quiet = unwatched(store, catalog)
    return build_status(hb, source_schedules(store), catalog, Policy(every), now(), quiet)
