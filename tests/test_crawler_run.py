"""`citewatch run` as a real process against a local server: once, catch-up, lock, SIGTERM,
catalog reloads and the hard limit of a hung crawl."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from crawler.cli import cli
from crawler.run.lock import SchedulerLock
from crawler.run.status import StatusReport, status_report
from storage import Store
from storage.models import CrawlRun, Fetch, SourceRow
from storage.store import now
from tests.conftest import LocalServer, Reply

FAST = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False")
PAGE = b"<html><body><main><h1>Privacy</h1><p>We keep your data in the EU.</p></main></body></html>"
GUARD_S = 90.0  # an upper bound on waiting for a process: a hang fails the test, never slows it


def page(delay: float = 0.0) -> Reply:
    """An HTML page (optionally answered after `delay` seconds)."""
    return Reply(200, PAGE, {"Content-Type": "text/html; charset=utf-8"}, delay=delay)


def write_catalog(folder: Path, server: LocalServer, *sources: str, broken: bool = False) -> Path:
    """A one-tool catalog citing /<source> for each source id, every day."""
    (folder / "tools").mkdir(parents=True, exist_ok=True)
    lines = ["id: acme", "name: Acme", "sources:"]
    for sid in sources:
        lines += [f"  - id: {sid}", f"    url: {server.url('/' + sid)}", "    every: 1d"]
    lines += ["ratings:", "  dpa:", "    rating: unknown", f"    sources: [{', '.join(sources)}]"]
    if broken:
        lines.append("  nonsense: [")
    (folder / "tools" / "acme.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def citewatch(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a child process, as an operator would."""
    cmd = [sys.executable, "-m", "crawler.cli", "--db", db, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=GUARD_S, check=False)


def start(db: str, catalog: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    """A long-running `run` whose log goes to a file."""
    cmd = [sys.executable, "-m", "crawler.cli", "--db", db, "run", str(catalog), *FAST, *args]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log.open("wb"))


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll until the condition holds; fail (not hang) past GUARD_S."""
    deadline = time.monotonic() + GUARD_S
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def status(db: str) -> StatusReport:
    """`status` as a value."""
    store = Store.open(db)
    try:
        return status_report(store)
    finally:
        store.close()


def rows(db: str, query: sa.Select[tuple[str]]) -> list[str]:
    """A one-column query's values."""
    store = Store.open(db)
    try:
        with store.sessions() as s:
            return list(s.scalars(query))
    finally:
        store.close()


def test_run_once_crawls_what_is_due_and_catches_up_once_after_downtime(
    http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.route("/a", page())
    http_server.route("/b", page())
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    catalog = write_catalog(tmp_path / "cat", http_server, "a", "b")
    done = citewatch(db, "run", str(catalog), "--once", *FAST)
    assert done.returncode == 0, done.stderr
    assert (len(http_server.hits("/a")), len(http_server.hits("/b"))) == (1, 1)
    report = status(db)
    assert (report.scheduler.state, report.scheduler.cycles) == ("stopped", 1)
    assert [(s.source, s.outcome) for s in report.sources] == [("a", "new"), ("b", "new")]
    assert all(s.due_at and s.due_at > now() + timedelta(hours=23) for s in report.sources)
    shown = CliRunner().invoke(cli, ["--db", db, "status"], obj={})
    assert "scheduler: stopped" in shown.output and "acme/a" in shown.output
    as_json = CliRunner().invoke(cli, ["--db", db, "status", "--json"], obj={})
    assert json.loads(as_json.output)["scheduler"]["state"] == "stopped"
    # Nothing is due a moment later.
    assert citewatch(db, "run", str(catalog), "--once", *FAST).returncode == 0
    assert (len(http_server.hits("/a")), len(http_server.hits("/b"))) == (1, 1)
    store = Store.open(db)
    with store.sessions.begin() as s:  # ten days of downtime
        s.execute(sa.update(SourceRow).values(last_fetch_at=now() - timedelta(days=10)))
    store.close()
    for _ in range(2):
        assert citewatch(db, "run", str(catalog), "--once", *FAST).returncode == 0
    # One crawl each to catch up, not ten, and not again in the next cycle.
    assert (len(http_server.hits("/a")), len(http_server.hits("/b"))) == (2, 2)


def test_second_scheduler_on_same_database_is_refused(
    http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.route("/a", page())
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    catalog = write_catalog(tmp_path / "cat", http_server, "a")
    with SchedulerLock(db) as held:
        held.acquire()
        refused = citewatch(db, "run", str(catalog), "--once", *FAST)
    assert refused.returncode == 1
    assert "another scheduler runs on this database" in refused.stderr
    assert f"pid {os.getpid()}" in refused.stderr
    assert http_server.hits("/a") == []


def test_sigterm_stops_after_the_current_crawl(http_server: LocalServer, tmp_path: Path) -> None:
    http_server.route("/slow", page(delay=3.0))
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    catalog = write_catalog(tmp_path / "cat", http_server, "slow")
    log = tmp_path / "run.log"
    proc = start(db, catalog, log, "--tick", "1")
    wait_for(lambda: bool(http_server.hits("/slow")), "the crawl to start")
    proc.send_signal(signal.SIGTERM)  # the page is still being served
    assert proc.wait(timeout=GUARD_S) == 0
    assert "SIGTERM: stopping after the current crawl" in log.read_text()
    # The crawl was finished and recorded, not cut off; nothing is left "running".
    assert rows(db, sa.select(Fetch.outcome)) == ["new"]
    assert rows(db, sa.select(CrawlRun.status)) == ["done"]
    assert status(db).scheduler.state == "stopped"


def test_catalog_edits_are_used_next_cycle_and_a_broken_one_is_skipped(
    http_server: LocalServer, tmp_path: Path
) -> None:
    for path in ("/a", "/b", "/c"):
        http_server.route(path, page())
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    catalog = write_catalog(tmp_path / "cat", http_server, "a")
    log = tmp_path / "run.log"
    proc = start(db, catalog, log, "--tick", "1")
    try:
        wait_for(lambda: bool(rows(db, sa.select(Fetch.outcome))), "the first crawl")
        write_catalog(catalog, http_server, "a", "b")
        wait_for(lambda: len(rows(db, sa.select(Fetch.outcome))) == 2, "b to be crawled")
        write_catalog(catalog, http_server, "a", "b", "c", broken=True)
        wait_for(lambda: "keeping the last good one" in log.read_text(), "the broken catalog")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=GUARD_S) == 0
    assert "reloaded: 1 tools" in log.read_text()
    assert (len(http_server.hits("/a")), len(http_server.hits("/b"))) == (1, 1)
    assert http_server.hits("/c") == []  # the broken edit was never used


def test_crawl_over_the_hard_limit_is_killed_and_recorded(
    http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.route("/hung", page(delay=600.0))
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    catalog = write_catalog(tmp_path / "cat", http_server, "hung")
    done = citewatch(db, "run", str(catalog), "--once", "--crawl-timeout", "4", *FAST)
    assert done.returncode == 0, done.stderr
    assert "hard limit" in done.stderr
    assert rows(db, sa.select(Fetch.error_kind)) == ["crawl-killed"]
    assert set(rows(db, sa.select(CrawlRun.status))) == {"killed"}
    (source,) = status(db).sources
    assert (source.outcome, source.consecutive_failures) == ("failed", 1)
    assert source.due_at is not None and source.due_at < now() + timedelta(minutes=6)  # backoff


def test_a_crawl_child_that_dies_counts_as_failures_and_backs_off(
    http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.route("/a", page())
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    catalog = write_catalog(tmp_path / "cat", http_server, "a")
    # An unimportable reactor: the crawl child exits 1 without fetching anything.
    bad = ("-s", "TWISTED_REACTOR=no.such.Reactor")
    first = citewatch(db, "run", str(catalog), "--once", *FAST, *bad)
    assert first.returncode == 0, first.stderr
    assert "crawl child failed (exit 1)" in first.stderr
    # The next cycle finds the source backing off instead of starting the same crawl again.
    assert citewatch(db, "run", str(catalog), "--once", *FAST, *bad).returncode == 0
    assert rows(db, sa.select(Fetch.error_kind)) == ["crawl-failed"]
    assert http_server.hits("/a") == []


def test_max_cycles_ends_the_scheduler_after_that_many_looks(
    http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.route("/a", page())
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    catalog = write_catalog(tmp_path / "cat", http_server, "a")
    proc = start(db, catalog, tmp_path / "run.log", "--tick", "0.2", "--max-cycles", "3")
    assert proc.wait(timeout=GUARD_S) == 0
    report = status(db)
    assert (report.scheduler.state, report.scheduler.cycles) == ("stopped", 3)
    assert len(http_server.hits("/a")) == 1  # crawled in the first cycle, not due after
