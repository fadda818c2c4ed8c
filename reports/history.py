"""The site's history: every change and every version of every source, without diffs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ChangeEntry:
    """One stored change as the history lists it (feeds, CSV, timelines): no diff, no text."""

    id: int
    tool_id: str
    tool_name: str
    source_id: str
    url: str
    detected_at: datetime
    significant: bool
    technical: bool
    reason: str
    added: int
    removed: int
    old_snapshot_id: int
    new_snapshot_id: int
    flags: tuple[str, ...]  # criterion ids this change flagged

    @property
    def alerting(self) -> bool:
        """Whether the change belongs in feeds: significant and not a re-extraction."""
        return self.significant and not self.technical


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class SourceTimeline:
    """Every version of one cited source, oldest first."""

    tool_id: str
    tool_name: str
    source_id: str
    url: str
    versions: tuple[Version, ...]


@dataclass(frozen=True, slots=True)
class SiteHistory:
    """What the reviewers' site shows beyond the report period: timelines and all changes."""

    timelines: tuple[SourceTimeline, ...]
    changes: tuple[ChangeEntry, ...]  # oldest first, noise and technical ones included

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
