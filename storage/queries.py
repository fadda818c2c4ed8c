"""Reading history back: changes, flags, failures, snapshots; and editors' reviews."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from storage import blobs
from storage.anchors import anchor_state, get_anchors, put_anchors
from storage.bulk import BulkReads, chunks
from storage.models import (
    AnchorRow,
    Blob,
    Change,
    CrawlRun,
    Fetch,
    Flag,
    FlagReason,
    Review,
    Snapshot,
    SourceRow,
    Suggestion,
)
from storage.records import (
    AnchorState,
    ChangeRecord,
    FailureRecord,
    FlagRecord,
    ReasonRecord,
    ReviewRecord,
    SnapshotRecord,
    SourceState,
    SuggestionRecord,
)
from storage.values import EditorAction


class NotFound(Exception):
    """The asked-for change, snapshot or open flag does not exist."""


def _utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything citewatch hands out is aware UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Queries(BulkReads):
    """Read access (mixed into Store)."""

    sessions: sessionmaker[Session]

    def blob(self, sha: str) -> bytes:
        """The original bytes of a blob."""
        with self.sessions() as s:
            row = s.get(Blob, sha)
            if row is None:
                raise NotFound(f"no blob {sha}")
            return blobs.decompress(row.codec, row.data)

    def snapshot(self, snapshot_id: int) -> SnapshotRecord:
        """One snapshot with its text."""
        with self.sessions() as s:
            row = s.get(Snapshot, snapshot_id)
            if row is None:
                raise NotFound(f"no snapshot {snapshot_id}")
            return self._snapshot_record(s, row)

    def latest_snapshot(self, source_pk: int) -> SnapshotRecord | None:
        """The newest good version of a source, or None before its first."""
        with self.sessions() as s:
            row = s.scalars(
                sa.select(Snapshot)
                .filter_by(source_pk=source_pk)
                .order_by(Snapshot.id.desc())
                .limit(1)
            ).first()
            return None if row is None else self._snapshot_record(s, row)

    def current_text(self, tool_id: str, source_id: str) -> str | None:
        """The newest text of a tool's source (None before its first good fetch)."""
        with self.sessions() as s:
            pk = s.scalar(sa.select(SourceRow.id).filter_by(tool_id=tool_id, source_id=source_id))
        latest = None if pk is None else self.latest_snapshot(pk)
        return None if latest is None else latest.text

    def snapshots(self, source_pk: int) -> list[SnapshotRecord]:
        """Every version of a source, oldest first."""
        with self.sessions() as s:
            rows = s.scalars(
                sa.select(Snapshot).filter_by(source_pk=source_pk).order_by(Snapshot.id)
            ).all()
            return [self._snapshot_record(s, r) for r in rows]

    def sources(self) -> list[SourceState]:
        """Every known source row, read only (reports must not create or reset rows)."""
        with self.sessions() as s:
            rows = s.scalars(sa.select(SourceRow).order_by(SourceRow.id)).all()
            return [
                SourceState(
                    pk=r.id,
                    tool_id=r.tool_id,
                    source_id=r.source_id,
                    url=r.url,
                    etag=r.etag,
                    last_modified=r.last_modified,
                    consecutive_failures=r.consecutive_failures,
                )
                for r in rows
            ]

    def _snapshot_record(self, s: Session, row: Snapshot) -> SnapshotRecord:
        text_blob = s.get_one(Blob, row.text_sha)
        text = blobs.decompress(text_blob.codec, text_blob.data).decode("utf-8")
        return SnapshotRecord(
            id=row.id,
            source_pk=row.source_pk,
            taken_at=_utc(row.taken_at),
            raw_sha=row.raw_sha,
            text_sha=row.text_sha,
            text=text,
            extract_key=row.extract_key,
            content_type=row.content_type,
            final_url=row.final_url,
            technical=row.technical,
        )

    def changes(
        self, since: datetime | None = None, *, ids: Iterable[int] | None = None
    ) -> list[ChangeRecord]:
        """Detected changes, oldest first, optionally since a time or restricted to ids."""
        # Columns, not entities: a year of daily changes is read in a fraction of the time.
        query = sa.select(*_CHANGE_COLUMNS).join(SourceRow, Change.source_pk == SourceRow.id)
        if since is not None:
            query = query.where(Change.detected_at >= since)
        query = query.order_by(Change.id)
        batches = [query] if ids is None else [
            query.where(Change.id.in_(batch)) for batch in chunks(sorted(set(ids)))
        ]  # fmt: skip
        with self.sessions() as s:
            return [_change_record(row) for q in batches for row in s.execute(q)]

    def change_ids(self, tiers: Iterable[str], *, technical: bool = False) -> list[int]:
        """Ids of the changes of these tiers (and, with `technical`, every technical one),
        oldest first: ids only, however long the history."""
        wanted: sa.ColumnElement[bool] = Change.tier.in_(list(tiers))
        if technical:
            wanted = sa.or_(wanted, Change.technical)
        with self.sessions() as s:
            return list(s.scalars(sa.select(Change.id).where(wanted).order_by(Change.id)))

    def change(self, change_id: int) -> ChangeRecord:
        """One change (NotFound when there is none with that id)."""
        found = self.changes(ids=[change_id])
        if not found:
            raise NotFound(f"no change {change_id}")
        return found[0]

    def mark_reported(
        self,
        change_ids: Iterable[int],
        at: datetime,
        reason_ids: Iterable[int] = (),
        review_ids: Iterable[int] = (),
    ) -> None:
        """Remember that these changes, flag reasons and resolutions went out in a report
        (the first time is kept)."""
        marked = ((Change, change_ids), (FlagReason, reason_ids), (Review, review_ids))
        with self.sessions.begin() as s:
            for model, given in marked:
                for ids in chunks(given):
                    s.execute(
                        sa.update(model)
                        .where(model.id.in_(ids), model.reported_at.is_(None))
                        .values(reported_at=at)
                    )

    def flags(self, status: str | None = None) -> list[FlagRecord]:
        """Flags with reasons and the rating's review history, oldest first: three statements
        whatever the number of flags (flags, their reasons, their ratings' reviews)."""
        chosen = sa.select(Flag.id)
        if status is not None:
            chosen = chosen.filter_by(status=status)
        ratings = (
            sa.select(Flag.tool_id, Flag.criterion_id)
            .where(Flag.id.in_(chosen))
            .distinct()
            .subquery()
        )
        reviews_query = (
            sa.select(Review)
            .join(
                ratings,
                sa.and_(
                    Review.tool_id == ratings.c.tool_id,
                    Review.criterion_id == ratings.c.criterion_id,
                ),
            )
            .order_by(Review.id)
        )
        with self.sessions() as s:
            flags = s.scalars(sa.select(Flag).where(Flag.id.in_(chosen)).order_by(Flag.id)).all()
            reasons: dict[int, list[ReasonRecord]] = {}
            for r in s.scalars(
                sa.select(FlagReason).where(FlagReason.flag_id.in_(chosen)).order_by(FlagReason.id)
            ):
                reasons.setdefault(r.flag_id, []).append(_reason_record(r))
            reviews: dict[tuple[str, str], list[ReviewRecord]] = {}
            for v in s.scalars(reviews_query):
                reviews.setdefault((v.tool_id, v.criterion_id), []).append(_review_record(v))
            return [
                _flag_record(
                    f,
                    reasons.get(f.id, []),
                    reviews.get((f.tool_id, f.criterion_id), []),
                )
                for f in flags
            ]

    def reviews(self, tool_id: str | None = None) -> list[ReviewRecord]:
        """Every resolution, oldest first (of one tool when given)."""
        with self.sessions() as s:
            query = sa.select(Review).order_by(Review.id)
            if tool_id is not None:
                query = query.filter_by(tool_id=tool_id)
            return [_review_record(r) for r in s.scalars(query)]

    def current_ratings(self) -> dict[tuple[str, str], str]:
        """Ratings editors set with `review --set`, newest wins, by (tool, criterion)."""
        out: dict[tuple[str, str], str] = {}
        for r in self.reviews():
            if r.action == "set" and r.rating:
                out[(r.tool_id, r.criterion_id)] = r.rating
        return out

    def suggestions(self, change_ids: Iterable[int] | None = None) -> list[SuggestionRecord]:
        """Citation gaps, oldest first (of these changes when given)."""
        query = sa.select(Suggestion).order_by(Suggestion.id)
        batches = [query] if change_ids is None else [
            query.where(Suggestion.change_id.in_(batch)) for batch in chunks(change_ids)
        ]  # fmt: skip
        with self.sessions() as s:
            found = [
                SuggestionRecord(
                    id=g.id,
                    change_id=g.change_id,
                    created_at=_utc(g.created_at),
                    tool_id=g.tool_id,
                    criterion_id=g.criterion_id,
                    source_id=g.source_id,
                    text=g.text,
                    sentences=tuple((p.get("old"), p.get("new")) for p in g.sentences or ()),
                    matched_terms=tuple(g.matched_terms or ()),
                )
                for q in batches
                for g in s.scalars(q)
            ]
        # Chunks of unsorted ids each come back in order: merge them, oldest first.
        return found if len(batches) < 2 else sorted(found, key=lambda g: g.id)

    def unwatched(self) -> list[AnchorState]:
        """Evidence quotes never found in their source: the ratings they belong to are not
        watched by them."""
        with self.sessions() as s:
            rows = s.scalars(
                sa.select(AnchorRow).filter_by(status="never-found").order_by(AnchorRow.id)
            )
            return [anchor_state(r) for r in rows]

    def every_anchor(self) -> list[AnchorState]:
        """Where every tool's evidence quotes stand, in the order they were anchored."""
        with self.sessions() as s:
            return [anchor_state(r) for r in s.scalars(sa.select(AnchorRow).order_by(AnchorRow.id))]

    def anchors(
        self, tool_id: str, source_id: str | None = None, criterion_id: str | None = None
    ) -> list[AnchorState]:
        """Where a tool's evidence quotes stand (optionally of one source or criterion)."""
        with self.sessions() as s:
            return get_anchors(s, tool_id, source_id, criterion_id)

    def resolve(
        self,
        tool_id: str,
        criterion_id: str,
        action: EditorAction,
        rating: str | None,
        note: str,
        by: str,
        refresh: Sequence[AnchorState] = (),
    ) -> ReviewRecord:
        """Close the rating's open flag with an editor's decision, kept as history.

        ``refresh``: the rating's anchors re-taken in the current text, written in the same
        transaction so that the next change is compared with what the editor accepted.
        A change's flag goes first; a broken-source flag only when it is the last one open
        (it also closes itself when the source recovers).
        """
        at = datetime.now(UTC)
        with self.sessions.begin() as s:
            flag = s.scalars(
                sa.select(Flag)
                .filter_by(tool_id=tool_id, criterion_id=criterion_id, status="open")
                .order_by(sa.case((Flag.severity == "broken", 1), else_=0), Flag.id)
            ).first()
            if flag is None:
                raise NotFound(f"no open flag for {tool_id} / {criterion_id}")
            flag.status, flag.resolved_at = "resolved", at
            review = Review(
                flag_id=flag.id,
                tool_id=tool_id,
                criterion_id=criterion_id,
                action=action,
                rating=rating,
                note=note,
                by=by,
                at=at,
            )
            s.add(review)
            put_anchors(s, refresh, at)
            s.flush()
            return _review_record(review)

    def failures(self, since: datetime | None = None) -> list[FailureRecord]:
        """Failed fetches, oldest first."""
        query = (
            sa.select(Fetch, SourceRow)
            .join(SourceRow, Fetch.source_pk == SourceRow.id)
            .where(Fetch.outcome == "failed")
        )
        if since is not None:
            query = query.where(Fetch.started_at >= since)
        with self.sessions() as s:
            return [_failure_record(f, src) for f, src in s.execute(query.order_by(Fetch.id))]

    def broken_sources(self) -> list[FailureRecord]:
        """The latest failure of every source whose last fetch failed (broken or not yet):
        the fetch its row names as the last one (no scan of the fetch log)."""
        query = (
            sa.select(Fetch, SourceRow)
            .join(SourceRow, Fetch.id == SourceRow.last_fetch_id)
            .where(SourceRow.consecutive_failures > sa.literal_column("0"))
            .order_by(Fetch.id)
        )
        with self.sessions() as s:
            return [_failure_record(f, src) for f, src in s.execute(query)]

    def last_catalog(self) -> str | None:
        """The catalog path of the newest crawl run, if any."""
        with self.sessions() as s:
            return s.scalar(sa.select(CrawlRun.catalog).order_by(CrawlRun.id.desc()).limit(1))


def _flag_record(
    flag: Flag, reasons: Sequence[ReasonRecord], reviews: Sequence[ReviewRecord]
) -> FlagRecord:
    return FlagRecord(
        id=flag.id,
        tool_id=flag.tool_id,
        criterion_id=flag.criterion_id,
        status=flag.status,
        severity=flag.severity,
        opened_at=_utc(flag.opened_at),
        resolved_at=_utc(flag.resolved_at) if flag.resolved_at else None,
        reasons=tuple(reasons),
        reviews=tuple(reviews),
    )


def _failure_record(f: Fetch, src: SourceRow) -> FailureRecord:
    return FailureRecord(
        fetch_id=f.id,
        tool_id=src.tool_id,
        source_id=src.source_id,
        url=f.requested_url,
        at=_utc(f.started_at),
        status=f.status,
        error=f.error,
        error_kind=f.error_kind,
        consecutive=src.consecutive_failures,
        failure_class=f.failure_class,
        broken_since=_utc(src.broken_since) if src.broken_since else None,
    )


# In the order _change_record unpacks them.
_CHANGE_COLUMNS = (
    Change.id,
    SourceRow.tool_id,
    SourceRow.source_id,
    SourceRow.url,
    Change.detected_at,
    Change.significant,
    Change.technical,
    Change.reason,
    Change.noise,
    Change.added,
    Change.removed,
    Change.old_snapshot_id,
    Change.new_snapshot_id,
    Change.reported_at,
    Change.tier,
)


def _change_record(row: Sequence[Any]) -> ChangeRecord:
    (id_, tool, source, url, detected, significant, technical, reason, noise, added, removed,
     old, new, reported, tier) = row  # fmt: skip
    return ChangeRecord(
        id=id_,
        tool_id=tool,
        source_id=source,
        url=url,
        detected_at=_utc(detected),
        significant=significant,
        technical=technical,
        reason=reason,
        noise=tuple(noise or ()),
        added=added,
        removed=removed,
        old_snapshot_id=old,
        new_snapshot_id=new,
        reported_at=_utc(reported) if reported else None,
        tier=tier,
    )


def _reason_record(r: FlagReason) -> ReasonRecord:
    return ReasonRecord(
        change_id=r.change_id,
        source_id=r.source_id,
        kind=r.kind,
        text=r.text,
        sentences=tuple((p.get("old"), p.get("new")) for p in r.sentences or ()),
        matched_terms=tuple(r.matched_terms or ()),
        old_quote=r.old_quote,
        new_quote=r.new_quote,
        created_at=_utc(r.created_at),
        id=r.id,
        reported_at=_utc(r.reported_at) if r.reported_at else None,
        failure_class=r.failure_class,
        broken_since=_utc(r.broken_since) if r.broken_since else None,
    )


def _review_record(r: Review) -> ReviewRecord:
    return ReviewRecord(
        id=r.id,
        flag_id=r.flag_id,
        tool_id=r.tool_id,
        criterion_id=r.criterion_id,
        action=r.action,
        rating=r.rating,
        note=r.note,
        by=r.by,
        at=_utc(r.at),
        reported_at=_utc(r.reported_at) if r.reported_at else None,
    )
