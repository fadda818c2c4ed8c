"""The same store on a real PostgreSQL server: a throw-away cluster started by the test.

Set CITEWATCH_TEST_PG to a postgresql+psycopg:// URL to use an existing server instead.
Where no PostgreSQL is installed the tests skip, except in CI (CI=true), where they fail:
.ci/run installs the Debian package so that this path is always exercised there.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from diffs.reasons import Reason
from diffs.sentences import SentenceChange
from storage import Store
from storage.records import FetchEntry, NewChange, NewSnapshot


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
