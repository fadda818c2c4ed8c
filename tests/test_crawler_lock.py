"""One scheduler per database: the SQLite file lock and the PostgreSQL advisory lock, for real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.run.lock import LockHeld, SchedulerLock, lock_path
from crawler.run.status import status_report
from storage import Store
from tests.conftest import LocalServer, Reply
from tests.test_storage_postgres import pg_url  # noqa: F401  (the throw-away cluster fixture)


def test_lock_file_sits_beside_the_sqlite_file(tmp_path: Path) -> None:
    assert lock_path(f"sqlite:///{tmp_path}/cw.db") == tmp_path / "cw.db.scheduler.lock"
    assert lock_path("sqlite://") is None
    assert lock_path("postgresql+psycopg://u@h/db") is None


def test_sqlite_lock_refuses_a_second_holder_and_names_the_first(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cw.db"
    first, second = SchedulerLock(url), SchedulerLock(url)
    first.acquire()
    with pytest.raises(LockHeld, match=f"pid {os.getpid()} on "):
        second.acquire()
    first.release()
    second.acquire()  # free again once released
    second.release()


def test_sqlite_lock_dies_with_its_process(tmp_path: Path) -> None:
    """A crashed scheduler leaves no stale lock: the OS drops a flock with the process."""
    url = f"sqlite:///{tmp_path}/cw.db"
    code = f"from crawler.run.lock import SchedulerLock; SchedulerLock({url!r}).acquire()"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    lock = SchedulerLock(url)
    lock.acquire()
    lock.release()


@pytest.mark.postgres
def test_postgres_advisory_lock_refuses_a_second_scheduler(pg_url: str, tmp_path: Path) -> None:  # noqa: F811
    first, second = SchedulerLock(pg_url), SchedulerLock(pg_url)
    first.acquire()
    try:
        with pytest.raises(LockHeld, match="pid 42 on elsewhere"):
            second.acquire("pid 42 on elsewhere")
        # The CLI refuses too, with a clear message and a non-zero exit.
        (tmp_path / "cat" / "tools").mkdir(parents=True)
        (tmp_path / "cat" / "tools" / "t.yaml").write_text(
            "id: t\nname: T\nsources:\n  - id: a\n    url: http://127.0.0.1:9/a\nratings: {}\n"
        )
        refused = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "--db", pg_url, "run", str(tmp_path / "cat")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert refused.returncode == 1
        assert "another scheduler runs on this database" in refused.stderr
        assert "advisory lock" in refused.stderr
    finally:
        first.release()
    second.acquire()  # released with its session
    second.release()


@pytest.mark.postgres
def test_run_once_and_status_on_postgres(
    pg_url: str,  # noqa: F811
    http_server: LocalServer,
    tmp_path: Path,
) -> None:
    """The heartbeat row, due times and killed-crawl bookkeeping work on PostgreSQL too."""
    http_server.route(
        "/a", Reply(200, b"<main><p>Our policy.</p></main>", {"Content-Type": "text/html"})
    )
    (tmp_path / "cat" / "tools").mkdir(parents=True)
    (tmp_path / "cat" / "tools" / "t.yaml").write_text(
        f"id: t\nname: T\nsources:\n  - id: a\n    url: {http_server.url('/a')}\nratings: {{}}\n"
    )
    fast = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
    done = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "--db", pg_url, "run", str(tmp_path / "cat"),
         "--once", *fast],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    store = Store.open(pg_url)
    try:
        report = status_report(store)
    finally:
        store.close()
    assert report.scheduler.state == "stopped"
    assert [(s.source, s.outcome) for s in report.sources] == [("a", "new")]
