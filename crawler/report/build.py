"""`citewatch report`: fill the report context from the database and write the chosen formats
(one writer each, crawler/report/writers.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from crawler.catalog.model import Catalog, Tool, load_catalog
from crawler.report import writers
from crawler.report.conflicts import rating_conflicts
from crawler.report.parts import (
    Names,
    citation_gaps,
    report_change,
    tier_of,
    unwatched_evidence,
)
from crawler.report.stored import StoredHistory, flagged_criteria, stored_diffs
from crawler.report.watching import catalog_quotes
from reports.context import (
    EvidenceState,
    FlagReason,
    RatingState,
    ReportContext,
    ReportFailure,
    ReportFlag,
    Resolution,
    ToolSummary,
)
from reports.digest import DigestScope
from reports.history import SUPPRESSED_LIMIT
from reports.manifest import build_key
from reports.summaries import DiffSummaries
from storage import Store
from storage.records import AnchorState, FlagRecord, ReviewRecord


class ReportError(Exception):
    """The report cannot be produced as asked (no catalog, unknown format)."""


def _catalog(store: Store, path: str | None) -> Catalog:
    chosen = path or store.last_catalog()
    if chosen is None:
        raise ReportError("no catalog: pass --catalog or run `citewatch crawl` first")
    return load_catalog(chosen)


def _resolution(r: ReviewRecord) -> Resolution:
    return Resolution(action=r.action, rating=r.rating, note=r.note, by=r.by, at=r.at, id=r.id)


def _flag(
    f: FlagRecord,
    names: Names,
    ratings: dict[tuple[str, str], str],
    resolutions: dict[int, Resolution],
) -> ReportFlag:
    reasons = tuple(FlagReason.of(r) for r in f.reasons)
    # Every flag of a rating carries the rating's whole review history: one object a review.
    since_open = tuple(resolutions.get(r.id) or resolutions.setdefault(r.id, _resolution(r))
                       for r in f.reviews)  # fmt: skip
    return ReportFlag(
        tool_id=f.tool_id,
        tool_name=names.tool(f.tool_id),
        criterion_id=f.criterion_id,
        criterion_label=names.criterion(f.criterion_id),
        rating=ratings.get((f.tool_id, f.criterion_id), "unknown"),
        status=f.status,
        severity=f.severity,
        opened_at=f.opened_at,
        reasons=reasons,
        resolutions=since_open,
    )


def build_context(
    store: Store,
    catalog: Catalog,
    since: datetime | None,
    now: datetime | None = None,
    *,
    stored: StoredHistory | None = None,
) -> ReportContext:
    """Everything the report shows, read from the database and the catalog (`stored`: what
    the report already read of it)."""
    # Alone (a notification's digest), only the period's changes are read.
    stored_flags = stored.flags if stored else tuple(store.flags())
    records = stored.since(store, since) if stored else store.changes(since)
    names = Names.of(catalog)
    # The catalog is the source of truth; a rating set in review that it contradicts is
    # shown as a conflict, never silently preferred (README "Ratings: one source of truth").
    ratings = {(t.id, r.criterion): r.rating for t in catalog.tools for r in t.ratings}
    resolutions: dict[int, Resolution] = {}
    flags = tuple(_flag(f, names, ratings, resolutions) for f in stored_flags)
    open_keys = {(f.tool_id, f.criterion_id) for f in flags if f.status == "open"}
    by_change = flagged_criteria(stored_flags)
    # Minor edits are listed (the digest, their pages); noise is only counted.
    listed = [c for c in records if c.technical or tier_of(c) != "noise"]
    diffs = stored_diffs(store, listed)
    changes = tuple(
        report_change(c, names.tool(c.tool_id), diffs[c.id], by_change.get(c.id, ()))
        for c in listed
    )
    failures = tuple(
        ReportFailure(
            tool_id=x.tool_id,
            tool_name=names.tool(x.tool_id),
            source_id=x.source_id,
            url=x.url,
            at=x.at,
            status=x.status,
            error=x.error or x.error_kind or "failed",
            consecutive=x.consecutive,
            failure_class=x.failure_class,
            broken_since=x.broken_since,
        )
        for x in store.broken_sources()
    )
    anchors = _listed(store, catalog)
    return ReportContext(
        generated_at=now or datetime.now(UTC),
        title=_title(catalog),
        since=since,
        tools=tuple(
            _tool_summary(t, ratings, open_keys, names, anchors.get(t.id, ()))
            for t in catalog.tools
        ),
        flags=flags,
        changes=changes,
        failures=failures,
        noise_count=sum(1 for c in records if tier_of(c) == "noise" and not c.technical),
        unwatched=unwatched_evidence(store, catalog, names),
        suggestions=citation_gaps(store, (c.id for c in changes), names),
        conflicts=rating_conflicts(store, catalog, names),
    )


def _listed(store: Store, catalog: Catalog) -> dict[str, list[AnchorState]]:
    """Each tool's anchors whose quote the catalog still lists (a fixed or dropped quote keeps
    its row: history, not today's evidence), read in one query."""
    quotes = catalog_quotes(catalog)
    tools = {t.id for t in catalog.tools}
    found: dict[str, list[AnchorState]] = {}
    for a in store.every_anchor():
        if a.tool_id in tools and (a.tool_id, a.criterion_id, a.source_id, a.quote) in quotes:
            found.setdefault(a.tool_id, []).append(a)
    return found


def _title(catalog: Catalog) -> str:
    if len(catalog.tools) == 1:
        return f"citewatch — {catalog.tools[0].name}"
    return f"citewatch — {len(catalog.tools)} tools"


def _tool_summary(
    tool: Tool,
    ratings: dict[tuple[str, str], str],
    open_keys: set[tuple[str, str]],
    names: Names,
    anchors: Sequence[AnchorState] = (),
) -> ToolSummary:
    evidence = tuple(
        EvidenceState(
            criterion_id=a.criterion_id,
            criterion_label=names.criterion(a.criterion_id),
            source_id=a.source_id,
            quote=a.quote,
            wording=a.wording,
            status=a.status,
            score=a.score,
            passage=a.passage,
        )
        for a in anchors
    )
    states = tuple(
        RatingState(
            criterion_id=r.criterion,
            criterion_label=names.criterion(r.criterion),
            rating=ratings.get((tool.id, r.criterion), r.rating),
            summary=r.summary,
            flagged=(tool.id, r.criterion) in open_keys,
        )
        for r in tool.ratings
    )
    needs_review = any(s.flagged for s in states)
    return ToolSummary(
        id=tool.id,
        name=tool.name,
        vendor=tool.vendor,
        verdict=tool.verdict,
        verdict_needs_review=needs_review,
        ratings=states,
        evidence=evidence,
    )


def write_reports(
    store: Store,
    catalog_path: str | None,
    out: Path,
    formats: Sequence[str],
    since: datetime | None,
    *,
    mark: bool = True,
    now: datetime | None = None,
) -> list[Path]:
    """Write the asked formats into `out`; returns the paths written (index first).

    `mark=False` (the scheduler's site rebuild) leaves the digest's items unreported, so the
    next `citewatch report` still tells them. The site is written incrementally
    (reports/site.py): a report run again into the same folder renders only what is new
    since. `now` is the report's time (default: now).
    """
    wanted = {f.strip() for f in formats}
    unknown = [f for f in formats if f.strip() not in writers.WRITERS]
    if unknown:
        known = ", ".join(writers.WRITERS)
        raise ReportError(f"unknown format {', '.join(unknown)} (choose from {known})")
    catalog = _catalog(store, catalog_path)
    stored = StoredHistory.read(store)
    ctx = build_context(store, catalog, since, now, stored=stored)
    scope, reason_ids = report_scope(store, ctx, since, stored=stored)
    out.mkdir(parents=True, exist_ok=True)
    # The bound on the site's diffing work is a report setting, read at each run (tests lower it).
    inputs = writers.ReportInputs(
        store,
        catalog,
        ctx,
        scope,
        SUPPRESSED_LIMIT,
        stored=stored,
        diffs=DiffSummaries(out.resolve(), build_key()),
    )
    paths = [write(inputs, out) for name, write in writers.WRITERS.items() if name in wanted]
    if mark:
        reported = {c.id for c in ctx.changes} | scope.changes
        store.mark_reported(sorted(reported), ctx.generated_at, reason_ids, sorted(scope.reviews))
    return paths


def report_scope(
    store: Store,
    ctx: ReportContext,
    since: datetime | None,
    *,
    stored: StoredHistory | None = None,
) -> tuple[DigestScope, tuple[int, ...]]:
    """What the report's digest covers, and the flag reasons it reports.

    With `since`, everything from then on; otherwise what no report carried yet (changes,
    flag reasons, editors' resolutions). A source counts as newly broken when only its last
    fetch failed (reports keep no fetch marks).
    """

    def new(at: datetime, reported_at: datetime | None) -> bool:
        return at >= since if since is not None else reported_at is None

    records = stored.since(store, since) if stored else store.changes(since)
    fresh = [c for c in records if since is not None or c.reported_at is None]
    flags = stored.flags if stored else store.flags()
    reasons = [(f, r) for f in flags for r in f.reasons if new(r.created_at, r.reported_at)]
    broken = ((x.tool_id, x.source_id) for x in ctx.failures if x.consecutive == 1)
    reviews = [r for r in store.reviews() if new(r.at, r.reported_at)]
    scope = DigestScope.of(fresh, reasons, broken, since, reviews)
    return scope, tuple(r.id for _, r in reasons)
