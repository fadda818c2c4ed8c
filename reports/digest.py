"""The digest: what happened since the last report or notification, per tool, worst first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from diffs.reasons import UNKNOWN_RANK, kind_rank, severity_rank
from reports.context import (
    CitationGap,
    FlagReason,
    RatingConflict,
    ReportChange,
    ReportContext,
    ReportFailure,
    ReportFlag,
    Resolution,
    UnwatchedEvidence,
)
from storage.records import ChangeRecord, FlagRecord, ReasonRecord, ReviewRecord

# (tool id, criterion id, change id); a broken-source reason has no change.
ReasonKey = tuple[str, str, int | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestScope:
    """What a digest covers: the items not reported (or notified) before, by identity."""

    changes: frozenset[int]  # change ids (minor edits and citation gaps follow their change)
    reasons: frozenset[ReasonKey]  # flag reasons
    broken: frozenset[tuple[str, str]]  # (tool, source) broken since the last digest
    noise: tuple[tuple[str, int], ...]  # noise-only changes covered, per tool id (not minor)
    since: datetime | None = None  # the period's start when given (`--since`), for the header
    reviews: frozenset[int] = frozenset()  # editors' resolutions (review ids) not told yet

    @classmethod
    def of(
        cls,
        changes: Iterable[ChangeRecord],
        reasons: Iterable[tuple[FlagRecord, ReasonRecord]],
        broken: Iterable[tuple[str, str]],
        since: datetime | None = None,
        reviews: Iterable[ReviewRecord] = (),
    ) -> DigestScope:
        """The scope of these stored changes, flag reasons and resolutions (noise-only changes
        counted; minor edits are listed, not counted as noise)."""
        fresh = list(changes)
        noise: dict[str, int] = {}
        for c in fresh:
            if not c.significant and not c.technical and c.tier != "minor":
                noise[c.tool_id] = noise.get(c.tool_id, 0) + 1
        return cls(
            changes=frozenset(c.id for c in fresh),
            reasons=frozenset((f.tool_id, f.criterion_id, r.change_id) for f, r in reasons),
            broken=frozenset(broken),
            noise=tuple(noise.items()),
            since=since,
            reviews=frozenset(r.id for r in reviews),
        )

    @classmethod
    def everything(cls, ctx: ReportContext) -> DigestScope:
        """Every item of the context counts as new (a full report)."""
        noise: dict[str, int] = {}
        for change in ctx.noise_changes:
            noise[change.tool_id] = noise.get(change.tool_id, 0) + 1
        return cls(
            changes=frozenset(c.id for c in ctx.changes),
            reasons=frozenset(reason_key(f, r) for f in ctx.flags for r in f.reasons),
            broken=frozenset((x.tool_id, x.source_id) for x in ctx.failures),
            noise=tuple(noise.items()),
            since=ctx.since,
            reviews=frozenset(r.id for f in ctx.flags for r in f.resolutions),
        )


def reason_key(flag: ReportFlag, reason: FlagReason) -> ReasonKey:
    """A reason's identity: every reason one change gives one rating is created at once."""
    return (flag.tool_id, flag.criterion_id, reason.change_id)


@dataclass(frozen=True, slots=True)
class DigestReason:
    """A reason of a flag in the digest, and whether it is new since the last digest."""

    reason: FlagReason
    new: bool


@dataclass(frozen=True, slots=True)
class DigestFlag:
    """A rating to re-review: the flag, its reasons (new ones marked) and whether it grew."""

    flag: ReportFlag
    reasons: tuple[DigestReason, ...]
    grown: bool  # reported before, and has new reasons since

    @property
    def rank(self) -> int:
        """Severity rank: lower is more urgent."""
        return severity_rank(self.flag.severity)


@dataclass(frozen=True, slots=True)
class DigestFailure:
    """A broken source, and whether it broke since the last digest."""

    failure: ReportFailure
    new: bool


@dataclass(frozen=True, slots=True)
class DigestResolution:
    """An editor's resolution made since the last digest, and the rating it left."""

    criterion_id: str
    criterion_label: str
    rating: str  # the rating now (after a "set", the new one)
    resolution: Resolution


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolDigest:
    """One tool's part of the digest, in reading order."""

    tool_id: str
    tool_name: str
    flags: tuple[DigestFlag, ...]  # ratings to re-review, most severe first
    changes: tuple[ReportChange, ...]  # other significant changes
    failures: tuple[DigestFailure, ...]  # broken sources
    noise_count: int  # noise-only changes suppressed
    resolved: tuple[DigestResolution, ...] = ()  # resolutions since the last digest, oldest first
    minor: tuple[ReportChange, ...] = ()  # minor edits: listed, never emailed or flagged
    unwatched: tuple[UnwatchedEvidence, ...] = ()  # evidence never found (state: every digest)
    suggestions: tuple[CitationGap, ...] = ()  # citation gaps of the new changes: not flags


@dataclass(frozen=True, slots=True, kw_only=True)
class Digest:
    """The one object the digest templates (Markdown, plain text, HTML email) receive."""

    title: str
    generated_at: datetime
    since: datetime | None  # None: since the last report or notification
    tools: tuple[ToolDigest, ...]
    still_open: int  # open flags reported before that nothing new touched
    site_url: str  # base of the reviewer site's links ("" for links relative to the report)
    pages: frozenset[int]  # changes the reviewer site has a page for
    conflicts: tuple[RatingConflict, ...] = ()  # catalog vs review ratings (state: every digest)

    @property
    def flag_count(self) -> int:
        """Ratings to re-review in this digest."""
        return sum(len(t.flags) for t in self.tools)

    @property
    def change_count(self) -> int:
        """Other significant changes."""
        return sum(len(t.changes) for t in self.tools)

    @property
    def failure_count(self) -> int:
        """Sources broken now."""
        return sum(len(t.failures) for t in self.tools)

    @property
    def new_failure_count(self) -> int:
        """Sources broken since the last digest."""
        return sum(1 for t in self.tools for f in t.failures if f.new)

    @property
    def noise_count(self) -> int:
        """Noise-only changes suppressed."""
        return sum(t.noise_count for t in self.tools)

    @property
    def resolved_count(self) -> int:
        """Editors' resolutions since the last digest (told, never a reason to send one)."""
        return sum(len(t.resolved) for t in self.tools)

    @property
    def minor_count(self) -> int:
        """Minor edits (listed, never a reason to send a message)."""
        return sum(len(t.minor) for t in self.tools)

    @property
    def unwatched_count(self) -> int:
        """Evidence quotes never found: ratings not watched by their quote."""
        return sum(len(t.unwatched) for t in self.tools)

    @property
    def suggestion_count(self) -> int:
        """Citation gaps (suggestions, not flags)."""
        return sum(len(t.suggestions) for t in self.tools)

    @property
    def raised(self) -> bool:
        """Whether anything is worth telling an editor: a flag, a change, a newly broken source.

        Not a minor edit, a citation gap (its substantive change already counts) or evidence
        never found (state, shown in every digest; the crawl that found it printed it).
        """
        return bool(self.flag_count or self.change_count or self.new_failure_count)

    def diff_url(self, change_id: int) -> str | None:
        """The full diff page of a change on the reviewer site (None: the site has none)."""
        if change_id not in self.pages:
            return None
        return f"{self.site_url}changes/{change_id}.html"


def _sorted_reasons(flag: ReportFlag, scope: DigestScope) -> tuple[DigestReason, ...]:
    reasons = [DigestReason(r, reason_key(flag, r) in scope.reasons) for r in flag.reasons]
    # New reasons first, then by how badly they undermine the rating; stable otherwise.
    reasons.sort(key=lambda d: (not d.new, kind_rank(d.reason.kind)))
    return tuple(reasons)


def _flags(ctx: ReportContext, scope: DigestScope) -> tuple[list[DigestFlag], int]:
    """Open flags with a new reason, most severe first; and how many others are still open."""
    shown: list[DigestFlag] = []
    still_open = 0
    for flag in ctx.open_flags:
        reasons = _sorted_reasons(flag, scope)
        fresh = sum(1 for r in reasons if r.new)
        if fresh:
            shown.append(DigestFlag(flag, reasons, grown=fresh < len(reasons)))
        else:
            still_open += 1
    shown.sort(key=lambda d: (d.rank, d.flag.opened_at))
    return shown, still_open


def _resolved(ctx: ReportContext, scope: DigestScope) -> dict[str, list[DigestResolution]]:
    """The scope's resolutions per tool, once each (every flag of a rating carries its
    history), oldest first."""
    seen: set[int] = set()
    out: dict[str, list[DigestResolution]] = {}
    for flag in ctx.flags:
        for r in flag.resolutions:
            if r.id in scope.reviews and r.id not in seen:
                seen.add(r.id)
                entry = DigestResolution(flag.criterion_id, flag.criterion_label, flag.rating, r)
                out.setdefault(flag.tool_id, []).append(entry)
    for entries in out.values():
        entries.sort(key=lambda d: (d.resolution.at, d.resolution.id))
    return out


def _has_news(t: ToolDigest) -> bool:
    """Whether a tool has anything to show in the digest."""
    parts = (t.flags, t.changes, t.failures, t.resolved, t.minor, t.unwatched, t.suggestions)
    return bool(t.noise_count or any(parts))


def build_digest(
    ctx: ReportContext,
    scope: DigestScope,
    site_url: str = "",
    pages: frozenset[int] | None = None,
) -> Digest:
    """The digest of a report context, restricted to what the scope says is new.

    `pages` are the changes the linked site has a page for (default: the context's).
    """
    flags, still_open = _flags(ctx, scope)
    cited = {r.reason.change_id for d in flags for r in d.reasons}
    changes = [
        c
        for c in ctx.changes
        if c.id in scope.changes and c.significant and not c.technical and c.id not in cited
    ]
    failures = [DigestFailure(x, (x.tool_id, x.source_id) in scope.broken) for x in ctx.failures]
    minor = [c for c in ctx.minor_changes if c.id in scope.changes]
    gaps = [g for g in ctx.suggestions if g.change_id in scope.changes]
    noise = dict(scope.noise)
    resolved = _resolved(ctx, scope)
    # Catalog order first, then tools the catalog no longer has, in order of appearance.
    names = {t.id: t.name for t in ctx.tools}
    pairs = [(d.flag.tool_id, d.flag.tool_name) for d in flags]
    pairs += [(c.tool_id, c.tool_name) for c in (*changes, *minor)]
    pairs += [(x.tool_id, x.tool_name) for x in ctx.failures]
    pairs += [(g.tool_id, g.tool_name) for g in gaps]
    pairs += [(u.tool_id, u.tool_name) for u in ctx.unwatched]
    pairs += [(tool_id, tool_id) for tool_id in noise]
    pairs += [(f.tool_id, f.tool_name) for f in ctx.flags if f.tool_id in resolved]
    for tool_id, name in pairs:
        names.setdefault(tool_id, name)
    tools = [
        ToolDigest(
            tool_id=tool_id,
            tool_name=name,
            flags=tuple(d for d in flags if d.flag.tool_id == tool_id),
            changes=tuple(c for c in changes if c.tool_id == tool_id),
            failures=tuple(f for f in failures if f.failure.tool_id == tool_id),
            noise_count=noise.get(tool_id, 0),
            resolved=tuple(resolved.get(tool_id, ())),
            minor=tuple(c for c in minor if c.tool_id == tool_id),
            unwatched=ctx.unwatched_for_tool(tool_id),
            suggestions=tuple(g for g in gaps if g.tool_id == tool_id),
        )
        for tool_id, name in names.items()
    ]
    order = {tool_id: i for i, tool_id in enumerate(names)}
    shown = [t for t in tools if _has_news(t)]
    # The tool with the most urgent flag first; catalog order otherwise.
    shown.sort(
        key=lambda t: (min((d.rank for d in t.flags), default=UNKNOWN_RANK + 1), order[t.tool_id])
    )
    if pages is None:
        pages = frozenset(c.id for c in ctx.changes)
    return Digest(
        title=ctx.title,
        generated_at=ctx.generated_at,
        since=scope.since,
        tools=tuple(shown),
        still_open=still_open,
        site_url=site_url,
        pages=pages,
        conflicts=ctx.conflicts,
    )
