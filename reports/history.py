"""The site's history: every change and every version of every source (without diffs), and
the newest changes citewatch kept quiet (with diffs, for their pages)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reports.context import ChangeTier, ReportChange, check_tier

# The suppressed-changes page lists at most this many changes (noise and minor, newest first),
# each with a page of its own: enough for months of a catalog's quiet changes, while one
# report never diffs an unbounded history. How many more exist is said on the page.
SUPPRESSED_LIMIT = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeEntry:
    """One stored change as the history lists it (feeds, CSV, timelines): no diff, no text."""

    id: int
    tool_id: str
    tool_name: str
    source_id: str
    url: str
    detected_at: datetime
    significant: bool  # tier == "substantive"
    tier: ChangeTier
    technical: bool
    reason: str
    added: int
    removed: int
    old_snapshot_id: int
    new_snapshot_id: int
    flags: tuple[str, ...]  # criterion ids this change flagged

    def __post_init__(self) -> None:
        check_tier(self.id, self.significant, self.tier)

    @property
    def suppressed(self) -> bool:
        """Kept quiet: a noise or minor change of the page (a re-extraction is none)."""
        return self.tier in ("noise", "minor") and not self.technical

    @property
    def alerting(self) -> bool:
        """Whether the change belongs in feeds: significant and not a re-extraction."""
        return self.significant and not self.technical


@dataclass(frozen=True, slots=True, kw_only=True)
class Version:
    """One stored snapshot of a source, with the change that led to it (None: the first)."""

    snapshot_id: int
    taken_at: datetime
    technical: bool  # a re-extraction of the previous raw body, not a new fetch
    raw_sha: str
    text_sha: str
    content_type: str | None  # of the raw body, which decides its inert file name
    final_url: str | None
    change: ChangeEntry | None
    screenshot_sha: str | None = None  # a rendered version's JPEG
    screenshot_size: tuple[int, int] = (0, 0)  # its width and height, CSS pixels
    boxes: tuple[tuple[int, int, int, int, str], ...] = ()  # its text blocks (x, y, w, h, text)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceTimeline:
    """Every version of one cited source, oldest first."""

    tool_id: str
    tool_name: str
    source_id: str
    url: str
    versions: tuple[Version, ...]


@dataclass(frozen=True, slots=True)
class SuppressedChanges:
    """The newest changes citewatch kept quiet (noise and minor edits), for an editor to check."""

    changes: tuple[ReportChange, ...]  # newest first, at most SUPPRESSED_LIMIT, with diffs
    total: int  # every suppressed change of the history

    @property
    def more(self) -> int:
        """Older suppressed changes not listed (see the sources' timelines)."""
        return max(0, self.total - len(self.changes))


NO_SUPPRESSED = SuppressedChanges((), 0)


@dataclass(frozen=True, slots=True)
class SiteHistory:
    """What the reviewers' site shows beyond the report period: timelines and all changes."""

    timelines: tuple[SourceTimeline, ...]
    changes: tuple[ChangeEntry, ...]  # oldest first, noise and technical ones included
    suppressed: SuppressedChanges = NO_SUPPRESSED

    def page(self, change_id: int) -> ReportChange | None:
        """A suppressed change the site has a page for, beyond the report's own."""
        return next((c for c in self.suppressed.changes if c.id == change_id), None)

    def version(self, snapshot_id: int) -> Version | None:
        """The version with this snapshot id, or None when no timeline holds it."""
        for timeline in self.timelines:
            for version in timeline.versions:
                if version.snapshot_id == snapshot_id:
                    return version
        return None

    def timelines_of(self, tool_id: str) -> tuple[SourceTimeline, ...]:
        """The timelines of one tool's sources."""
        return tuple(t for t in self.timelines if t.tool_id == tool_id)

    def timeline_of(self, tool_id: str, source_id: str) -> SourceTimeline | None:
        """The timeline of one source, or None when it has no stored version."""
        return next(
            (t for t in self.timelines if (t.tool_id, t.source_id) == (tool_id, source_id)),
            None,
        )


EMPTY_HISTORY = SiteHistory((), ())
