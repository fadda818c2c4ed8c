"""The same store on a real PostgreSQL server: a throw-away cluster started by the test.

Set CITEWATCH_TEST_PG to a postgresql+psycopg:// URL to use an existing server instead.
Where no PostgreSQL is installed the tests skip, except in CI (CI=true), where they fail:
.ci/run installs the Debian package so that this path is always exercised there.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from diffs.reasons import Reason
from diffs.sentences import SentenceChange
from storage import Store
from storage.records import AnchorState, FetchEntry, NewChange, NewSnapshot


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; drop to the package's own user."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A URL of a live PostgreSQL database."""
    if os.environ.get("CITEWATCH_TEST_PG"):
        yield os.environ["CITEWATCH_TEST_PG"]
        return
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; .ci/run should have installed it")
        pytest.skip("no PostgreSQL installed")
    bindir = Path(bins[-1])
    # Not pytest's tmp_path: its root is private to root, and the server runs as postgres.
    data = Path(tempfile.mkdtemp(prefix="citewatch-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    port = _free_port()
    subprocess.run(
        _as_postgres([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "citewatch"]),
        check=True,
        capture_output=True,
    )
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {data}"
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                opts,
                "-w",
                "start",
                "-l",
                str(data / "log"),
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [
                str(bindir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "citewatch",
                "citewatch",
            ],
            check=True,
        )
        yield f"postgresql+psycopg://citewatch@127.0.0.1:{port}/citewatch"
    finally:
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(data, ignore_errors=True)


def test_postgres_round_trip(pg_url: str) -> None:
    store = Store.open(pg_url)
    Store.open(pg_url).close()  # a second open finds the schema current
    pk = store.source_state("tool", "policy", "http://127.0.0.1/p").pk
    run = store.begin_run("catalog")

    def entry(outcome: str, raw: bytes) -> FetchEntry:
        return FetchEntry(
            run_id=run,
            source_pk=pk,
            requested_url="http://127.0.0.1/p",
            final_url=None,
            redirects=(),
            status=200,
            outcome=outcome,
            error=None,
            error_kind=None,
            content_type="text/html",
            raw=raw,
            started_at=datetime.now(UTC),
            elapsed_ms=1,
        )

    store.record_fetch(
        entry("new", b"<p>one</p>"),
        [
            (
                NewSnapshot(
                    raw=b"<p>one</p>",
                    text="one",
                    extract_key="k",
                    content_type=None,
                    final_url=None,
                ),
                None,
            )
        ],
    )
    reason = Reason(
        tool="tool",
        criterion="no-training",
        source="policy",
        severity="topic",
        kind="topic",
        text="t",
        sentences=(SentenceChange(None, "We train."),),
        matched_terms=("train",),
    )
    store.record_fetch(
        entry("changed", b"<p>two</p>"),
        [
            (
                NewSnapshot(
                    raw=b"<p>two</p>",
                    text="two",
                    extract_key="k",
                    content_type=None,
                    final_url=None,
                ),
                NewChange(tier="substantive", reason="words", noise=(), added=1, removed=1),
            )
        ],
        [reason],
    )
    (change,) = store.changes()
    assert store.snapshot(change.new_snapshot_id).text == "two"
    (flag,) = store.flags("open")
    assert flag.reasons[0].sentences == ((None, "We train."),)
    store.resolve("tool", "no-training", "confirm", None, "still true", "ed")
    assert store.flags("open") == []
    store.close()


def test_postgres_marks_and_reads_more_ids_than_one_statement_binds(pg_url: str) -> None:
    # PostgreSQL's protocol binds at most 65,535 values a statement: a first report of a long
    # history marks more changes than that.
    store = Store.open(pg_url)
    at = datetime(2026, 4, 1, tzinfo=UTC)
    many = range(10**7, 10**7 + 70_000)
    store.mark_reported(many, at, many, many)
    assert store.changes(ids=many) == []
    assert store.suggestions(many) == []
    assert store.versions(ids=many) == []
    store.close()


# --- concurrent writers (issue 15) ------------------------------------------------------------
# Each race is made deterministic: another transaction holds the contested row, uncommitted,
# until the store's writer is seen waiting on it; then it commits. Get-then-insert did not see
# the row and inserted too (UniqueViolation, or a second open flag); ON CONFLICT waits, skips.


def _waiting(url: str) -> int:
    """Sessions of this database waiting on a lock."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            query = (
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return int(conn.exec_driver_sql(query).scalar_one())
    finally:
        engine.dispose()


def _race(url: str, holder_sql: str, params: dict[str, object], write: Callable[[], object]) -> Any:
    """Run `write` while another transaction holds `holder_sql`'s row; commit it once the
    writer waits (or finished: get-then-insert does not wait for an invisible row)."""
    engine = sa.create_engine(url)
    results: list[object] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(write())
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    try:
        with engine.connect() as holder:
            holder.begin()
            holder.execute(sa.text(holder_sql), params)
            thread = threading.Thread(target=target)
            thread.start()
            deadline = time.monotonic() + 10
            while thread.is_alive() and not _waiting(url) and time.monotonic() < deadline:
                time.sleep(0.05)
            holder.commit()
            thread.join(30)
    finally:
        engine.dispose()
    if errors:
        raise errors[0]
    return results[0]


def _fetch(run: int, pk: int, outcome: str, raw: bytes) -> FetchEntry:
    return FetchEntry(
        run_id=run,
        source_pk=pk,
        requested_url="http://127.0.0.1/p",
        final_url=None,
        redirects=(),
        status=200,
        outcome=outcome,
        error=None,
        error_kind=None,
        content_type="text/html",
        raw=raw,
        started_at=datetime.now(UTC),
        elapsed_ms=1,
    )


def _version(text: str) -> NewSnapshot:
    raw = f"<p>{text}</p>".encode()
    return NewSnapshot(raw=raw, text=text, extract_key="k", content_type=None, final_url=None)


def _reason(tool: str) -> Reason:
    return Reason(
        tool=tool,
        criterion="no-training",
        source="policy",
        severity="topic",
        kind="topic",
        text="t",
        sentences=(SentenceChange(None, "We train."),),
        matched_terms=("train",),
    )


def test_postgres_two_writers_creating_one_source_row_both_get_it(pg_url: str) -> None:
    store = Store.open(pg_url)
    holder = (
        "INSERT INTO sources (tool_id, source_id, url, consecutive_failures) "
        "VALUES ('race-src', 'policy', 'http://127.0.0.1/p', 0)"
    )
    state = _race(
        pg_url, holder, {}, lambda: store.source_state("race-src", "policy", "http://127.0.0.1/p")
    )
    assert state.pk == store.source_state("race-src", "policy", "http://127.0.0.1/p").pk
    store.close()


def test_postgres_two_writers_storing_one_body_both_succeed(pg_url: str) -> None:
    store = Store.open(pg_url)
    pk = store.source_state("race-blob", "policy", "http://127.0.0.1/p").pk
    run = store.begin_run("catalog")
    body = b"<p>raced body</p>"
    holder = "INSERT INTO blobs (sha256, codec, size, data) VALUES (:sha, 'raw', :size, :data)"
    params = {"sha": hashlib.sha256(body).hexdigest(), "size": len(body), "data": body}
    new = NewSnapshot(
        raw=body, text="raced body", extract_key="k", content_type=None, final_url=None
    )
    done = _race(
        pg_url,
        holder,
        params,
        lambda: store.record_fetch(_fetch(run, pk, "new", body), [(new, None)]),
    )
    assert len(done.snapshot_ids) == 1
    assert store.blob(hashlib.sha256(body).hexdigest()) == body
    store.close()


def test_postgres_two_writers_flagging_one_rating_open_one_flag(pg_url: str) -> None:
    store = Store.open(pg_url)
    pk = store.source_state("race-flag", "policy", "http://127.0.0.1/p").pk
    run = store.begin_run("catalog")
    store.record_fetch(_fetch(run, pk, "new", b"<p>v1</p>"), [(_version("v1"), None)])
    holder = (
        "INSERT INTO flags (tool_id, criterion_id, status, severity, opened_at) "
        "VALUES ('race-flag', 'no-training', 'open', 'topic', now())"
    )
    change = NewChange(tier="substantive", reason="words", noise=(), added=1, removed=1)

    def write() -> object:
        return store.record_fetch(
            _fetch(run, pk, "changed", b"<p>v2</p>"),
            [(_version("v2"), change)],
            [_reason("race-flag")],
        )

    _race(pg_url, holder, {}, write)
    (flag,) = [f for f in store.flags("open") if f.tool_id == "race-flag"]
    assert len(flag.reasons) == 1  # the reason joined the flag the other writer opened
    store.close()


def test_postgres_concurrent_crawls_of_one_catalog_lose_nothing(pg_url: str) -> None:
    # Four writers record the same pages at once (same bodies, same ratings flagged): every
    # fetch is recorded, each rating has one open flag holding every reason.
    stores = [Store.open(pg_url) for _ in range(4)]
    keys = [("race-crawl", f"page-{i}", f"http://127.0.0.1/{i}") for i in range(5)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(stores))
    change = NewChange(tier="substantive", reason="words", noise=(), added=1, removed=1)

    def crawl(store: Store, n: int) -> None:
        try:
            barrier.wait()
            states = store.source_states(keys)
            run = store.begin_run("catalog")
            for st in states:
                body = f"<p>{st.source_id} v{n}</p>".encode()
                new = NewSnapshot(raw=body, text=f"{st.source_id} v{n}", extract_key="k",
                                  content_type=None, final_url=None)  # fmt: skip
                store.record_fetch(_fetch(run, st.pk, "changed", body), [(new, change)],
                                   [_reason("race-crawl")])  # fmt: skip
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=crawl, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    open_flags = [f for f in stores[0].flags("open") if f.tool_id == "race-crawl"]
    assert len(open_flags) == 1
    # A change needs an earlier version: the first writer of each page records none.
    assert len(open_flags[0].reasons) == len(keys) * (len(stores) - 1)
    for s in stores:
        s.close()


def test_postgres_two_writers_anchoring_one_quote_both_succeed(pg_url: str) -> None:
    store = Store.open(pg_url)
    pk = store.source_state("race-anchor", "policy", "http://127.0.0.1/p").pk
    run = store.begin_run("catalog")
    quote = "we sign a DPA"
    moved = AnchorState(tool_id="race-anchor", criterion_id="dpa", source_id="policy",
                        quote=quote, wording=quote, prefix="", suffix="", status="moved",
                        score=100.0, passage=None)  # fmt: skip
    holder = (
        "INSERT INTO anchors (tool_id, criterion_id, source_id, quote_sha, quote, wording, "
        "prefix, suffix, status, score, updated_at) VALUES ('race-anchor', 'dpa', 'policy', "
        ":sha, :quote, :quote, '', '', 'found', 100, now())"
    )
    params = {"sha": hashlib.sha256(quote.encode()).hexdigest(), "quote": quote}

    def write() -> object:
        entry = _fetch(run, pk, "new", b"<p>v1</p>")
        return store.record_fetch(entry, [(_version("v1"), None)], anchors=[moved])

    _race(pg_url, holder, params, write)
    assert [a.status for a in store.anchors("race-anchor")] == ["moved"]  # the later write
    store.close()


def test_postgres_migration_0008_upgrades_a_database_with_duplicate_open_flags(pg_url: str) -> None:
    from importlib import resources

    from alembic import command
    from alembic.config import Config

    from storage.scheduling import source_schedules
    from storage.store import migrate

    store = Store.open(pg_url)
    pk = store.source_state("upgrade", "policy", "http://127.0.0.1/p").pk
    run = store.begin_run("catalog")
    store.record_fetch(_fetch(run, pk, "new", b"<p>v1</p>"), [(_version("v1"), None)])
    expected = source_schedules(store)[("upgrade", "policy")]
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("storage") / "migrations"))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
        for _ in range(2):  # what two overlapping crawls could open before 0008
            conn.exec_driver_sql(
                "INSERT INTO flags (tool_id, criterion_id, status, severity, opened_at) "
                "VALUES ('upgrade', 'dpa', 'open', 'topic', now())"
            )
    migrate(store.engine)
    assert source_schedules(store)[("upgrade", "policy")] == expected
    assert len([f for f in store.flags("open") if f.tool_id == "upgrade"]) == 1
    store.close()


def test_postgres_prune_removes_raw_bodies_no_version_uses(pg_url: str) -> None:
    from storage.prune import prune

    store = Store.open(pg_url)
    pk = store.source_state("prune", "policy", "http://127.0.0.1/p").pk
    run = store.begin_run("catalog")
    store.record_fetch(_fetch(run, pk, "new", b"<p>kept</p>"), [(_version("kept"), None)])
    done = store.record_fetch(_fetch(run, pk, "unchanged", b"<p>kept</p>"))
    body = b"<p>a nonce an older citewatch kept</p>"
    with store.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO blobs VALUES (:sha, 'raw', :size, :data)"),
            {"sha": hashlib.sha256(body).hexdigest(), "size": len(body), "data": body},
        )
        conn.execute(sa.text("UPDATE fetches SET raw_sha = :sha WHERE id = :id"),
                     {"sha": hashlib.sha256(body).hexdigest(), "id": done.fetch_id})  # fmt: skip
    at = datetime.now(UTC)
    dry = prune(store.sessions, apply=False, failed_older_than=timedelta(days=1), now=at)
    assert (dry.raw_blobs, dry.fetch_refs) == (1, 1)
    done_ = prune(store.sessions, apply=True, failed_older_than=timedelta(days=1), now=at)
    assert (done_.raw_blobs, done_.raw_bytes) == (1, len(body))
    assert prune(store.sessions, apply=False, now=at).raw_blobs == 0
    assert store.blob(hashlib.sha256(b"<p>kept</p>").hexdigest()) == b"<p>kept</p>"
    store.close()
