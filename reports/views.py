"""What each page of the reviewers' site shows, and nothing more: one frozen view per page.

A page is rendered from its view alone (and the report's time, which only its footer shows),
so the view is the page's whole input: the site rewrites a page only when its view changed
(reports/manifest.py compares a hash of it). Views hold tuples, never sets, so that their
repr, and with it the hash, is the same in every process.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from reports.context import (
    CitationGap,
    FlagReason,
    ReportChange,
    ReportContext,
    ReportFlag,
    ToolSummary,
    UnwatchedEvidence,
)
from reports.history import SiteHistory, SourceTimeline, SuppressedChanges, Version
from reports.paths import raw_path, text_path

# A flag card lists the newest decisions on its rating: every flag of a rating carries the
# rating's whole history (a rating reviewed weekly: 52 decisions a year on each card).
CARD_HISTORY = 10
# A tool's page lists every open flag and the newest resolved ones (a year of the bench's
# catalog: 200 flags a tool); the older ones stay in report.json and the digests told them.
TOOL_RESOLVED_FLAGS = 50
# Versions on each older page of a timeline; the current page holds the rest (one to two
# pages' worth). A source fetched daily and changing daily adds 365 rows a year: the current
# page stays bounded, and the older pages, once full, are not rewritten.
TIMELINE_PAGE = 100


@dataclass(frozen=True, slots=True)
class SnapshotFiles:
    """A snapshot as a change page links it: when it was taken and its two saved files."""

    snapshot_id: int
    taken_at: datetime
    text: str  # path of its normalized text, from the site's root
    raw: str  # path of its raw body
    version: Version | None = None  # the version itself (its screenshot, when rendered)


@dataclass(frozen=True, slots=True)
class Evidence:
    """A flag reason that cites a change, with what the change page shows of its flag."""

    criterion_label: str
    rating: str
    status: str
    reason: FlagReason


@dataclass(frozen=True, slots=True)
class ChangeView:
    """A change's page: the change, the ratings it puts in doubt, its citation gaps, and
    whether its source's timeline and its two snapshots' files exist."""

    change: ReportChange
    evidence: tuple[Evidence, ...]  # open flags first
    gaps: tuple[CitationGap, ...]
    has_timeline: bool
    old: SnapshotFiles | None
    new: SnapshotFiles | None


@dataclass(frozen=True, slots=True)
class SourceLine:
    """A source as its tool's page lists it: how many versions, the newest when."""

    tool_id: str
    source_id: str
    versions: int
    last_taken_at: datetime


@dataclass(frozen=True, slots=True)
class ToolView:
    """A tool's page: its ratings and evidence, its flags, gaps, sources."""

    tool: ToolSummary
    flags: tuple[FlagCard, ...]  # every open one and the newest resolved ones, oldest first
    older_resolved: int  # resolved flags not shown
    unwatched: tuple[UnwatchedEvidence, ...]
    gaps: tuple[CitationGap, ...]  # newest change first
    sources: tuple[SourceLine, ...]  # catalog order
    linked: tuple[int, ...]  # changes its flags and gaps cite that have a page in the report


@dataclass(frozen=True, slots=True)
class FlagCard:
    """A flag as a card shows it: with the newest CARD_HISTORY decisions on its rating."""

    flag: ReportFlag  # its resolutions cut to the newest CARD_HISTORY
    earlier: int  # older decisions not shown


@dataclass(frozen=True, slots=True)
class TimelinePart:
    """An older page of a timeline: its number and the versions it holds (1-based)."""

    number: int
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class TimelineView:
    """One page of a source's timeline: the source, the versions on this page, its other
    pages, and which of the changes shown have a page."""

    tool_id: str
    tool_name: str
    source_id: str
    url: str
    # Versions of the source, on the current page only: an older page stays as written (its
    # input key unchanged), so it does not show a count that grows every day.
    total: int | None
    first_id: int  # the snapshot id of its first version
    versions: tuple[Version, ...]  # on this page, oldest first
    part: TimelinePart | None  # None: the current page (the newest versions)
    parts: tuple[TimelinePart, ...]  # the older pages, oldest first
    paged: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SuppressedView:
    """The suppressed-changes page, and which of its sources have a timeline."""

    quiet: SuppressedChanges
    timelines: tuple[tuple[str, str], ...]  # (tool, source) of listed changes with a timeline


def card(flag: ReportFlag) -> FlagCard:
    """A flag with the newest CARD_HISTORY decisions of its rating."""
    shown = flag.resolutions[-CARD_HISTORY:] if CARD_HISTORY else ()
    return FlagCard(replace(flag, resolutions=shown), len(flag.resolutions) - len(shown))


class SiteViews:
    """Builds each page's view from the report and the history, with lookups made once."""

    def __init__(self, ctx: ReportContext, history: SiteHistory) -> None:
        self.ctx, self.history = ctx, history
        self.listed = frozenset(c.id for c in ctx.changes)  # the report's own change pages
        self.paged = {c.id: c for c in (*history.suppressed.changes, *ctx.changes)}
        self.versions = {v.snapshot_id: v for t in history.timelines for v in t.versions}
        self.with_timeline = {(t.tool_id, t.source_id) for t in history.timelines}
        self.by_tool: dict[str, list[SourceTimeline]] = {}
        for t in history.timelines:
            self.by_tool.setdefault(t.tool_id, []).append(t)
        self.evidence: dict[int, list[Evidence]] = {}
        self.flags: dict[str, list[ReportFlag]] = {}
        for flag in ctx.flags:
            self.flags.setdefault(flag.tool_id, []).append(flag)
            for reason in flag.reasons:
                if reason.change_id is not None:
                    item = Evidence(flag.criterion_label, flag.rating, flag.status, reason)
                    self.evidence.setdefault(reason.change_id, []).append(item)
        self.gaps: dict[int, list[CitationGap]] = {}
        for gap in ctx.suggestions:
            self.gaps.setdefault(gap.change_id, []).append(gap)

    def change(self, change: ReportChange) -> ChangeView:
        """The page of a change of the report or of the newest suppressed ones."""
        found = self.evidence.get(change.id, [])
        return ChangeView(
            change=change,
            evidence=tuple(sorted(found, key=lambda e: e.status != "open")),
            gaps=tuple(self.gaps.get(change.id, ())),
            has_timeline=(change.tool_id, change.source_id) in self.with_timeline,
            old=self._files(change.old_snapshot_id),
            new=self._files(change.new_snapshot_id),
        )

    def _files(self, snapshot_id: int) -> SnapshotFiles | None:
        version = self.versions.get(snapshot_id)
        if version is None:
            return None
        return SnapshotFiles(
            snapshot_id, version.taken_at, text_path(version), raw_path(version), version
        )

    def tool(self, tool: ToolSummary) -> ToolView:
        """A tool's page: every open flag, the newest TOOL_RESOLVED_FLAGS resolved ones."""
        every = self.flags.get(tool.id, [])
        resolved = [f for f in every if f.status != "open"]
        hidden = {id(f) for f in resolved[: max(0, len(resolved) - TOOL_RESOLVED_FLAGS)]}
        flags = tuple(f for f in every if id(f) not in hidden)
        gaps = self.ctx.suggestions_for_tool(tool.id)
        cited = [r.change_id for f in flags for r in f.reasons] + [g.change_id for g in gaps]
        return ToolView(
            tool=tool,
            flags=tuple(card(f) for f in flags),
            older_resolved=len(hidden),
            unwatched=self.ctx.unwatched_for_tool(tool.id),
            gaps=gaps,
            sources=tuple(_lines(self.by_tool.get(tool.id, ()))),
            linked=tuple(sorted({c for c in cited if c in self.listed})),
        )

    def timelines(self, timeline: SourceTimeline) -> list[TimelineView]:
        """A source's timeline: its current page (the newest versions, TIMELINE_PAGE to twice
        as many) and, before them, older pages of TIMELINE_PAGE versions each, which stay as
        they are once written."""
        versions = timeline.versions
        older = max(0, len(versions) // TIMELINE_PAGE - 1)
        parts = tuple(
            TimelinePart(k + 1, k * TIMELINE_PAGE + 1, (k + 1) * TIMELINE_PAGE)
            for k in range(older)
        )
        pages: list[tuple[TimelinePart | None, tuple[Version, ...]]]
        pages = [(None, versions[older * TIMELINE_PAGE :])]
        pages += [(p, versions[p.first - 1 : p.last]) for p in parts]
        return [self._timeline_page(timeline, shown, part, parts) for part, shown in pages]

    def _timeline_page(
        self,
        timeline: SourceTimeline,
        shown: tuple[Version, ...],
        part: TimelinePart | None,
        parts: tuple[TimelinePart, ...],
    ) -> TimelineView:
        changes = (v.change.id for v in shown if v.change is not None)
        return TimelineView(
            tool_id=timeline.tool_id,
            tool_name=timeline.tool_name,
            source_id=timeline.source_id,
            url=timeline.url,
            total=len(timeline.versions) if part is None else None,
            first_id=timeline.versions[0].snapshot_id,
            versions=shown,
            part=part,
            parts=parts,
            paged=tuple(c for c in changes if c in self.paged),
        )

    def suppressed(self) -> SuppressedView:
        """The suppressed-changes page."""
        quiet = self.history.suppressed
        pairs = dict.fromkeys((c.tool_id, c.source_id) for c in quiet.changes)
        return SuppressedView(quiet, tuple(p for p in pairs if p in self.with_timeline))


def _lines(timelines: Iterable[SourceTimeline]) -> Iterable[SourceLine]:
    for t in timelines:
        last: Version = t.versions[-1]
        yield SourceLine(t.tool_id, t.source_id, len(t.versions), last.taken_at)
