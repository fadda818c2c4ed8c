"""Why a rating needs re-review: the reason a change gives, its kind and its severity, and the
one order of severities (most severe first) that every list of flags follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, get_args

if TYPE_CHECKING:  # an annotation only: storage.models reads this module's kinds, and loading
    # the sentence diff (rapidfuzz, the date and significance rules) cost `status` start-up.
    from diffs.sentences import SentenceChange

# Most severe first. A lost or reworded evidence quote undermines the rating itself; a broken
# source means its evidence can no longer be checked; a changed passage on the topic may be
# harmless. Flagging gives evidence and topic; storage/health.py gives broken.
Severity = Literal["evidence", "broken", "topic"]
SEVERITIES: Final[tuple[Severity, ...]] = get_args(Severity)

# The same order, one kind finer: evidence-lost and -altered are evidence, source-broken broken.
ReasonKind = Literal["evidence-lost", "evidence-altered", "source-broken", "topic"]
REASON_KINDS: Final[tuple[ReasonKind, ...]] = get_args(ReasonKind)

# Values this code does not know (stored by newer code) rank after every known one.
UNKNOWN_RANK: Final = 9
_SEVERITY_RANK: Final[dict[str, int]] = {s: i for i, s in enumerate(SEVERITIES)}
_KIND_RANK: Final[dict[str, int]] = {k: i for i, k in enumerate(REASON_KINDS)}


def severity_rank(severity: str) -> int:
    """A severity's place in the order: lower is more urgent."""
    return _SEVERITY_RANK.get(severity, UNKNOWN_RANK)


def kind_rank(kind: str) -> int:
    """A reason kind's place in the order: lower undermines the rating more."""
    return _KIND_RANK.get(kind, UNKNOWN_RANK)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reason:
    """Why one rating needs re-review after one change of one source (what storage records)."""

    tool: str
    criterion: str
    source: str
    severity: Severity
    kind: ReasonKind
    text: str
    sentences: tuple[SentenceChange, ...]
    matched_terms: tuple[str, ...] = ()
    old_quote: str | None = None
    new_quote: str | None = None
