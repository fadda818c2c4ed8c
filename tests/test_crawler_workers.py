"""`citewatch worker`: several worker processes on one real PostgreSQL (procrastinate).

Each host is a LocalServer on its own loopback address (127.0.0.N): Scrapy keys politeness by
host name, so distinct ports on 127.0.0.1 would be one host. The servers record when each
request arrived; the database records each fetch. Workers run as `citewatch worker`
subprocesses with a 1 s tick and a 3 s stall timeout, so a test takes seconds, not minutes.
"""

from __future__ import annotations

import itertools
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa
from conftest import Hit, LocalServer, Reply

from crawler.run.schedule import SourceTiming
from crawler.run.workers_plan import (
    NO_HOST,
    PlanError,
    host_batches,
    host_lock,
    still_due,
    tick_cron,
)
from tests.test_storage_postgres import pg_url  # noqa: F401  (the throw-away cluster fixture)

ROOT = Path(__file__).resolve().parents[1]
CITEWATCH = shutil.which("citewatch") or str(ROOT / ".venv/bin/citewatch")
HTML = {"Content-Type": "text/html; charset=utf-8"}
DELAY_S = 0.5  # DOWNLOAD_DELAY of the test crawls, not randomized: the floor between requests
# Scrapy counts its delay from when it sent a request; arrival times at the server jitter a
# little around that (thread wake-ups on a loaded machine).
JITTER_S = 0.05
SETTINGS = [
    f"DOWNLOAD_DELAY={DELAY_S}",
    "RANDOMIZE_DOWNLOAD_DELAY=False",
    "AUTOTHROTTLE_ENABLED=False",
]
_databases = itertools.count(1)


@pytest.fixture
def db(pg_url: str) -> str:  # noqa: F811
    """A fresh database on the test cluster (workers share it; tests do not)."""
    name = f"workers_{next(_databases)}"
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return sa.make_url(pg_url).set(database=name).render_as_string(hide_password=False)


def _catalog(tmp: Path, hosts: dict[str, LocalServer], pages: int) -> Path:
    (tmp / "catalog" / "tools").mkdir(parents=True)
    for name, server in hosts.items():
        lines = [f"id: {name}", f"name: {name}", "sources:"]
        for n in range(1, pages + 1):
            lines += [f"  - id: p{n}", f"    url: {server.url(f'/p{n}')}"]
        (tmp / "catalog" / "tools" / f"{name}.yaml").write_text("\n".join(lines) + "\n")
    return tmp / "catalog"


def _serve(stack: ExitStack, count: int, pages: int, delay: float) -> dict[str, LocalServer]:
    hosts = {}
    for i in range(count):
        server = stack.enter_context(LocalServer(f"127.0.0.{10 + i}"))
        for n in range(1, pages + 1):
            body = (
                f"<html><body><main><h1>Page {n}</h1><p>Site {i} page {n}.</p></main></body></html>"
            )
            server.route(f"/p{n}", Reply(200, body.encode(), HTML, delay=delay))
        hosts[f"site{i}"] = server
    return hosts


class Workers:
    """`citewatch worker` subprocesses, each logging to its own file."""

    def __init__(self, db: str, catalog: Path, logs: Path) -> None:
        self.db, self.catalog, self.logs = db, catalog, logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, count: int, *extra: str) -> None:
        for _ in range(count):
            log = (self.logs / f"worker{len(self.procs)}.log").open("wb")
            argv = [CITEWATCH, "--db", self.db, "worker", str(self.catalog), "--tick", "1",
                    "--stalled-after", "3", *extra]  # fmt: skip
            for setting in SETTINGS:
                argv += ["-s", setting]
            self.procs.append(subprocess.Popen(argv, stdout=log, stderr=log))

    def log(self, i: int) -> str:
        return (self.logs / f"worker{i}.log").read_text(errors="replace")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for child in psutil.Process(proc.pid).children(recursive=True):
                    child.kill()
                proc.kill()
                proc.wait()


def _fetches(db: str) -> dict[str, list[str]]:
    """Each source's fetch outcomes, oldest first, by TOOL/SOURCE."""
    engine = sa.create_engine(db, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT s.tool_id, s.source_id, f.outcome FROM fetches f "
                    "JOIN sources s ON s.id = f.source_pk ORDER BY f.id"
                )
            ).all()
    except sa.exc.ProgrammingError:  # the first worker has not created the tables yet
        return {}
    finally:
        engine.dispose()
    out: dict[str, list[str]] = {}
    for tool, source, outcome in rows:
        out.setdefault(f"{tool}/{source}", []).append(outcome)
    return out


def _wait(what: str, done: Callable[[], bool], timeout: float, workers: Workers) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline or all(p.poll() is not None for p in workers.procs):
            logs = "\n".join(workers.log(i)[-1500:] for i in range(len(workers.procs)))
            pytest.fail(f"timed out waiting for {what}; worker logs:\n{logs}")
        time.sleep(0.2)


def _assert_polite(hits: list[Hit], reply_s: float) -> None:
    """No two requests to one host closer than its delay, none while another was answered
    (a page takes reply_s to answer; robots.txt, a 404, none)."""
    ordered = sorted(hits, key=lambda h: h.at)
    gaps = [
        (b.at - a.at, max(DELAY_S, 0.0 if a.path == "/robots.txt" else reply_s))
        for a, b in itertools.pairwise(ordered)
    ]
    assert all(gap >= floor - JITTER_S for gap, floor in gaps), gaps


@pytest.mark.postgres
def test_three_workers_crawl_each_source_once_politely_and_in_parallel(
    db: str, tmp_path: Path
) -> None:
    with ExitStack() as stack:
        hosts = _serve(stack, count=4, pages=3, delay=0.2)
        workers = Workers(db, _catalog(tmp_path, hosts, pages=3), tmp_path)
        stack.callback(workers.stop)
        workers.start(3)
        keys = {f"{name}/p{n}" for name in hosts for n in range(1, 4)}
        _wait("every source fetched", lambda: set(_fetches(db)) == keys, 180, workers)
        time.sleep(3)  # three more ticks: nothing is due, so nothing is fetched again
        fetches = _fetches(db)
        workers.stop()
        logs = [workers.log(i) for i in range(3)]
    # Every source crawled once in this cycle (daily sources), and each page requested once.
    assert fetches == {key: ["new"] for key in keys}
    for server in hosts.values():
        assert sorted(h.path for h in server.hits() if h.path != "/robots.txt") == [
            "/p1", "/p2", "/p3",
        ]  # fmt: skip
        _assert_polite(server.hits(), reply_s=0.2)
    # Several workers crawled, at the same time: the spans of two hosts' requests overlap.
    crawled_by = [sum(f"host 127.0.0.{10 + i}: crawl" in log for i in range(4)) for log in logs]
    assert sum(crawled_by) == 4 and sum(1 for n in crawled_by if n) >= 2, crawled_by
    spans = [(min(h.at for h in s.hits()), max(h.at for h in s.hits())) for s in hosts.values()]
    assert any(a[0] < b[1] and b[0] < a[1] for a, b in itertools.combinations(spans, 2)), spans


@pytest.mark.postgres
def test_one_worker_with_concurrency_crawls_two_hosts_at_once(db: str, tmp_path: Path) -> None:
    with ExitStack() as stack:
        hosts = _serve(stack, count=2, pages=3, delay=0.2)
        workers = Workers(db, _catalog(tmp_path, hosts, pages=3), tmp_path)
        stack.callback(workers.stop)
        workers.start(1, "--concurrency", "2")
        keys = {f"{name}/p{n}" for name in hosts for n in range(1, 4)}
        _wait("every source fetched", lambda: set(_fetches(db)) == keys, 180, workers)
        workers.stop()
    spans = [(min(h.at for h in s.hits()), max(h.at for h in s.hits())) for s in hosts.values()]
    (a, b) = spans
    assert a[0] < b[1] and b[0] < a[1], spans  # both hosts' crawls ran at the same time
    for server in hosts.values():
        _assert_polite(server.hits(), reply_s=0.2)


@pytest.mark.postgres
def test_a_worker_killed_mid_crawl_loses_nothing_and_its_job_is_retried(
    db: str, tmp_path: Path
) -> None:
    pages, reply_s = 6, 1.0
    with ExitStack() as stack:
        hosts = _serve(stack, count=1, pages=pages, delay=reply_s)
        (server,) = hosts.values()
        workers = Workers(db, _catalog(tmp_path, hosts, pages=pages), tmp_path)
        stack.callback(workers.stop)
        workers.start(3)
        _wait("two pages recorded", lambda: sum(map(len, _fetches(db).values())) >= 2, 180, workers)
        # The worker running the host's job is the one with a crawl child.
        (victim,) = [p for p in workers.procs if psutil.Process(p.pid).children()]
        tree = psutil.Process(victim.pid).children(recursive=True)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        _, alive = psutil.wait_procs(tree, timeout=5)
        assert not alive, "the killed worker's crawl went on without it"
        keys = {f"site0/p{n}" for n in range(1, pages + 1)}
        _wait("every source fetched", lambda: set(_fetches(db)) == keys, 120, workers)
        fetches = _fetches(db)
        lock = host_lock("127.0.0.10")
        _wait("the job done", lambda: "doing" not in dict(_jobs(db, lock)), 60, workers)
        jobs = _jobs(db, lock)
        workers.stop()
        logs = "".join(workers.log(i) for i in range(3))
    # Nothing lost, nothing recorded twice: the pages recorded before the kill stayed, the
    # retried job crawled only the rest (the page in flight at the kill is requested again).
    assert fetches == {key: ["new"] for key in keys}
    requested = [h.path for h in server.hits() if h.path != "/robots.txt"]
    assert set(requested) == {f"/p{n}" for n in range(1, pages + 1)}
    assert len(requested) <= pages + 2, requested
    # The killed job went back to the queue and another worker finished it.
    assert "of a dead worker retried" in logs
    assert jobs == [("succeeded", 2)], jobs  # one job, two attempts: the killed one, the retry
    _assert_polite(server.hits(), reply_s=reply_s)


def _jobs(db: str, lock: str) -> list[tuple[str, int]]:
    engine = sa.create_engine(db, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT status, attempts FROM procrastinate_jobs WHERE lock = :l"),
                {"l": lock},
            ).all()
    finally:
        engine.dispose()
    return [(str(s), int(a)) for s, a in rows]


def test_worker_refuses_sqlite_in_one_line(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, {}, pages=0)
    db = tmp_path / "citewatch.db"
    done = subprocess.run(
        [CITEWATCH, "--db", f"sqlite:///{db}", "worker", str(catalog)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: workers need PostgreSQL; use citewatch run"
    assert not db.exists()


def test_tick_must_be_a_cron_step() -> None:
    assert tick_cron(1) == "* * * * * */1"
    assert tick_cron(60) == "*/1 * * * *"
    assert tick_cron(3600) == "0 * * * *"
    for bad in (7, 90, 0, 7200):
        with pytest.raises(PlanError, match="evenly"):
            tick_cron(bad)


def _timing(tool: str, source: str, url: str | None, last: datetime | None = None) -> SourceTiming:
    return SourceTiming(tool=tool, source=source, every=None, last_fetch_at=last, url=url)


def test_one_job_per_host_capped_and_decided_again_under_the_lock() -> None:
    old = datetime(2026, 1, 1, tzinfo=UTC)
    due = (
        _timing("a", "1", "https://a.example/1", old + timedelta(days=2)),
        _timing("b", "1", "https://B.example:8443/x"),
        _timing("a", "2", "https://a.example/2", old),
        _timing("a", "3", "https://a.example:81/3"),  # another port, the same host (Scrapy's key)
    )
    batches = host_batches(due, per_host=2)
    # The longest unfetched of a host go first (never fetched, then the oldest); catalog order.
    assert [(b.host, b.sources) for b in batches] == [
        ("b.example", ("b/1",)),
        ("a.example", ("a/2", "a/3")),
    ]
    assert batches[1].lock == "citewatch-host:a.example"
    # At the job's start: what is still due of its sources, and still on its host.
    moved = (_timing("a", "2", "https://c.example/2"), due[3])
    assert still_due(moved, "a.example", ["a/2", "a/3"], per_host=5) == ("a/3",)
    assert still_due((), "a.example", ["a/2"], per_host=5) == ()
    assert host_batches((_timing("t", "s", None),), 5)[0].host == NO_HOST


def test_a_job_child_dies_with_its_worker() -> None:
    """The pdeathsig plumbing: a child started with die_with_parent dies with its parent."""
    code = (
        "import sys, time\n"
        "from crawler.run.supervisor import run_child\n"
        "run_child([sys.executable, '-c', 'import time; time.sleep(60)'], 60, "
        "die_with_parent=True)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    try:
        deadline = time.monotonic() + 20
        while not psutil.Process(parent.pid).children() and time.monotonic() < deadline:
            time.sleep(0.05)
        (child,) = psutil.Process(parent.pid).children()
        parent.kill()
        parent.wait()
        _, alive = psutil.wait_procs([child], timeout=5)
        assert not alive
    finally:
        if parent.poll() is None:
            parent.kill()


@pytest.mark.parametrize(
    ("option", "says"),
    [
        (["--tick", "7"], "must cut a minute or an hour evenly"),
        (["--concurrency", "17"], "1<=x<=16"),
        (["--stalled-after", "1"], "3.0<=x<=3600.0"),
    ],
)
def test_worker_options_are_checked_when_read(option: list[str], says: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from crawler.cli import cli

    db = tmp_path / "citewatch.db"
    catalog = _catalog(tmp_path, {}, pages=0)
    done = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", "worker", str(catalog), *option])
    assert done.exit_code == 2 and says in done.output, done.output
    assert not db.exists()
