"""Storage that scales (issue 15), on SQLite: the last fetch on the source row (no fetch-log
scan for due times and status), set-based source rows, one open flag per rating, readers
that never take the write lock, raw bodies kept only for stored versions, migration 0008."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from test_storage_reads import statements

from diffs.reasons import Reason
from diffs.sentences import SentenceChange
from storage import Store
from storage.records import BrokenPolicy, FetchEntry, NewChange, NewSnapshot
from storage.scheduling import source_schedules
from storage.store import migrate

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
URL = "http://127.0.0.1/p"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh migrated SQLite store."""
    opened = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield opened
    opened.close()


def fetch(
    store: Store, pk: int, outcome: str, at: datetime, raw: bytes | None = None
) -> FetchEntry:
    """A fetch of its own run; failed ones are transient 503s."""
    failed = outcome == "failed"
    return FetchEntry(
        run_id=store.begin_run("catalog"),
        source_pk=pk,
        requested_url=URL,
        final_url=URL,
        redirects=(),
        status=503 if failed else 200,
        outcome=outcome,
        error="http: HTTP 503" if failed else None,
        error_kind="http" if failed else None,
        content_type="text/html",
        raw=None if failed else (raw or b"<p>x</p>"),
        started_at=at,
        elapsed_ms=3,
        failure_class="transient" if failed else None,
    )


def version(text: str, raw: bytes | None = None) -> NewSnapshot:
    """A version whose raw body embeds the text (or is the given one)."""
    body = raw or f"<p>{text}</p>".encode()
    return NewSnapshot(
        raw=body, text=text, extract_key="html/1", content_type="text/html", final_url=None
    )


def topic(criterion: str = "no-training") -> Reason:
    """A topic reason of the rating tool/criterion."""
    return Reason(
        tool="tool",
        criterion=criterion,
        source="policy",
        severity="topic",
        kind="topic",
        text="speaks about training",
        sentences=(SentenceChange("We do not train.", "We train."),),
        matched_terms=("train",),
    )


def count(store: Store, sql: str) -> int:
    """The one integer a query returns."""
    with store.sessions() as s:
        return int(s.execute(sa.text(sql)).scalar_one())


def test_schedule_state_is_read_from_source_rows_without_the_fetch_log(store: Store) -> None:
    pk = store.source_state("tool", "policy", URL).pk
    store.record_fetch(fetch(store, pk, "new", T0), [(version("v1"), None)])
    for hours in (1, 2):
        slow = replace(fetch(store, pk, "failed", T0 + timedelta(hours=hours)), retry_after=1e23)
        store.record_fetch(slow)
    with statements(store) as seen:
        state = source_schedules(store)[("tool", "policy")]
    assert not [q for q in seen if "fetches" in q]  # one row per source, whatever the history
    assert (state.last_outcome, state.last_error_kind, state.last_error) == (
        "failed",
        "http",
        "http: HTTP 503",
    )
    assert state.consecutive_failures == 2 and state.failing_since == T0 + timedelta(hours=1)
    # Retry-After counts from the last fetch's start, clamped to a day (1e23 s read as a day).
    assert state.retry_after == T0 + timedelta(hours=2, days=1)
    store.record_fetch(fetch(store, pk, "unchanged", T0 + timedelta(hours=3)))
    healed = source_schedules(store)[("tool", "policy")]
    assert (healed.last_outcome, healed.failing_since, healed.retry_after) == (
        "unchanged",
        None,
        None,
    )


def test_source_rows_are_created_set_based(store: Store) -> None:
    keys = [(f"tool-{i // 10}", f"source-{i % 10}", f"https://t{i}.example/") for i in range(3000)]
    with statements(store) as seen:
        states = store.source_states(keys)
    # One insert and one read per 5,000 keys, not a read and an insert per key.
    assert len(seen) <= 4, seen[:5]
    assert [(s.tool_id, s.source_id, s.url) for s in states] == keys
    assert len({s.pk for s in states}) == 3000
    moved = store.source_states([("tool-0", "source-1", "https://moved.example/")])
    assert moved[0].pk == states[1].pk and moved[0].url == "https://moved.example/"


def test_a_second_open_flag_of_one_rating_is_refused_by_the_database(store: Store) -> None:
    pk = store.source_state("tool", "policy", URL).pk
    store.record_fetch(fetch(store, pk, "new", T0), [(version("v1"), None)])
    change = NewChange(tier="substantive", reason="words", noise=(), added=1, removed=1)
    store.record_fetch(fetch(store, pk, "changed", T0), [(version("v2"), change)], [topic()])
    row = "('tool', 'no-training', 'open', 'topic', '2026-05-01')"
    with pytest.raises(sa.exc.IntegrityError), store.sessions.begin() as s:
        s.execute(sa.text(f"INSERT INTO flags (tool_id, criterion_id, status, severity, "
                          f"opened_at) VALUES {row}"))  # fmt: skip
    # A broken-source flag of the same rating is its own, and so is a resolved one.
    store.resolve("tool", "no-training", "confirm", None, "Checked.", "ed")
    store.record_fetch(fetch(store, pk, "changed", T0), [(version("v3"), change)], [topic()])
    assert len(store.flags("open")) == 1 and len(store.flags()) == 2


def test_a_reader_does_not_take_the_write_lock(store: Store, tmp_path: Path) -> None:
    store.source_state("tool", "policy", URL)
    writer = sqlite3.connect(tmp_path / "db.sqlite", timeout=0.2, isolation_level=None)
    try:
        with store.sessions() as s:  # a long report, mid-read
            assert s.execute(sa.text("SELECT count(*) FROM sources")).scalar() == 1
            writer.execute("BEGIN IMMEDIATE")  # a crawl's write: not "database is locked"
            writer.execute("UPDATE sources SET url = 'http://127.0.0.1/q'")
            writer.execute("COMMIT")
            # The reader keeps its snapshot until its transaction ends.
            assert s.execute(sa.text("SELECT url FROM sources")).scalar() == URL
    finally:
        writer.close()
    assert store.sources()[0].url == "http://127.0.0.1/q"


def test_an_unchanged_page_with_a_nonce_keeps_no_new_raw_body(store: Store) -> None:
    pk = store.source_state("tool", "policy", URL).pk
    first = b'<script nonce="a1"></script><p>same</p>'
    store.record_fetch(fetch(store, pk, "new", T0, first), [(version("same", first), None)])
    for n in range(5):
        again = f'<script nonce="b{n}"></script><p>same</p>'.encode()
        store.record_fetch(fetch(store, pk, "unchanged", T0 + timedelta(days=n + 1), again))
    assert count(store, "SELECT count(*) FROM blobs") == 2  # the version's raw body and text
    assert count(store, "SELECT count(*) FROM fetches WHERE raw_sha IS NOT NULL") == 1
    (latest,) = store.versions()
    assert store.blob(latest.raw_sha) == first  # the stored version keeps its raw body


def downgrade(store: Store, revision: str) -> None:
    """Run the store's migrations down to a revision."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("storage") / "migrations"))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_migration_0008_fills_source_rows_and_merges_duplicate_open_flags(store: Store) -> None:
    policy = BrokenPolicy(2, ("no-training",))
    pk = store.source_state("tool", "policy", URL).pk
    store.record_fetch(fetch(store, pk, "new", T0), [(version("v1"), None)], broken=policy)
    for hours in (1, 2):
        store.record_fetch(fetch(store, pk, "failed", T0 + timedelta(hours=hours)), broken=policy)
    expected = source_schedules(store)[("tool", "policy")]
    downgrade(store, "0007")
    with store.sessions.begin() as s:  # what overlapping crawls could leave: two open flags
        for day in (2, 3):
            s.execute(sa.text(
                "INSERT INTO flags (tool_id, criterion_id, status, severity, opened_at) "
                f"VALUES ('tool', 'dpa', 'open', 'topic', '2026-05-0{day}')"
            ))  # fmt: skip
            s.execute(sa.text(
                "INSERT INTO flag_reasons (flag_id, source_id, kind, text, sentences, "
                "matched_terms, created_at) VALUES ((SELECT max(id) FROM flags), 'policy', "
                f"'topic', 'reason {day}', '[]', '[]', '2026-05-0{day}')"
            ))  # fmt: skip
    migrate(store.engine)
    assert source_schedules(store)[("tool", "policy")] == expected
    dpa = [f for f in store.flags("open") if f.criterion_id == "dpa"]
    assert len(dpa) == 1 and [r.text for r in dpa[0].reasons] == ["reason 2", "reason 3"]
    # The broken-source flag knows its source: a good fetch resolves it.
    store.record_fetch(fetch(store, pk, "unchanged", T0 + timedelta(hours=3)), broken=policy)
    assert [f.criterion_id for f in store.flags("open")] == ["dpa"]


def test_failure_streaks_for_notify_search_the_fetch_log_by_source(store: Store) -> None:
    from storage.outbox import Outbox

    for n in range(20):
        pk = store.source_state("tool", f"page-{n}", URL).pk
        store.record_fetch(fetch(store, pk, "new", T0), [(version(f"v{n}"), None)])
    failing = store.source_state("tool", "page-3", URL).pk
    for hours in (1, 2):
        store.record_fetch(fetch(store, failing, "failed", T0 + timedelta(hours=hours)))
    outbox = Outbox(store.sessions)
    seen: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        seen.append((statement, parameters))

    sa.event.listen(store.engine, "before_cursor_execute", keep)
    try:
        streaks = outbox.broken_streaks()
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", keep)
    assert list(streaks) == [("tool", "page-3")] and len(streaks["tool", "page-3"]) == 2
    ((query, params),) = [(q, p) for q, p in seen if "fetches" in q]
    with store.sessions() as s:
        plan = [
            row[-1] for row in s.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {query}", params)
        ]
    # The failing sources' fetches after their last good one, found by index: no scan of
    # the whole log (a fetch per source per day) every scheduler cycle.
    assert not [step for step in plan if step.startswith("SCAN fetches")], plan
    assert any("ix_fetches_source_pk_id" in step for step in plan), plan
    assert outbox.covered_among("fetch", streaks["tool", "page-3"]) == frozenset()


def test_notify_reads_only_the_changes_no_notification_covered(store: Store) -> None:
    from storage.outbox import Channel, Message, Outbox

    pk = store.source_state("tool", "policy", URL).pk
    store.record_fetch(fetch(store, pk, "new", T0), [(version("v0"), None)])
    tiers = ["substantive", "noise", "minor", "noise"]
    for n, tier in enumerate(tiers, 1):
        change = NewChange(tier=tier, reason="r", noise=(), added=1, removed=1)
        store.record_fetch(fetch(store, pk, "changed", T0), [(version(f"v{n}"), change)])
    ids = [c.id for c in store.changes()]
    outbox = Outbox(store.sessions)
    assert outbox.uncovered_changes() == ids
    message = Message("s", "t", "h")
    outbox.enqueue(message, [("change", ids[0]), ("change", ids[2])], [Channel("e", "e")], T0)
    assert outbox.uncovered_changes() == [ids[1], ids[3]]
    # The reviewer site's pages: substantive and minor changes (and technical upgrades).
    assert store.change_ids(("substantive", "minor"), technical=True) == [ids[0], ids[2]]
