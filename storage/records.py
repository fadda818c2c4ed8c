"""Plain values that cross the storage boundary, in and out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from diffs.reasons import ReasonKind, Severity
from storage.values import FailureClass, FlagStatus, Outcome, ReviewAction


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceState:
    """A source's row: identity and the validators for the next conditional GET."""

    pk: int
    tool_id: str
    source_id: str
    url: str
    etag: str | None
    last_modified: str | None
    consecutive_failures: int
    failure_class: FailureClass | None = None  # of the last fetch; None when it was good
    broken_since: datetime | None = None  # set while the source is declared broken


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotRecord:
    """A stored good version of a source."""

    id: int
    source_pk: int
    taken_at: datetime
    raw_sha: str
    text_sha: str
    text: str
    extract_key: str
    content_type: str | None
    final_url: str | None
    technical: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionRecord:
    """A stored version as a timeline lists it: when, and its blobs' hashes, without its text."""

    id: int
    source_pk: int
    taken_at: datetime
    raw_sha: str
    text_sha: str
    content_type: str | None
    final_url: str | None
    technical: bool
    screenshot_sha: str | None = None  # a rendered version's JPEG
    screenshot_size: tuple[int, int] = (0, 0)  # its width and height, CSS pixels
    # Where its text blocks sat on it: (x, y, width, height, text).
    boxes: tuple[tuple[int, int, int, int, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSnapshot:
    """A version to store; the text is what gets compared."""

    raw: bytes
    text: str
    extract_key: str
    content_type: str | None
    final_url: str | None
    technical: bool = False
    screenshot: bytes | None = None  # JPEG of the rendered page, stored as a blob
    screenshot_size: tuple[int, int] = (0, 0)  # its width and height, CSS pixels
    # Where the rendered page's text blocks sat: (x, y, width, height, text), CSS pixels.
    boxes: tuple[tuple[int, int, int, int, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class NewChange:
    """How the snapshot it accompanies differs from the one before it."""

    tier: str  # substantive | minor | noise (diffs.significance.Tier)
    reason: str
    noise: tuple[str, ...]
    added: int
    removed: int
    technical: bool = False

    @property
    def significant(self) -> bool:
        """Substantive: alerted and flagged."""
        return self.tier == "substantive"


@dataclass(frozen=True, slots=True, kw_only=True)
class AnchorState:
    """Where an evidence quote of a rating stands in its source (stored between crawls)."""

    tool_id: str
    criterion_id: str
    source_id: str
    quote: str
    wording: str
    prefix: str
    suffix: str
    status: str  # found | moved | altered | lost
    score: float
    passage: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchEntry:
    """One fetch attempt to log, whatever its outcome."""

    run_id: int
    source_pk: int
    requested_url: str
    final_url: str | None
    redirects: tuple[str, ...]
    status: int | None
    outcome: Outcome
    error: str | None
    error_kind: str | None
    content_type: str | None
    raw: bytes | None
    started_at: datetime
    elapsed_ms: int
    etag: str | None = None
    last_modified: str | None = None
    failure_class: FailureClass | None = None  # when failed
    retry_after: float | None = None  # seconds the server asked us to wait (429/503)
    rendered: bool = False  # the body is what Chromium rendered


@dataclass(frozen=True, slots=True)
class BrokenPolicy:
    """When a failing source counts as broken, and the ratings (criteria) that cite it."""

    after: int  # failed fetches in a row
    criteria: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Recorded:
    """What one recorded fetch created."""

    fetch_id: int
    snapshot_ids: tuple[int, ...]
    change_ids: tuple[int, ...]
    flag_ids: tuple[int, ...]
    broken_flag_ids: tuple[int, ...] = ()  # opened: the source just became broken
    recovered_flag_ids: tuple[int, ...] = ()  # resolved: the source just recovered


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeRecord:
    """A stored change with where it happened."""

    id: int
    tool_id: str
    source_id: str
    url: str
    detected_at: datetime
    significant: bool
    technical: bool
    reason: str
    noise: tuple[str, ...]
    added: int
    removed: int
    old_snapshot_id: int
    new_snapshot_id: int
    reported_at: datetime | None
    tier: str = "noise"  # substantive | minor | noise; "significant" is tier == substantive


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSuggestion:
    """A citation gap found by a change: its criterion speaks in a source the rating does not
    cite (attached to the fetch's last change)."""

    tool_id: str
    criterion_id: str
    source_id: str
    text: str
    sentences: tuple[tuple[str | None, str | None], ...]
    matched_terms: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SuggestionRecord(NewSuggestion):
    """A stored citation gap and the change that raised it."""

    id: int
    change_id: int
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ReasonRecord:
    """A stored reason of a flag."""

    change_id: int | None  # None for a broken source
    source_id: str
    kind: ReasonKind
    text: str
    sentences: tuple[tuple[str | None, str | None], ...]  # (old, new) wordings
    matched_terms: tuple[str, ...]
    old_quote: str | None
    new_quote: str | None
    created_at: datetime
    id: int
    reported_at: datetime | None  # when a `citewatch report` first carried it
    failure_class: FailureClass | None = None  # broken source: the class of its failures
    broken_since: datetime | None = None  # broken source: the start of its failures


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewRecord:
    """An editor's resolution."""

    id: int
    flag_id: int | None
    tool_id: str
    criterion_id: str
    action: ReviewAction
    rating: str | None
    note: str
    by: str
    at: datetime
    reported_at: datetime | None = None  # when a `citewatch report` first listed it


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagRecord:
    """A flag with its reasons and the resolutions of its rating so far."""

    id: int
    tool_id: str
    criterion_id: str
    status: FlagStatus
    severity: Severity
    opened_at: datetime
    resolved_at: datetime | None
    reasons: tuple[ReasonRecord, ...]
    reviews: tuple[ReviewRecord, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FailureRecord:
    """A failed fetch."""

    fetch_id: int
    tool_id: str
    source_id: str
    url: str
    at: datetime
    status: int | None
    error: str | None
    error_kind: str | None
    consecutive: int  # failures in a row of the source, as of now
    failure_class: FailureClass | None = None  # of this fetch
    broken_since: datetime | None = None  # the source's, while it is declared broken
