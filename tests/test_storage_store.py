"""The store on SQLite: atomic fetch records, failures as data, flags that grow, migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from diffs.reasons import Reason, Severity
from diffs.sentences import SentenceChange
from storage import NotFound, Store
from storage.models import Base
from storage.records import FetchEntry, NewChange, NewSnapshot


def entry(store: Store, pk: int, outcome: str, raw: bytes | None = b"<p>x</p>") -> FetchEntry:
    """A fetch log entry of a run of its own."""
    run = store.begin_run("catalog")
    return FetchEntry(
        run_id=run,
        source_pk=pk,
        requested_url="http://127.0.0.1/p",
        final_url="http://127.0.0.1/p",
        redirects=(),
        status=200 if raw else None,
        outcome=outcome,
        error=None if raw else "boom",
        error_kind=None if raw else "connection",
        content_type="text/html",
        raw=raw,
        started_at=datetime.now(UTC),
        elapsed_ms=3,
        etag='"e1"',
        last_modified=None,
    )


def snap(text: str, technical: bool = False) -> NewSnapshot:
    """A snapshot whose raw body embeds the text."""
    return NewSnapshot(
        raw=f"<p>{text}</p>".encode(),
        text=text,
        extract_key="html/1#x",
        content_type="text/html",
        final_url=None,
        technical=technical,
    )


def reason(criterion: str = "no-training", severity: Severity = "topic") -> Reason:
    """A topic reason about training."""
    return Reason(
        tool="tool",
        criterion=criterion,
        source="policy",
        severity=severity,
        kind="topic",
        text="speaks about training",
        sentences=(SentenceChange("We do not train.", "We train."),),
        matched_terms=("train",),
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A fresh migrated SQLite store."""
    return Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")


def test_sqlite_pragmas_for_long_running_use(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_migrations_match_models(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_reopening_migrates_nothing_and_keeps_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    first = Store.open(url)
    pk = first.source_state("tool", "policy", "http://127.0.0.1/p").pk
    first.record_fetch(entry(first, pk, "new"), [(snap("one"), None)])
    first.close()
    again = Store.open(url)
    latest = again.latest_snapshot(pk)
    assert latest is not None and latest.text == "one"


def test_chain_records_snapshots_changes_and_validators(store: Store) -> None:
    pk = store.source_state("tool", "policy", "http://127.0.0.1/p").pk
    store.record_fetch(entry(store, pk, "new"), [(snap("one"), None)])
    change = NewChange(tier="substantive", reason="words changed", noise=(), added=1, removed=1)
    done = store.record_fetch(entry(store, pk, "changed"), [(snap("two"), change)], [reason()])
    assert len(done.change_ids) == 1 and len(done.flag_ids) == 1
    (c,) = store.changes()
    assert (c.significant, c.reason, c.tool_id, c.source_id) == (
        True,
        "words changed",
        "tool",
        "policy",
    )
    assert store.snapshot(c.old_snapshot_id).text == "one"
    assert store.snapshot(c.new_snapshot_id).text == "two"
    assert store.source_state("tool", "policy", "http://127.0.0.1/p").etag == '"e1"'


def test_failed_fetch_never_replaces_last_good_snapshot(store: Store) -> None:
    pk = store.source_state("tool", "policy", "http://127.0.0.1/p").pk
    store.record_fetch(entry(store, pk, "new"), [(snap("good"), None)])
    store.record_fetch(entry(store, pk, "failed", raw=None))
    latest = store.latest_snapshot(pk)
    assert latest is not None and latest.text == "good"
    (failure,) = store.broken_sources()
    assert (failure.error_kind, failure.consecutive) == ("connection", 1)
    store.record_fetch(entry(store, pk, "unchanged"))
    assert store.broken_sources() == []  # a good fetch heals the source


def test_same_body_is_stored_once(store: Store) -> None:
    pk = store.source_state("tool", "policy", "http://127.0.0.1/p").pk
    store.record_fetch(entry(store, pk, "new", raw=b"<p>same</p>"), [(snap("same"), None)])
    store.record_fetch(entry(store, pk, "unchanged", raw=b"<p>same</p>"))
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM blobs").scalar() == 2  # raw + text
        assert conn.exec_driver_sql("SELECT count(*) FROM fetches").scalar() == 2


def test_new_reason_grows_open_flag_and_review_closes_it(store: Store) -> None:
    pk = store.source_state("tool", "policy", "http://127.0.0.1/p").pk
    store.record_fetch(entry(store, pk, "new"), [(snap("v1"), None)])
    for i, severity in enumerate(["topic", "evidence"], start=2):
        change = NewChange(tier="substantive", reason="words changed", noise=(), added=1, removed=1)
        store.record_fetch(
            entry(store, pk, "changed"), [(snap(f"v{i}"), change)], [reason(severity=severity)]
        )
    (flag,) = store.flags("open")
    assert len(flag.reasons) == 2 and flag.severity == "evidence"
    assert flag.reasons[0].sentences == (("We do not train.", "We train."),)
    store.resolve("tool", "no-training", "set", "no", "clause changed", "ed")
    assert store.flags("open") == []
    assert store.current_ratings() == {("tool", "no-training"): "no"}
    with pytest.raises(NotFound):
        store.resolve("tool", "no-training", "confirm", None, "again", "ed")


def test_record_is_atomic(store: Store) -> None:
    pk = store.source_state("tool", "policy", "http://127.0.0.1/p").pk
    store.record_fetch(entry(store, pk, "new"), [(snap("v1"), None)])
    bad = entry(store, 9999, "changed")  # no such source: the foreign key fails mid-write
    with pytest.raises(sa.exc.IntegrityError):
        store.record_fetch(
            bad,
            [(snap("v2"), NewChange(tier="substantive", reason="x", noise=(), added=1, removed=1))],
            [reason()],
        )
    with store.engine.connect() as conn:
        counts = [
            conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
            for t in ("snapshots", "changes", "flags", "fetches")
        ]
    assert counts == [1, 0, 0, 1]
