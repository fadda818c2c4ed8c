"""The review queue: open flags, most severe first, filtered and searched (a pure core).

Search is a case-insensitive substring match over each flag's reasons: their sentence, the
changed sentences (old and new) and the evidence quotes. At our scale (tens to a few hundred
open flags) a scan in Python is instant, so no full-text index is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from diffs.reasons import severity_rank
from reports.context import ReportFlag

# The age filter's choices: opened within the last N days, or "old" (more than 30 days).
AGES: Final[Mapping[str, str]] = {
    "": "any age",
    "1": "opened today (24 h)",
    "7": "opened this week",
    "30": "opened this month",
    "old": "older than 30 days",
}
OLD_DAYS: Final = 30
# A search string longer than this is cut: no sentence we flag is longer, and a megabyte
# query string would be matched against every flag.
MAX_QUERY = 200


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the editor asked for; empty strings mean "any"."""

    tool: str = ""
    criterion: str = ""
    severity: str = ""
    source: str = ""
    age: str = ""
    text: str = ""

    @classmethod
    def of(cls, params: Mapping[str, str]) -> QueueFilter:
        """The filter from a query string (unknown ages count as any)."""
        age = params.get("age", "")
        return cls(
            tool=params.get("tool", "").strip(),
            criterion=params.get("criterion", "").strip(),
            severity=params.get("severity", "").strip(),
            source=params.get("source", "").strip(),
            age=age if age in AGES else "",
            text=" ".join(params.get("q", "").split())[:MAX_QUERY],
        )

    @property
    def active(self) -> bool:
        """Whether any filter is set."""
        return any((self.tool, self.criterion, self.severity, self.source, self.age, self.text))


@dataclass(frozen=True, slots=True)
class QueueItem:
    """An open flag in the queue, with its stored id (what actions and links name)."""

    flag_id: int
    flag: ReportFlag


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _searchable(flag: ReportFlag) -> str:
    parts: list[str] = []
    for r in flag.reasons:
        parts.append(r.text)
        parts.extend(s for s in (r.old_quote, r.new_quote) if s)
        for sentence in r.sentences:
            parts.extend(s for s in (sentence.old, sentence.new) if s)
    return "\n".join(parts).casefold()


def _age_ok(flag: ReportFlag, age: str, now: datetime) -> bool:
    if not age:
        return True
    opened = _aware(flag.opened_at)
    if age == "old":
        return opened < now - timedelta(days=OLD_DAYS)
    return opened >= now - timedelta(days=int(age))


def matches(flag: ReportFlag, wanted: QueueFilter, now: datetime) -> bool:
    """Whether an open flag passes every filter."""
    if wanted.tool and flag.tool_id != wanted.tool:
        return False
    if wanted.criterion and flag.criterion_id != wanted.criterion:
        return False
    if wanted.severity and flag.severity != wanted.severity:
        return False
    if wanted.source and wanted.source not in {r.source_id for r in flag.reasons}:
        return False
    if not _age_ok(flag, wanted.age, now):
        return False
    return not wanted.text or wanted.text.casefold() in _searchable(flag)


def queue(items: Iterable[QueueItem], wanted: QueueFilter, now: datetime) -> list[QueueItem]:
    """Open flags passing the filter, most severe first, then oldest first."""
    shown = [i for i in items if i.flag.status == "open" and matches(i.flag, wanted, now)]
    return sorted(
        shown, key=lambda i: (severity_rank(i.flag.severity), _aware(i.flag.opened_at), i.flag_id)
    )
