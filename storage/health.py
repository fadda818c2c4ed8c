"""Source health: runs of failed fetches, the "source broken" flags they raise, and recovery.

A source that fails `after` fetches in a row is broken: every rating citing it gets a flag of
its own, severity `broken`, one per (tool, criterion, source), with one `source-broken` reason.
Keeping it apart from the rating's evidence/topic flag means recovery can close exactly what
breakage opened: the first good fetch resolves these flags with a `recovered` review by
citewatch, and leaves every other open flag of the rating alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from diffs.reasons import ReasonKind, Severity
from storage.models import Flag, FlagReason, Review, SourceRow
from storage.records import BrokenPolicy, FetchEntry
from storage.sourcelog import OPEN_BROKEN_FLAG
from storage.upsert import insert_ignore

Transition = Literal["none", "broke", "recovered"]
BROKEN: Final[Severity] = "broken"  # the flags' severity
REASON_KIND: Final[ReasonKind] = "source-broken"
REVIEWER = "citewatch"


def transition(failures_before: int, broken: bool, failed: bool, after: int | None) -> Transition:
    """What one fetch does to a source's health (after=None: never declare it broken)."""
    if not failed:
        return "recovered" if broken else "none"
    if broken or after is None or failures_before + 1 < after:
        return "none"
    return "broke"


def record_health(
    s: Session, row: SourceRow, entry: FetchEntry, policy: BrokenPolicy | None, at: datetime
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Count the fetch into the source's streak; returns (flags opened, flags recovered)."""
    failed = entry.outcome == "failed"
    step = transition(
        row.consecutive_failures,
        row.broken_since is not None,
        failed,
        policy.after if policy else None,
    )
    if not failed:
        streak, since = row.consecutive_failures, row.broken_since
        row.consecutive_failures, row.failure_class, row.broken_since = 0, None, None
        if step == "recovered" and since is not None:
            return (), _recover(s, row, entry, streak, since, at)
        return (), ()
    row.consecutive_failures += 1
    row.failure_class = entry.failure_class
    if step != "broke" or policy is None:
        return (), ()
    # The start of the run of failures, kept on the row as each failure is noted.
    row.broken_since = row.failing_since or entry.started_at
    return tuple(_open(s, row, entry, criterion, at) for criterion in policy.criteria), ()


def broken_text(row: SourceRow, entry: FetchEntry) -> str:
    """The reason's one sentence: source, class, how many failures and the last error."""
    since = row.broken_since.strftime("%Y-%m-%d %H:%M") if row.broken_since else "?"
    return (
        f"source {row.source_id} ({row.url}) is broken: {row.consecutive_failures} failed "
        f"fetches in a row since {since} UTC, the last one {entry.failure_class or 'failed'}: "
        f"{entry.error or entry.error_kind or 'no detail'}"
    )


def _open(s: Session, row: SourceRow, entry: FetchEntry, criterion: str, at: datetime) -> int:
    """The rating's broken-source flag for this source (inserted ON CONFLICT: an overlapping
    crawl may have opened it), with this breakage as its reason."""
    opened = {"tool_id": row.tool_id, "criterion_id": criterion, "source_id": row.source_id,
              "status": "open", "severity": BROKEN, "opened_at": at}  # fmt: skip
    keys = ["tool_id", "criterion_id", "source_id"]
    insert_ignore(s, Flag, [opened], keys, OPEN_BROKEN_FLAG)
    flag_id: int = s.scalars(
        sa.select(Flag.id).filter_by(
            tool_id=row.tool_id, criterion_id=criterion, source_id=row.source_id,
            status="open", severity=BROKEN,
        )
    ).one()  # fmt: skip
    s.add(
        FlagReason(
            flag_id=flag_id,
            change_id=None,
            source_id=row.source_id,
            kind=REASON_KIND,
            text=broken_text(row, entry),
            sentences=[],
            matched_terms=[],
            created_at=at,
            failure_class=entry.failure_class,
            broken_since=row.broken_since,
        )
    )
    return flag_id


def _recover(
    s: Session, row: SourceRow, entry: FetchEntry, streak: int, since: datetime, at: datetime
) -> tuple[int, ...]:
    flags = s.scalars(
        sa.select(Flag)
        .where(
            Flag.tool_id == row.tool_id,
            Flag.status == "open",
            Flag.severity == BROKEN,
            Flag.source_id == row.source_id,  # migration 0008 named each one's source
        )
        .order_by(Flag.id)
    ).all()
    note = (
        f"source {row.source_id} recovered ({entry.outcome}, HTTP {entry.status}) after "
        f"{streak} failed fetches since {since:%Y-%m-%d %H:%M} UTC"
    )
    for flag in flags:
        flag.status, flag.resolved_at = "resolved", at
        s.add(
            Review(
                flag_id=flag.id,
                tool_id=flag.tool_id,
                criterion_id=flag.criterion_id,
                action="recovered",
                rating=None,
                note=note,
                by=REVIEWER,
                at=at,
            )
        )
    return tuple(f.id for f in flags)
