"""What each page of the reviewers' site shows, and nothing more: one frozen view per page.

A page is rendered from its view alone (and the report's time, which only its footer shows),
so the view is the page's whole input: the site rewrites a page only when its view changed
(reports/manifest.py compares a hash of it). Views hold tuples, never sets, so that their
repr, and with it the hash, is the same in every process.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class SnapshotFiles:
    """A snapshot as a change page links it: when it was taken and its two saved files."""

    snapshot_id: int
    taken_at: datetime
    text: str  # path of its normalized text, from the site's root
    raw: str  # path of its raw body


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
    """A tool's page: its ratings and evidence, every flag, gaps, sources."""

    tool: ToolSummary
    flags: tuple[ReportFlag, ...]  # open and resolved, oldest first
    unwatched: tuple[UnwatchedEvidence, ...]
    gaps: tuple[CitationGap, ...]  # newest change first
    sources: tuple[SourceLine, ...]  # catalog order
    linked: tuple[int, ...]  # changes its flags and gaps cite that have a page in the report


@dataclass(frozen=True, slots=True)
class TimelineView:
    """A source's timeline, and which of its changes have a page."""

    timeline: SourceTimeline
    paged: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SuppressedView:
    """The suppressed-changes page, and which of its sources have a timeline."""

    quiet: SuppressedChanges
    timelines: tuple[tuple[str, str], ...]  # (tool, source) of listed changes with a timeline


class SiteViews:
    """Builds each page's view from the report and the history, with lookups made once."""

    def __init__(self, ctx: ReportContext, history: SiteHistory) -> None:
        self.ctx, self.history = ctx, history
        self.listed = frozenset(c.id for c in ctx.changes)  # the report's own change pages
        self.paged = {c.id: c for c in (*history.suppressed.changes, *ctx.changes)}
        self.versions = {v.snapshot_id: v for t in history.timelines for v in t.versions}
        self.timelines = {(t.tool_id, t.source_id) for t in history.timelines}
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
            has_timeline=(change.tool_id, change.source_id) in self.timelines,
            old=self._files(change.old_snapshot_id),
            new=self._files(change.new_snapshot_id),
        )

    def _files(self, snapshot_id: int) -> SnapshotFiles | None:
        version = self.versions.get(snapshot_id)
        if version is None:
            return None
        return SnapshotFiles(snapshot_id, version.taken_at, text_path(version), raw_path(version))

    def tool(self, tool: ToolSummary) -> ToolView:
        """A tool's page."""
        flags = tuple(self.flags.get(tool.id, ()))
        gaps = self.ctx.suggestions_for_tool(tool.id)
        cited = [r.change_id for f in flags for r in f.reasons] + [g.change_id for g in gaps]
        return ToolView(
            tool=tool,
            flags=flags,
            unwatched=self.ctx.unwatched_for_tool(tool.id),
            gaps=gaps,
            sources=tuple(_lines(self.by_tool.get(tool.id, ()))),
            linked=tuple(sorted({c for c in cited if c in self.listed})),
        )

    def timeline(self, timeline: SourceTimeline) -> TimelineView:
        """A source's timeline page."""
        changes = (v.change.id for v in timeline.versions if v.change is not None)
        return TimelineView(timeline, tuple(c for c in changes if c in self.paged))

    def suppressed(self) -> SuppressedView:
        """The suppressed-changes page."""
        quiet = self.history.suppressed
        pairs = dict.fromkeys((c.tool_id, c.source_id) for c in quiet.changes)
        return SuppressedView(quiet, tuple(p for p in pairs if p in self.timelines))


def _lines(timelines: Iterable[SourceTimeline]) -> Iterable[SourceLine]:
    for t in timelines:
        last: Version = t.versions[-1]
        yield SourceLine(t.tool_id, t.source_id, len(t.versions), last.taken_at)
