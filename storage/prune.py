"""`citewatch prune`: the retention policy, applied to what older versions of citewatch kept.

Kept forever: every stored version (snapshot) with its raw body, text and screenshot, every
change, flag, reason and review, every good fetch's log row, and each source's current run of
failures.
Not kept: a raw body no stored version uses (before migration 0008 every fetch kept its
body, so a page with a nonce added one per fetch; a fetch now keeps its body only when it
stored a version). Optionally: failed fetches older than N days that are not part of a
source's current run of failures (what broken-source flags, `status` and notifications
still count).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Blob, Fetch, Snapshot, SourceRow

# The oldest --failed-older-than: 100 years. Beyond it the cutoff date underflows (year 1),
# and no database holds older fetches.
MAX_FAILED_AGE_DAYS = 36_500


@dataclass(frozen=True, slots=True, kw_only=True)
class PruneReport:
    """What prune removed (or, in a dry run, would remove)."""

    applied: bool
    raw_blobs: int  # raw bodies no stored version uses
    raw_bytes: int  # their size as stored (compressed)
    fetch_refs: int  # fetch rows that pointed at one of them (their hash is dropped)
    failed_fetches: int  # failed fetch rows older than the cutoff, outside current streaks
    failed_before: datetime | None  # the cutoff (None: failed fetches kept)


def _versions_use() -> sa.CompoundSelect[tuple[str]]:
    screenshots = sa.select(Snapshot.screenshot_sha).where(Snapshot.screenshot_sha.is_not(None))
    return sa.union(sa.select(Snapshot.raw_sha), sa.select(Snapshot.text_sha), screenshots)


def _unused_blobs() -> sa.ColumnElement[bool]:
    return Blob.sha256.not_in(_versions_use())


def _old_failures(cutoff: datetime) -> sa.ColumnElement[bool]:
    """Failed fetches before the cutoff, except each source's last fetch and current run of
    failures. The newest fetch of all is some source's last, so ids are never reused."""
    keep = (
        sa.select(SourceRow.id)
        .where(
            SourceRow.id == Fetch.source_pk,
            sa.or_(
                SourceRow.last_fetch_id == Fetch.id,
                sa.and_(
                    SourceRow.consecutive_failures > 0,
                    Fetch.id > sa.func.coalesce(SourceRow.last_ok_fetch_id, 0),
                ),
            ),
        )
        .exists()
    )
    return sa.and_(Fetch.outcome == "failed", Fetch.started_at < cutoff, ~keep)


def prune(
    sessions: sessionmaker[Session],
    *,
    apply: bool,
    failed_older_than: timedelta | None = None,
    now: datetime,
) -> PruneReport:
    """Count (and with `apply`, remove, in one transaction) what the policy does not keep."""
    cutoff = None if failed_older_than is None else now - failed_older_than
    context = sessions.begin() if apply else sessions()
    with context as s:
        blobs, size = s.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(sa.func.length(Blob.data)), 0))
            .where(_unused_blobs())
        ).one()  # fmt: skip
        refs_where = sa.and_(Fetch.raw_sha.is_not(None), Fetch.raw_sha.not_in(_versions_use()))
        refs = s.scalar(sa.select(sa.func.count()).select_from(Fetch).where(refs_where)) or 0
        failed = 0
        if cutoff is not None:
            query = sa.select(sa.func.count()).select_from(Fetch).where(_old_failures(cutoff))
            failed = s.scalar(query) or 0
        if apply:
            s.execute(sa.update(Fetch).where(refs_where).values(raw_sha=None))
            s.execute(sa.delete(Blob).where(_unused_blobs()))
            if cutoff is not None:
                s.execute(sa.delete(Fetch).where(_old_failures(cutoff)))
    return PruneReport(
        applied=apply,
        raw_blobs=int(blobs),
        raw_bytes=int(size),
        fetch_refs=int(refs),
        failed_fetches=int(failed),
        failed_before=cutoff,
    )
