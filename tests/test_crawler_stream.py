"""A streaming crawl: each page is recorded as its result lands, while the fetch child still
runs, so a crawl killed midway keeps every page it recorded and memory does not grow with the
crawl (a body is read, recorded and deleted, one at a time)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import LocalServer, Reply

from crawler.catalog.model import load_catalog
from crawler.fetch.parent import TMP_PREFIX, fetch_each
from crawler.fetch.request import FetchRequest, FetchResult
from crawler.ingest.crawl import RunReport, run_crawl
from storage import Store
from storage.models import Fetch, SourceRow

HTML = {"Content-Type": "text/html; charset=utf-8"}
FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False"}
SLOW_S = 20.0  # the slow page's answer comes this late: far after the quick pages are recorded
GUARD_S = 60.0  # an upper bound on any wait: a hang fails the test, never slows it
ROOT = Path(__file__).resolve().parents[1]


def page(name: str, delay: float = 0.0) -> Reply:
    """A small policy page (optionally answered after `delay` seconds)."""
    body = f"<html><body><main><h1>{name}</h1><p>We keep data in the EU.</p></main></body></html>"
    return Reply(200, body.encode(), HTML, delay=delay)


def write_catalog(folder: Path, server: LocalServer, names: list[str]) -> Path:
    """One tool citing /<name> for each name."""
    (folder / "tools").mkdir(parents=True)
    sources = "".join(f"  - id: {n}\n    url: {server.url('/' + n)}\n" for n in names)
    (folder / "tools" / "t.yaml").write_text(
        f"id: t\nname: T\nsources:\n{sources}ratings:\n  dpa:\n    rating: unknown\n"
        f"    sources: [{', '.join(names)}]\n",
        encoding="utf-8",
    )
    return folder


def recorded(db: str) -> dict[str, str]:
    """Each source's recorded fetch outcome, by source id (a reader beside the crawl)."""
    store = Store.open(db, create=False)
    try:
        with store.sessions() as s:
            query = sa.select(SourceRow.source_id, Fetch.outcome).join(
                Fetch, Fetch.source_pk == SourceRow.id
            )
            return {sid: outcome for sid, outcome in s.execute(query)}
    finally:
        store.close()


def wait_until_recorded(db: str, names: set[str]) -> float:
    """Poll the database until the named sources have a fetch; when that was (monotonic)."""
    deadline = time.monotonic() + GUARD_S
    while True:
        if Path(db.removeprefix("sqlite:///")).exists() and names <= recorded(db).keys():
            return time.monotonic()
        assert time.monotonic() < deadline, f"{sorted(names)} never recorded while crawling"
        time.sleep(0.1)


def test_pages_are_recorded_while_the_child_still_fetches_a_slow_one(
    http_server: LocalServer, tmp_path: Path
) -> None:
    names = ["quick1", "quick2", "slow"]
    http_server.route("/quick1", page("quick1"))
    http_server.route("/quick2", page("quick2"))
    http_server.route("/slow", page("slow", delay=SLOW_S))
    catalog = load_catalog(write_catalog(tmp_path / "cat", http_server, names))
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    Store.open(db).close()  # the schema, so the reader below can look at once
    reports: list[RunReport] = []
    settings = {**FAST, "CONCURRENT_REQUESTS_PER_DOMAIN": "3"}

    def crawl() -> None:
        store = Store.open(db)
        try:
            reports.append(run_crawl(store, catalog, settings=settings, timeout=GUARD_S))
        finally:
            store.close()

    worker = threading.Thread(target=crawl)
    worker.start()
    seen_at = wait_until_recorded(db, {"quick1", "quick2"})
    worker.join(GUARD_S)
    (slow_hit,) = http_server.hits("/slow")
    # Recorded before the slow page was even answered: the child was still running.
    assert seen_at < slow_hit.at + SLOW_S
    (report,) = reports
    assert [(s.source, s.outcome) for s in report.sources] == [
        ("quick1", "new"),
        ("quick2", "new"),
        ("slow", "new"),
    ]  # the report keeps catalog order, whatever order pages landed in


def test_a_killed_crawl_keeps_the_pages_it_recorded(
    http_server: LocalServer, tmp_path: Path
) -> None:
    names = ["quick", "hung"]
    http_server.route("/quick", page("quick"))
    http_server.route("/hung", page("hung", delay=600.0))
    catalog = write_catalog(tmp_path / "cat", http_server, names)
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    argv = [sys.executable, "-m", "crawler.cli", "--db", db, "crawl", str(catalog), "--json"]
    for name, value in {**FAST, "CONCURRENT_REQUESTS_PER_DOMAIN": "2"}.items():
        argv += ["-s", f"{name}={value}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    crawl = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env, start_new_session=True)
    try:
        wait_until_recorded(db, {"quick"})
    finally:
        # The crawl process; its Scrapy child (a session of its own) exits on seeing it gone.
        os.killpg(crawl.pid, signal.SIGKILL)
        crawl.wait(GUARD_S)
    assert recorded(db) == {"quick": "new"}  # kept; the hung page was never recorded
    # The next crawl marks the dead run killed and fetches the quick page conditionally.
    http_server.route("/hung", page("hung"))
    done = subprocess.run(argv, capture_output=True, env=env, timeout=GUARD_S, check=False)
    outcomes = {s["source"]: s["outcome"] for s in json.loads(done.stdout)["sources"]}
    assert outcomes == {"quick": "unchanged", "hung": "new"}


def test_fetch_each_hands_over_each_result_once_and_removes_its_files(
    http_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the crawl's work folder goes here
    for name in ("a", "b", "c"):
        http_server.route(f"/{name}", page(name))
    requests = [FetchRequest(key=n, url=http_server.url("/" + n)) for n in ("a", "b", "c")]
    requests.append(FetchRequest(key="bad", url="ftp://example.org/"))
    got: list[tuple[int, FetchResult]] = []
    leftovers: list[str] = []

    def take(index: int, result: FetchResult) -> None:
        got.append((index, result))
        # The child's files of this result are gone once it is handed over: disk stays flat too.
        leftovers.extend(p.name for p in tmp_path.glob(f"{TMP_PREFIX}*/out/{index}.*"))

    fetch_each(requests, take, settings=FAST, timeout=GUARD_S)
    assert sorted(index for index, _ in got) == [0, 1, 2, 3]
    assert {r.key: r.status for _, r in got} == {"a": 200, "b": 200, "c": 200, "bad": None}
    assert leftovers == []


FAKE_CHILD = """
import sys, time
from dataclasses import replace
from pathlib import Path
from crawler.fetch.jobs import read_job, write_result
from crawler.fetch.request import failed_result

job, out = Path(sys.argv[1]), Path(sys.argv[2])
for index, request in read_job(job):
    first = replace(failed_result(request, "http", "first"), status=500)
    write_result(out, index, first)
    time.sleep(1.5)  # the parent takes it meanwhile
    write_result(out, index, replace(first, error="second"))
    write_result(out, index + 1000, first)  # a position the job never held
"""


def test_a_result_written_twice_or_for_no_request_is_handed_over_once_or_never(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "fake_child.py").write_text(FAKE_CHILD, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setattr("crawler.fetch.parent.CHILD_MODULE", "fake_child")
    got: list[tuple[int, str | None]] = []
    fetch_each(
        [FetchRequest(key="k", url="http://127.0.0.1:9/")],
        lambda index, result: got.append((index, result.error)),
        timeout=GUARD_S,
    )
    assert got == [(0, "first")]
