"""From a fetch result to stored history: extract, compare, assess, flag, record atomically."""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from crawler.catalog.model import Catalog, Source, Tool
from crawler.extract.document import ExtractError, Extraction, extract
from crawler.extract.failures import (
    Failure,
    collapse_failure,
    fetch_failure,
    truncation_failure,
    wall_failure,
)
from crawler.fetch.request import FetchResult
from diffs.anchors import Anchor, AnchorStatus, Tracked
from diffs.flags import (
    Evidence,
    Quote,
    RatingRef,
    StoredAnchors,
    Suggestion,
    first_evidence,
    flag_change,
)
from diffs.reasons import Reason
from diffs.significance import Significance, assess
from diffs.text import TextDiff, diff_blocks, split_blocks
from storage.records import (
    AnchorState,
    FetchEntry,
    NewChange,
    NewSnapshot,
    NewSuggestion,
    SnapshotRecord,
)
from storage.values import FailureClass, Outcome


@dataclass(frozen=True, slots=True, kw_only=True)
class Analysis:
    """What a fetch means for the source's history, ready to be recorded."""

    outcome: Outcome
    error: str | None = None  # for a failed fetch, with its kind
    error_kind: str | None = None
    versions: tuple[tuple[NewSnapshot, NewChange | None], ...] = ()
    significant: bool | None = None  # for a change
    reasons: tuple[Reason, ...] = ()
    evidence: tuple[Evidence, ...] = ()  # where the source's quotes now stand
    failure_class: FailureClass | None = None  # for a failed fetch
    tier: str | None = None  # for a change: substantive | minor | noise (diffs.significance)
    # Ratings that do not cite the source, whose criterion the change speaks about.
    suggestions: tuple[Suggestion, ...] = ()


def extract_key(method: str, source: Source) -> str:
    """Identifies the rules a text came from: extractor version plus the source's selectors."""
    rules = repr((source.select, source.exclude)).encode("utf-8")
    return f"{method}#{hashlib.sha256(rules).hexdigest()[:12]}"


def extract_source(body: bytes, content_type: str | None, url: str, source: Source) -> Extraction:
    """Extract a body with the source's select/exclude rules."""
    return extract(
        body, content_type=content_type, url=url, select=source.select, exclude=source.exclude
    )


def rating_refs(tool: Tool) -> tuple[RatingRef, ...]:
    """The tool's ratings as flagging sees them."""
    return tuple(
        RatingRef(
            tool=tool.id,
            criterion=r.criterion,
            rating=r.rating,
            sources=r.sources,
            quotes=tuple(Quote(e.source, e.quote) for e in r.evidence),
        )
        for r in tool.ratings
    )


def anchor_states(evidence: Sequence[Evidence]) -> tuple[AnchorState, ...]:
    """Followed quotes in storage's terms."""
    return tuple(
        AnchorState(
            tool_id=e.tool,
            criterion_id=e.criterion,
            source_id=e.source,
            quote=e.tracked.anchor.quote,
            wording=e.tracked.anchor.wording,
            prefix=e.tracked.anchor.prefix,
            suffix=e.tracked.anchor.suffix,
            status=e.tracked.status,
            score=e.tracked.score,
            passage=e.tracked.passage,
        )
        for e in evidence
    )


def tracked(state: AnchorState) -> Tracked:
    """A stored anchor as the anchoring code sees it."""
    anchor = Anchor(state.quote, state.wording, state.prefix, state.suffix)
    statuses: dict[str, AnchorStatus] = {
        "found": "found", "moved": "moved", "altered": "altered", "never-found": "never-found",
    }  # fmt: skip
    return Tracked(anchor, statuses.get(state.status, "lost"), state.score, state.passage)


def stored_anchors(states: Sequence[AnchorState]) -> StoredAnchors:
    """One source's stored anchors keyed as flagging looks them up."""
    return {(a.criterion_id, a.quote): tracked(a) for a in states}


# Characters of an internal error kept in the failed fetch's message: one line for a log or
# a report, not a stack dump.
INTERNAL_ERROR_CHARS = 300


def one_line(exc: BaseException) -> str:
    """An exception as one short line naming its type and where it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (in {Path(frames[-1].filename).name}:{frames[-1].name})" if frames else ""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text[:INTERNAL_ERROR_CHARS] + where


def internal_failure(exc: BaseException) -> Analysis:
    """The failed fetch of a source that citewatch itself failed on (a bug, a hostile page):
    class suspicious, kind internal; the last good version stays the one compared with."""
    return Analysis(
        outcome="failed",
        error=f"citewatch failed on this page: {one_line(exc)}",
        error_kind="internal",
        failure_class="suspicious",
    )


def _failed(kind: str, failure: Failure) -> Analysis:
    return Analysis(
        outcome="failed",
        error=failure.reason,
        error_kind=kind,
        failure_class=failure.failure_class,
    )


def analyze(
    result: FetchResult,
    tool: Tool,
    source: Source,
    catalog: Catalog,
    load_previous: Callable[[], SnapshotRecord | None],
    load_raw: Callable[[str], bytes],
    load_anchors: Callable[[], StoredAnchors] = dict,
) -> Analysis:
    """Decide outcome, new versions, flag reasons and evidence anchors for one fetch (no writes).

    The previous snapshot (a blob to decompress) is loaded only when there is a body to
    compare: most fetches of a healthy catalog are 304s. A body that is a bot challenge, a
    consent wall or a collapsed text is a failed fetch (crawler/extract/failures.py), never a
    version.
    """
    if result.status == 304 and result.error is None:
        stored = _stored_text(load_previous)
        evidence = _unanchored(tool, source, stored, load_anchors)
        return Analysis(outcome="not-modified", evidence=evidence)
    if result.error is not None or result.body is None or not 200 <= (result.status or 0) < 300:
        kind = result.error_kind or ("http" if result.status else "other")
        return _failed(kind, fetch_failure(result.status, kind, result.error))
    url = result.final_url or result.url
    try:
        extraction = extract_source(result.body, result.content_type, url, source)
    except ExtractError as exc:
        wall = wall_failure(result.body, "")
        return _failed("wall", wall) if wall else _failed("extract", _unreadable(exc))
    wall = wall_failure(result.body, extraction.text)
    if wall is not None:
        return _failed("wall", wall)
    key = extract_key(extraction.method, source)
    snapshot = NewSnapshot(
        raw=result.body,
        text=extraction.text,
        extract_key=key,
        content_type=result.content_type,
        final_url=url,
        screenshot=result.screenshot,
        screenshot_size=result.screenshot_size,
        boxes=result.boxes,
    )
    previous = load_previous()
    if previous is None:
        evidence = tuple(
            e for r in rating_refs(tool) for e in first_evidence(r, source.id, extraction.text)
        )
        return Analysis(outcome="new", versions=((snapshot, None),), evidence=evidence)
    # Even when the visible text survived the cut: a cut body is never a good version.
    cut = truncation_failure(result.body, lambda: load_raw(previous.raw_sha))
    if cut is not None:
        return _failed("truncated", cut)
    chain, baseline = _technical_upgrade(previous, source, key, load_raw)
    # Against the baseline, not the stored text: narrower select rules shrink text legitimately.
    collapse = collapse_failure(len(extraction.text), len(baseline))
    if collapse is not None:
        return _failed("collapse", collapse)
    if extraction.text == baseline:
        evidence = _unanchored(tool, source, lambda: extraction.text, load_anchors)
        return Analysis(outcome="unchanged", versions=chain, evidence=evidence)
    diff = diff_blocks(split_blocks(baseline), extraction.blocks)
    verdict = assess(diff, previous.taken_at, result.started_at)
    change = _change(diff, verdict)
    versions = (*chain, (snapshot, change))
    if not verdict.significant:
        evidence = _unanchored(tool, source, lambda: extraction.text, load_anchors)
        return Analysis(
            outcome="changed",
            versions=versions,
            significant=False,
            evidence=evidence,
            tier=verdict.tier,
        )
    criteria = {c.id: c for c in catalog.criteria}
    flagging = flag_change(
        source.id,
        baseline,
        extraction.text,
        diff,
        rating_refs(tool),
        criteria,
        load_anchors(),
        source.kind,
    )
    return Analysis(
        outcome="changed",
        versions=versions,
        significant=True,
        reasons=flagging.reasons,
        evidence=flagging.evidence,
        tier=verdict.tier,
        suggestions=flagging.suggestions,
    )


def _stored_text(load_previous: Callable[[], SnapshotRecord | None]) -> Callable[[], str | None]:
    def text() -> str | None:
        previous = load_previous()
        return previous.text if previous is not None else None

    return text


def _unanchored(
    tool: Tool,
    source: Source,
    text: Callable[[], str | None],
    load_anchors: Callable[[], StoredAnchors],
) -> tuple[Evidence, ...]:
    """Anchor the quotes of this source that have none yet (added to the catalog since the
    source's first fetch), so a quote that is not on the page is told at once. Nothing is
    loaded when the tool quotes nothing from this source."""
    refs = rating_refs(tool)
    if not any(q.source == source.id for r in refs for q in r.quotes):
        return ()
    known = load_anchors()
    missing = [
        r for r in refs if any(q.source == source.id and (r.criterion, q.text) not in known
                               for q in r.quotes)
    ]  # fmt: skip
    body = text() if missing else None
    if body is None:
        return ()
    return tuple(e for r in missing for e in first_evidence(r, source.id, body, known))


def _unreadable(exc: ExtractError) -> Failure:
    return fetch_failure(None, "extract", f"extraction failed: {exc}")


def _change(diff: TextDiff, verdict: Significance, technical: bool = False) -> NewChange:
    added = sum(len(h.added) + len(h.pairs) for h in diff.hunks)
    removed = sum(len(h.removed) + len(h.pairs) for h in diff.hunks)
    return NewChange(
        tier=verdict.tier,
        reason=verdict.reason,
        noise=verdict.noise,
        added=added,
        removed=removed,
        technical=technical,
    )


def _technical_upgrade(
    previous: SnapshotRecord, source: Source, key: str, load_raw: Callable[[str], bytes]
) -> tuple[tuple[tuple[NewSnapshot, NewChange | None], ...], str]:
    """Re-extract the previous body when the rules changed, so the upgrade is not a change."""
    if previous.extract_key == key:
        return (), previous.text
    raw = load_raw(previous.raw_sha)
    url = previous.final_url or ""
    try:
        again = extract_source(raw, previous.content_type, url, source)
    except ExtractError:
        return (), previous.text  # the old body no longer extracts: compare with what we had
    if again.text == previous.text:
        return (), previous.text
    diff = diff_blocks(split_blocks(previous.text), again.blocks)
    verdict = Significance("noise", "extraction rules changed (technical upgrade)", ("technical",))
    snap = NewSnapshot(
        raw=raw,
        text=again.text,
        extract_key=key,
        content_type=previous.content_type,
        final_url=url,
        technical=True,
    )
    return ((snap, _change(diff, verdict, technical=True)),), again.text


def fetch_entry(run_id: int, source_pk: int, result: FetchResult, analysis: Analysis) -> FetchEntry:
    """The log row of a fetch."""
    return FetchEntry(
        run_id=run_id,
        source_pk=source_pk,
        requested_url=result.url,
        final_url=result.final_url,
        redirects=result.redirects,
        status=result.status,
        outcome=analysis.outcome,
        error=analysis.error,
        error_kind=analysis.error_kind,
        content_type=result.content_type,
        raw=result.body,
        started_at=result.started_at,
        elapsed_ms=result.elapsed_ms,
        etag=result.etag,
        last_modified=result.last_modified,
        failure_class=analysis.failure_class,
        retry_after=result.retry_after,
        rendered=result.rendered,
    )


def suggestions(found: Sequence[Suggestion]) -> tuple[NewSuggestion, ...]:
    """Citation gaps in storage's terms."""
    return tuple(
        NewSuggestion(
            tool_id=g.tool,
            criterion_id=g.criterion,
            source_id=g.source,
            text=g.text,
            sentences=tuple((c.old, c.new) for c in g.sentences),
            matched_terms=g.matched_terms,
        )
        for g in found
    )
