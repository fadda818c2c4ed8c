"""The typed report context: everything a report template may show, and nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from diffs.reasons import ReasonKind, Severity
from diffs.text import TextDiff, WordOp, diff_words
from storage.records import ReasonRecord
from storage.values import FailureClass, FlagStatus, ReviewAction

# diffs.significance.Tier: substantive changes alert and flag; minor edits are listed in the
# digest and the site, never emailed or flagged; noise is kept in history only.
ChangeTier = Literal["substantive", "minor", "noise"]


@dataclass(frozen=True, slots=True)
class ChangedSentence:
    """One changed sentence: its old and new wording and the word-level edit between them."""

    old: str | None  # None: the sentence is new
    new: str | None  # None: the sentence was removed
    words: tuple[WordOp, ...]

    @classmethod
    def between(cls, old: str | None, new: str | None) -> ChangedSentence:
        """Build a changed sentence, computing the word edit from old to new."""
        return cls(old, new, diff_words(old or "", new or ""))


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagReason:
    """Why a change (or a broken source) puts a rating in doubt, with the passages that show it."""

    change_id: int | None  # None: a broken source, not a change
    source_id: str
    kind: ReasonKind
    text: str  # one sentence, shown verbatim
    sentences: tuple[ChangedSentence, ...]
    matched_terms: tuple[str, ...]
    old_quote: str | None  # the evidence quote as catalogued
    new_quote: str | None  # where it re-anchored in the new text, if anywhere
    failure_class: FailureClass | None = None  # broken source: the class of its failures
    broken_since: datetime | None = None  # broken source: when its failures began

    @classmethod
    def of(cls, stored: ReasonRecord) -> FlagReason:
        """A stored reason as reports show it: each sentence with its word edit, and without
        storage's bookkeeping (id, created and reported times)."""
        return cls(
            change_id=stored.change_id,
            source_id=stored.source_id,
            kind=stored.kind,
            text=stored.text,
            sentences=tuple(ChangedSentence.between(old, new) for old, new in stored.sentences),
            matched_terms=stored.matched_terms,
            old_quote=stored.old_quote,
            new_quote=stored.new_quote,
            failure_class=stored.failure_class,
            broken_since=stored.broken_since,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    """An editor's decision on a flag, kept as history."""

    action: ReviewAction
    rating: str | None  # the rating set, for action "set"
    note: str
    by: str
    at: datetime
    id: int = 0  # the stored review's id (what a digest tells once)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportFlag:
    """A rating (tool x criterion) that may need re-review, with every reason and resolution."""

    tool_id: str
    tool_name: str
    criterion_id: str
    criterion_label: str
    rating: str
    status: FlagStatus
    severity: Severity
    opened_at: datetime
    reasons: tuple[FlagReason, ...]
    resolutions: tuple[Resolution, ...]


@dataclass(frozen=True, slots=True)
class StoredDiff:
    """A change's diff named by the two stored texts it compares (their SHA-256): computed
    when a page or an export needs it and not kept, since a year of history's diffs does not
    fit in memory. The texts are content-addressed, so the diff they name never changes."""

    old_sha: str
    new_sha: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportChange:
    """A detected text change of one source, with its diff and the criteria it flagged."""

    id: int
    tool_id: str
    tool_name: str
    source_id: str
    url: str
    detected_at: datetime
    significant: bool  # tier == "substantive" (kept as a field: report.json carries it)
    tier: ChangeTier
    reason: str  # why it is (or is not) significant, one sentence
    technical: bool  # a re-extraction upgrade: never flags by itself
    old_snapshot_id: int
    new_snapshot_id: int
    diff: TextDiff | StoredDiff  # computed, or named by its texts (resolved when shown)
    added_count: int
    removed_count: int
    flags: tuple[str, ...]  # criterion ids flagged by this change

    def __post_init__(self) -> None:
        check_tier(self.id, self.significant, self.tier)


def check_tier(change_id: int, significant: bool, tier: str) -> None:
    """Refuse a change whose two verdicts disagree (significant is tier == substantive)."""
    if significant != (tier == "substantive"):
        raise ValueError(f"change {change_id}: significant={significant} but tier {tier!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportFailure:
    """A source that could not be fetched or extracted."""

    tool_id: str
    tool_name: str
    source_id: str
    url: str
    at: datetime
    status: int | None  # HTTP status, None when no response arrived
    error: str
    consecutive: int  # failures in a row, so a one-off blip reads differently from a dead page
    failure_class: FailureClass | None = None
    broken_since: datetime | None = None  # set once the source is declared broken


@dataclass(frozen=True, slots=True, kw_only=True)
class RatingState:
    """One rating of a tool as it stands, and whether it is flagged."""

    criterion_id: str
    criterion_label: str
    rating: str
    summary: str
    flagged: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceState:
    """Where one evidence quote of a rating stands in its source's latest version."""

    criterion_id: str
    criterion_label: str
    source_id: str
    quote: str  # as the catalog has it
    wording: str  # as an editor last accepted it (the quote until a review)
    status: str  # found | moved | altered | lost | never-found
    score: float
    passage: str | None  # the page's current wording (never-found: its closest passage)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnwatchedEvidence:
    """An evidence quote never found in its source: its rating is not watched by this quote."""

    tool_id: str
    tool_name: str
    criterion_id: str
    criterion_label: str
    source_id: str
    quote: str  # as the catalog has it
    closest: str | None  # the page's passage most like the quote (None: the page has no text)
    score: float  # how alike they are, 0-100


@dataclass(frozen=True, slots=True, kw_only=True)
class RatingConflict:
    """A rating whose catalog value (shown: the source of truth) differs from the one an
    editor last set in review."""

    tool_id: str
    tool_name: str
    criterion_id: str
    criterion_label: str
    catalog_rating: str
    review_rating: str  # the newest `review --set`
    set_by: str
    set_at: datetime
    file: str  # the tool file to edit, or `citewatch review --set` to run again


@dataclass(frozen=True, slots=True, kw_only=True)
class CitationGap:
    """A suggestion, never a flag: a change speaks about a criterion in a source that the
    criterion's rating does not cite."""

    id: int
    change_id: int
    tool_id: str
    tool_name: str
    criterion_id: str
    criterion_label: str
    source_id: str  # the changed source, which the rating does not cite
    sentences: tuple[ChangedSentence, ...]
    matched_terms: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolSummary:
    """A tool of the catalog with its ratings."""

    id: str
    name: str
    vendor: str
    verdict: str
    verdict_needs_review: bool
    ratings: tuple[RatingState, ...]
    evidence: tuple[EvidenceState, ...] = ()


@dataclass(frozen=True, slots=True)
class ToolFlags:
    """The open flags of one tool, for grouping in reports."""

    tool_id: str
    tool_name: str
    flags: tuple[ReportFlag, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportContext:
    """The one object report templates receive."""

    generated_at: datetime
    title: str
    since: datetime | None
    tools: tuple[ToolSummary, ...]
    flags: tuple[ReportFlag, ...]
    changes: tuple[ReportChange, ...]
    failures: tuple[ReportFailure, ...]
    noise_count: int  # noise-only changes in the period, whether or not listed in changes
    # Evidence quotes of the catalog never found in their source (state, not news).
    unwatched: tuple[UnwatchedEvidence, ...] = ()
    suggestions: tuple[CitationGap, ...] = ()  # citation gaps of the listed changes
    conflicts: tuple[RatingConflict, ...] = ()  # catalog vs the newest rating set (state)

    @property
    def open_flags(self) -> tuple[ReportFlag, ...]:
        """Flags still waiting for an editor."""
        return tuple(f for f in self.flags if f.status == "open")

    @property
    def open_flags_by_tool(self) -> tuple[ToolFlags, ...]:
        """Open flags grouped by tool, tools in order of first appearance."""
        groups: dict[str, list[ReportFlag]] = {}
        for flag in self.open_flags:
            groups.setdefault(flag.tool_id, []).append(flag)
        return tuple(ToolFlags(tid, fs[0].tool_name, tuple(fs)) for tid, fs in groups.items())

    @property
    def other_changes(self) -> tuple[ReportChange, ...]:
        """Significant changes that no open flag cites."""
        cited = {r.change_id for f in self.open_flags for r in f.reasons}
        return tuple(c for c in self.changes if c.significant and c.id not in cited)

    @property
    def minor_changes(self) -> tuple[ReportChange, ...]:
        """Listed minor edits: shown to editors, never alerted."""
        return tuple(c for c in self.changes if c.tier == "minor" and not c.technical)

    @property
    def noise_changes(self) -> tuple[ReportChange, ...]:
        """Listed changes of the noise tier (re-extractions excluded)."""
        return tuple(c for c in self.changes if c.tier == "noise" and not c.technical)

    @property
    def technical_changes(self) -> tuple[ReportChange, ...]:
        """Listed re-extractions (technical upgrades): never a page change."""
        return tuple(c for c in self.changes if c.technical)

    def change(self, change_id: int) -> ReportChange | None:
        """The listed change with this id, or None when it is outside the report."""
        return next((c for c in self.changes if c.id == change_id), None)

    def flags_for_tool(self, tool_id: str) -> tuple[ReportFlag, ...]:
        """Every flag of one tool, open and resolved."""
        return tuple(f for f in self.flags if f.tool_id == tool_id)

    def unwatched_for_tool(self, tool_id: str) -> tuple[UnwatchedEvidence, ...]:
        """One tool's evidence quotes never found."""
        return tuple(u for u in self.unwatched if u.tool_id == tool_id)

    def suggestions_for_tool(self, tool_id: str) -> tuple[CitationGap, ...]:
        """One tool's citation gaps, newest change first."""
        found = (g for g in self.suggestions if g.tool_id == tool_id)
        return tuple(sorted(found, key=lambda g: (-g.change_id, g.id)))

    def suggestions_for_change(self, change_id: int) -> tuple[CitationGap, ...]:
        """The citation gaps one change raised."""
        return tuple(g for g in self.suggestions if g.change_id == change_id)
