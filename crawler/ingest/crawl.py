"""One crawl run: pick sources, fetch them in a child process, record each result."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crawler.catalog.model import Catalog, Source, Tool
from crawler.fetch import settings as crawl_settings
from crawler.fetch.parent import QUIET, FetchDisplay, fetch_all
from crawler.fetch.request import FetchResult
from crawler.fetch.selection import fetch_request, select_sources
from crawler.ingest.analysis import (
    analyze,
    anchor_states,
    fetch_entry,
    internal_failure,
    one_line,
    stored_anchors,
    suggestions,
)
from crawler.run.limits import DEFAULT_BUDGET_S, crawl_limits, with_soft_stop
from storage import Store, database_unusable
from storage.records import BrokenPolicy, SourceState
from storage.values import FailureClass, Outcome

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceOutcome:
    """One source's line of `crawl --json`."""

    tool: str
    source: str
    url: str
    status: int | None
    outcome: Outcome
    error: str | None
    change: int | None
    significant: bool | None
    flags: tuple[str, ...]
    failure_class: FailureClass | None = None  # when failed
    tier: str | None = None  # substantive | minor | noise, when changed
    # Evidence quotes this fetch looked for and did not find: their ratings are not watched.
    unwatched: tuple[Unwatched, ...] = ()
    # Criteria whose ratings do not cite this source, that its change speaks about.
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Unwatched:
    """An evidence quote not found in its source, with the page's closest passage."""

    criterion: str
    quote: str
    closest: str | None
    score: float


@dataclass(frozen=True, slots=True)
class RunReport:
    """What `crawl --json` prints."""

    run_id: int
    started_at: datetime
    finished_at: datetime
    sources: tuple[SourceOutcome, ...]

    def as_json(self) -> dict[str, Any]:
        """The JSON object of DESIGN.md, field for field."""
        return {
            "run_id": self.run_id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "sources": [
                {
                    "tool": s.tool,
                    "source": s.source,
                    "url": s.url,
                    "status": s.status,
                    "outcome": s.outcome,
                    "error": s.error,
                    "change": s.change,
                    "significant": s.significant,
                    "tier": s.tier,
                    "flags": list(s.flags),
                    "failure_class": s.failure_class,
                    "evidence_never_found": [
                        {
                            "criterion": u.criterion,
                            "quote": u.quote,
                            "closest": u.closest,
                            "score": u.score,
                        }
                        for u in s.unwatched
                    ],
                    "may_concern": list(s.suggestions),
                }
                for s in self.sources
            ],
        }


def run_crawl(
    store: Store,
    catalog: Catalog,
    *,
    tools: Sequence[str] = (),
    sources: Sequence[str] = (),
    settings: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_BUDGET_S,
    display: FetchDisplay = QUIET,
) -> RunReport:
    """Crawl the selected sources once and record everything; returns the run's report.

    ``timeout`` is the crawl's time budget (crawler/run/limits.py): the fetch child is killed
    within it, and the sources it did not finish are recorded as failed fetches
    ("crawl-killed"), never as missing. ``display`` shows the fetch's progress and log.
    """
    picked = select_sources(catalog, tools, sources)
    after = broken_after(settings or {})
    limits = crawl_limits(timeout)
    spider_settings = with_soft_stop(settings or {}, limits.fetch_s)  # checked before the run
    started = datetime.now(UTC)
    run_id = store.begin_run(catalog.path)
    try:
        states = store.source_states([(t.id, s.id, s.url) for t, s in picked])
        requests = [
            fetch_request(t, s, st.etag, st.last_modified)
            for (t, s), st in zip(picked, states, strict=True)
        ]
        results = fetch_all(
            requests, settings=spider_settings, timeout=limits.fetch_s, display=display
        )
        outcomes = [
            _record(store, catalog, run_id, tool, source, state, result, after)
            for (tool, source), state, result in zip(picked, states, results, strict=True)
        ]
    except BaseException:
        store.end_run(run_id, "failed")  # a SIGKILL cannot get here: the next run marks it
        raise
    store.end_run(run_id, "done")
    return RunReport(run_id, started, datetime.now(UTC), tuple(outcomes))


def broken_after(settings: Mapping[str, str]) -> int:
    """The BROKEN_AFTER setting: failed fetches in a row that make a source broken."""
    value = settings.get("BROKEN_AFTER", str(crawl_settings.BROKEN_AFTER))
    try:
        after = int(value)
    except ValueError:
        after = 0
    if after < 1:
        raise ValueError(f"BROKEN_AFTER must be a whole number >= 1, got {value!r}")
    return after


def citing(tool: Tool, source: Source) -> tuple[str, ...]:
    """The criteria of the tool's ratings that rest on the source."""
    return tuple(r.criterion for r in tool.ratings if source.id in r.sources)


def _record(
    store: Store,
    catalog: Catalog,
    run_id: int,
    tool: Tool,
    source: Source,
    state: SourceState,
    result: FetchResult,
    after: int,
) -> SourceOutcome:
    """Analyse and record one fetch; an error of this source is this source's failed fetch."""
    try:
        analysis = analyze(
            result,
            tool,
            source,
            catalog,
            lambda: store.latest_snapshot(state.pk),
            store.blob,
            lambda: stored_anchors(store.anchors(tool.id, source.id)),
        )
    except Exception as exc:  # one source's failure is its own (an unknown bug, a hostile page)
        if database_unusable(exc):
            raise  # not this source's: no source can be recorded
        _log_internal(tool, source, exc)
        analysis = internal_failure(exc)
    policy = BrokenPolicy(after, citing(tool, source))
    try:
        recorded = store.record_fetch(
            fetch_entry(run_id, state.pk, result, analysis),
            analysis.versions,
            analysis.reasons,
            policy,
            anchors=anchor_states(analysis.evidence),
            suggestions=suggestions(analysis.suggestions),
        )
    except Exception as exc:
        # The write was rolled back. Data of this page the database refuses (a value too long,
        # a NUL for PostgreSQL) fails this source only; the database's own errors (a full
        # disk, a lock, a read-only file) end the run, as would the failed fetch's own write.
        if database_unusable(exc):
            raise
        _log_internal(tool, source, exc)
        analysis = internal_failure(exc)
        recorded = store.record_fetch(
            fetch_entry(run_id, state.pk, result, analysis), (), (), policy
        )
    # The last change of the chain is the page's own; an earlier one is a technical upgrade.
    change = recorded.change_ids[-1] if analysis.outcome == "changed" else None
    return SourceOutcome(
        tool=tool.id,
        source=source.id,
        url=source.url,
        status=result.status,
        outcome=analysis.outcome,
        error=analysis.error,
        change=change,
        significant=analysis.significant,
        flags=tuple(dict.fromkeys(r.criterion for r in analysis.reasons)),
        failure_class=analysis.failure_class,
        tier=analysis.tier if change is not None else None,
        unwatched=tuple(
            Unwatched(e.criterion, e.tracked.anchor.quote, e.tracked.passage, e.tracked.score)
            for e in analysis.evidence
            if e.tracked.status == "never-found"
        ),
        suggestions=tuple(dict.fromkeys(g.criterion for g in analysis.suggestions)),
    )


def _log_internal(tool: Tool, source: Source, exc: Exception) -> None:
    """One line for the operator; the traceback only at debug level (never to a user)."""
    log.warning("%s/%s failed inside citewatch: %s", tool.id, source.id, one_line(exc))
    log.debug("traceback of %s/%s", tool.id, source.id, exc_info=exc)
