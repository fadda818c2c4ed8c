"""The store: opens and migrates the database, and writes each fetch in one transaction."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy.orm import Session

from diffs.reasons import Reason
from storage import blobs
from storage.anchors import put_anchors
from storage.engine import (
    Sessions,
    StoreError,
    check_file,
    checked_url,
    error_text,
    make_engine,
    shown,
    writer,
)
from storage.health import BROKEN, record_health
from storage.models import (
    Blob,
    Change,
    CrawlRun,
    Fetch,
    Flag,
    FlagReason,
    Snapshot,
    SourceRow,
    Suggestion,
)
from storage.queries import Queries
from storage.records import (
    AnchorState,
    BrokenPolicy,
    FetchEntry,
    NewChange,
    NewSnapshot,
    NewSuggestion,
    Recorded,
    SourceState,
)
from storage.reopen import Reopening
from storage.runs import mark_killed, this_host
from storage.sourcelog import OPEN_FLAG, note_fetch, source_rows
from storage.upsert import insert_ignore


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest revision (Alembic, on a shared connection)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("storage") / "migrations"))
    with writer(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two processes starting at once must not both create the tables.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7236410771)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _unknown_revision(url: sa.URL, exc: CommandError) -> str:
    """Alembic cannot find the database's revision: a newer citewatch wrote it."""
    found = re.search(r"Can't locate revision identified by '([^']+)'", str(exc))
    if found is None:
        return f"cannot migrate database {shown(url)}: {error_text(exc)}"
    revision = found.group(1)
    return (
        f"database {shown(url)} was written by a newer citewatch (schema revision {revision} "
        f"is unknown to this version): upgrade citewatch"
    )


class Store(Queries, Reopening):
    """All database access of citewatch: short transactions, plain values in and out."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.sessions = Sessions(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> Store:
        """Open and migrate the database at the URL; StoreError says, in one line, why not.

        ``create=False`` (commands that only read) refuses a SQLite file that does not exist
        instead of creating an empty database, and its folders, at a mistyped path.
        """
        parsed = checked_url(url)
        check_file(parsed, create=create)
        engine = make_engine(url)
        try:
            migrate(engine)
        except CommandError as exc:
            engine.dispose()
            raise StoreError(_unknown_revision(parsed, exc)) from exc
        except sa.exc.SQLAlchemyError as exc:
            engine.dispose()
            raise StoreError(f"cannot open database {shown(parsed)}: {error_text(exc)}") from exc
        return cls(engine)

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()

    def begin_run(self, catalog: str) -> int:
        """Record the start of a crawl run (runs left "running" by dead processes: killed)."""
        with self.sessions.begin() as s:
            at = now()
            mark_killed(s, at)
            run = CrawlRun(
                started_at=at,
                catalog=catalog,
                status="running",
                pid=os.getpid(),
                host=this_host(),
            )
            s.add(run)
            s.flush()
            return run.id

    def end_run(self, run_id: int, status: str) -> None:
        """Record the end of a crawl run."""
        with self.sessions.begin() as s:
            run = s.get_one(CrawlRun, run_id)
            run.status = status
            run.finished_at = now()

    def source_state(self, tool_id: str, source_id: str, url: str) -> SourceState:
        """The source's row, created on first sight; a new URL resets the validators."""
        return self.source_states([(tool_id, source_id, url)])[0]

    def source_states(self, keys: Sequence[tuple[str, str, str]]) -> list[SourceState]:
        """The rows of (tool, source, url) keys, in order, in one transaction: set-based
        (inserted ON CONFLICT DO NOTHING, read back by key in chunks), so 100,000 sources
        cost a few statements, and two crawls creating the same row both get it."""
        with self.sessions.begin() as s:
            return source_rows(s, keys)

    def record_fetch(
        self,
        entry: FetchEntry,
        versions: Sequence[tuple[NewSnapshot, NewChange | None]] = (),
        reasons: Sequence[Reason] = (),
        broken: BrokenPolicy | None = None,
        anchors: Sequence[AnchorState] = (),
        suggestions: Sequence[NewSuggestion] = (),
    ) -> Recorded:
        """Write a fetch, the snapshots and changes it produced and its flags, atomically.

        ``versions`` is a chain: each snapshot's change is relative to the one before it
        (the first relative to the source's latest snapshot). Flag reasons attach to the
        last change; an open flag of the same rating grows instead of a second one opening.
        ``broken`` says when a failing source counts as broken and which ratings that flags
        (None: failures are counted, never flagged); see storage/health.py.
        ``anchors`` are where the evidence quotes of the source now stand; ``suggestions``
        (citation gaps) attach to the last change, like reasons, but open no flag.
        """
        at = now()
        with self.sessions.begin() as s:
            row = _locked_source(s, entry.source_pk)
            fetch = _fetch_row(entry, _fetch_raw(s, entry, versions))
            s.add(fetch)
            s.flush()
            snapshot_ids, change_ids = self._add_versions(s, entry, fetch.id, versions, at)
            flag_ids: list[int] = []
            if reasons and change_ids:
                flag_ids = [_add_reason(s, r, change_ids[-1], at) for r in reasons]
            if suggestions and change_ids:
                s.add_all(_suggestion_row(g, change_ids[-1], at) for g in suggestions)
            put_anchors(s, anchors, at)
            opened, recovered = _update_source(
                s, row or s.get_one(SourceRow, entry.source_pk), entry, fetch.id, broken, at
            )
        return Recorded(
            fetch_id=fetch.id,
            snapshot_ids=tuple(snapshot_ids),
            change_ids=tuple(change_ids),
            flag_ids=tuple(flag_ids),
            broken_flag_ids=opened,
            recovered_flag_ids=recovered,
        )

    def _add_versions(
        self,
        s: Session,
        entry: FetchEntry,
        fetch_id: int,
        versions: Sequence[tuple[NewSnapshot, NewChange | None]],
        at: datetime,
    ) -> tuple[list[int], list[int]]:
        previous = s.scalar(
            sa.select(Snapshot.id)
            .filter_by(source_pk=entry.source_pk)
            .order_by(Snapshot.id.desc())
            .limit(1)
        )
        snapshot_ids: list[int] = []
        change_ids: list[int] = []
        for new, change in versions:
            snap = Snapshot(
                source_pk=entry.source_pk,
                fetch_id=fetch_id,
                taken_at=entry.started_at,
                raw_sha=_put_blob(s, new.raw),
                text_sha=_put_blob(s, new.text.encode("utf-8")),
                extract_key=new.extract_key,
                content_type=new.content_type,
                final_url=new.final_url,
                technical=new.technical,
                screenshot_sha=None if new.screenshot is None else _put_blob(s, new.screenshot),
                screenshot_boxes=_layout(new) if new.screenshot else None,
            )
            s.add(snap)
            s.flush()
            snapshot_ids.append(snap.id)
            if change is not None and previous is not None:
                row = _change_row(entry.source_pk, previous, snap.id, change, at)
                s.add(row)
                s.flush()
                change_ids.append(row.id)
            previous = snap.id
        return snapshot_ids, change_ids


def _layout(new: NewSnapshot) -> dict[str, Any]:
    """A screenshot's size and text boxes as stored (snapshots.screenshot_boxes)."""
    width, height = new.screenshot_size
    return {"width": width, "height": height, "boxes": [list(box) for box in new.boxes]}


def _put_blob(s: Session, data: bytes) -> str:
    """Store bytes once by their hash; a repeated body costs nothing (not even compressing)."""
    sha = blobs.sha256(data)
    if s.scalar(sa.select(Blob.sha256).where(Blob.sha256 == sha)) is None:
        codec, packed = blobs.compress(data)
        row = {"sha256": sha, "codec": codec, "size": len(data), "data": packed}
        insert_ignore(s, Blob, [row], ["sha256"])  # another writer may store it too
    return sha


def _fetch_raw(
    s: Session, entry: FetchEntry, versions: Sequence[tuple[NewSnapshot, NewChange | None]]
) -> str | None:
    """The fetch's raw body, kept only when it is a version this fetch stores (README,
    Retention): an unchanged page with a nonce would otherwise add a blob every fetch."""
    if entry.raw is None or not any(new.raw == entry.raw for new, _ in versions):
        return None
    return _put_blob(s, entry.raw)


def _fetch_row(entry: FetchEntry, raw_sha: str | None) -> Fetch:
    return Fetch(
        run_id=entry.run_id,
        source_pk=entry.source_pk,
        requested_url=entry.requested_url,
        final_url=entry.final_url,
        redirects=list(entry.redirects),
        status=entry.status,
        outcome=entry.outcome,
        error=entry.error,
        error_kind=entry.error_kind,
        content_type=entry.content_type,
        raw_sha=raw_sha,
        started_at=entry.started_at,
        elapsed_ms=entry.elapsed_ms,
        failure_class=entry.failure_class,
        retry_after=entry.retry_after,
        rendered=entry.rendered,
    )


def _change_row(source_pk: int, old_id: int, new_id: int, c: NewChange, at: datetime) -> Change:
    return Change(
        source_pk=source_pk,
        old_snapshot_id=old_id,
        new_snapshot_id=new_id,
        detected_at=at,
        significant=c.significant,
        tier=c.tier,
        technical=c.technical,
        reason=c.reason,
        noise=list(c.noise),
        added=c.added,
        removed=c.removed,
    )


def _suggestion_row(g: NewSuggestion, change_id: int, at: datetime) -> Suggestion:
    return Suggestion(
        change_id=change_id,
        tool_id=g.tool_id,
        criterion_id=g.criterion_id,
        source_id=g.source_id,
        text=g.text,
        sentences=[{"old": old, "new": new} for old, new in g.sentences],
        matched_terms=list(g.matched_terms),
        created_at=at,
    )


def _add_reason(s: Session, r: Reason, change_id: int, at: datetime) -> int:
    """Attach a reason to the rating's open flag, opening one when there is none."""
    opened = {"tool_id": r.tool, "criterion_id": r.criterion, "source_id": None,
              "status": "open", "severity": r.severity, "opened_at": at}  # fmt: skip
    insert_ignore(s, Flag, [opened], ["tool_id", "criterion_id"], OPEN_FLAG)
    flag = s.scalars(
        sa.select(Flag)
        .filter_by(tool_id=r.tool, criterion_id=r.criterion, status="open")
        .where(Flag.severity != BROKEN)  # a broken source's flag is its own (storage/health.py)
        .with_for_update()
    ).one()
    if r.severity == "evidence":
        flag.severity = "evidence"  # the worst reason decides the flag's severity
    s.add(
        FlagReason(
            flag_id=flag.id,
            change_id=change_id,
            source_id=r.source,
            kind=r.kind,
            text=r.text,
            sentences=[{"old": c.old, "new": c.new} for c in r.sentences],
            matched_terms=list(r.matched_terms),
            old_quote=r.old_quote,
            new_quote=r.new_quote,
            created_at=at,
        )
    )
    return flag.id


def _locked_source(s: Session, source_pk: int) -> SourceRow | None:
    """The source's row, locked (PostgreSQL) so that two crawls recording the same source
    count its failures one after the other; SQLite's writer already holds the database.
    None for an unknown source: the fetch's foreign key then fails the transaction."""
    query = sa.select(SourceRow).where(SourceRow.id == source_pk).with_for_update()
    return s.scalars(query).one_or_none()


def _update_source(
    s: Session,
    row: SourceRow,
    entry: FetchEntry,
    fetch_id: int,
    broken: BrokenPolicy | None,
    at: datetime,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    row.last_fetch_at = at
    note_fetch(row, entry, fetch_id)
    health = record_health(s, row, entry, broken, at)
    if entry.outcome == "failed":
        return health
    row.last_ok_at = at
    if entry.outcome != "not-modified":
        # Validators come only from a 200 we stored; a 304 keeps the old ones.
        row.etag, row.last_modified = entry.etag, entry.last_modified
    return health
