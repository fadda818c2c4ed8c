"""Per-host batching: a scheduler cycle gives one host no more pages than its polite pace fits in
the crawl's time budget; the rest stay due and go in the next cycles, never dropped."""

from __future__ import annotations

import math
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from conftest import LocalServer, Reply
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.catalog.model import Catalog, Source, Tool
from crawler.run.limits import (
    HOST_SHARE,
    crawl_limits,
    host_page_s,
    pages_per_host,
)
from crawler.run.schedule import (
    Policy,
    SourceTiming,
    batch,
    due_at,
    due_now,
    host_of,
    is_due,
    timings,
)
from storage import Store
from storage.models import Fetch, SourceRow

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = Policy(DAY)
GUARD_S = 120.0
HTML = {"Content-Type": "text/html; charset=utf-8"}


@pytest.mark.parametrize(
    ("budget", "settings", "expected"),
    [
        # 3600 s budget: the spider stops softly at 3120 s; 80 % of it at 1 s a page, less the
        # host's robots.txt. The big host (> ~3,000 due pages) no longer overruns.
        (3600.0, {}, math.floor(3120 * HOST_SHARE / 1.0) - 1),
        (3600.0, {"DOWNLOAD_DELAY": "2"}, math.floor(3120 * HOST_SHARE / 2.0) - 1),
        # AutoThrottle starts a host at its start delay: the slower of the two paces counts.
        (3600.0, {"AUTOTHROTTLE_START_DELAY": "4"}, math.floor(3120 * HOST_SHARE / 4.0) - 1),
        (3600.0, {"CLOSESPIDER_TIMEOUT": "600"}, math.floor(600 * HOST_SHARE / 1.0) - 1),
        (4.0, {}, 2),  # a tiny budget still crawls a page or two of each host
        (1.0, {"DOWNLOAD_DELAY": "30"}, 1),  # never 0: a host must always move
    ],
)
def test_pages_per_host_fit_the_crawl_budget(
    budget: float, settings: dict[str, str], expected: int
) -> None:
    assert pages_per_host(budget, settings) == expected
    cap = pages_per_host(budget, settings)
    spider_s = float(settings.get("CLOSESPIDER_TIMEOUT", crawl_limits(budget).spider_s))
    assert cap == 1 or (cap + 1) * host_page_s(settings) <= spider_s


def test_without_a_delay_a_host_still_costs_time_per_page() -> None:
    no_delay = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False"}
    assert host_page_s(no_delay) > 0
    assert pages_per_host(3600.0, no_delay) < 10**6


def timing(tool: str, source: str, host: str, last: datetime | None = None) -> SourceTiming:
    url = f"https://{host}/{source}"
    return SourceTiming(tool=tool, source=source, every=None, last_fetch_at=last, url=url)


def test_batch_caps_each_host_and_takes_the_longest_unfetched_first() -> None:
    due = (
        timing("big", "p0", "big.example", NOW - timedelta(days=1)),
        timing("big", "p1", "big.example", NOW - timedelta(days=3)),
        timing("small", "a", "small.example", NOW - timedelta(days=1)),
        timing("big", "p2", "big.example", None),  # never fetched: the most urgent
        timing("big", "p3", "big.example", NOW - timedelta(days=2)),
    )
    # Catalog order kept; big.example's two most overdue: never fetched, then 3 days ago.
    assert batch(due, per_host=2) == ("big/p1", "small/a", "big/p2")
    assert batch(due) == ("big/p0", "big/p1", "small/a", "big/p2", "big/p3")  # no cap: all


def catalog(big: int, small: int) -> Catalog:
    """One big host and `small` one-page hosts."""
    big_tool = Tool(
        id="big",
        name="Big",
        sources=tuple(Source(id=f"p{i}", url=f"https://Big.example/p{i}") for i in range(big)),
    )
    smalls = tuple(
        Tool(id=f"s{i}", name=f"S{i}", sources=(Source(id="a", url=f"https://s{i}.example/"),))
        for i in range(small)
    )
    return Catalog("cat", (), (big_tool, *smalls))


def test_a_big_host_is_fully_covered_over_successive_cycles() -> None:
    cap = pages_per_host(3600.0, {})
    cat = catalog(big=7_000, small=5)
    fetched: dict[tuple[str, str], datetime] = {}
    at, cycles, per_cycle = NOW, 0, []
    while True:
        known = {key: _schedule(key, cat, last) for key, last in fetched.items()}
        due = due_now(timings(cat, known), POLICY, at)
        chosen = batch(due, per_host=cap)
        if not chosen:
            break
        hosts = Counter(name.split("/")[0] == "big" for name in chosen)
        per_cycle.append(hosts[True])
        assert hosts[True] <= cap  # the big host never gets more than fits in a crawl
        assert len(set(chosen)) == len(chosen)
        for name in chosen:
            tool, source = name.split("/")
            fetched[(tool, source)] = at
        cycles += 1
        at += timedelta(minutes=55)  # the next cycle, after a crawl that used its hour
        assert cycles < 10, "the big host is never covered"
    assert len(fetched) == 7_005  # every source, each once: nothing dropped, nothing repeated
    assert cycles == math.ceil(7_000 / cap)
    assert per_cycle[0] == cap


def _schedule(key: tuple[str, str], cat: Catalog, last: datetime) -> object:
    from storage.scheduling import SourceSchedule

    url = cat.tool(key[0]).source(key[1]).url
    return SourceSchedule(
        tool=key[0], source=key[1], url=url, last_fetch_at=last, last_ok_at=last,
        consecutive_failures=0, last_outcome="new", last_error_kind=None, last_error=None,
        failing_since=None, failure_class=None, broken_since=None, retry_after=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://Big.Example/p", "big.example"),  # one host, however it is written
        ("http://user:pw@h.example:8080/x?y#z", "h.example"),
        ("http://[2001:DB8::1]:80/", "2001:db8::1"),
        ("http://a.example#frag@evil.example", "a.example"),  # user info only before the host
        ("https:///no-host", None),
        ("not a url", None),
    ],
)
def test_sources_are_batched_by_the_host_scrapy_paces(url: str, host: str | None) -> None:
    assert host_of(url) == host == urlsplit(url).hostname
    (t,) = timings(
        Catalog("c", (), (Tool(id="t", name="T", sources=(Source(id="s", url=url),)),)), {}
    )
    assert t.url == url


def write_catalog(folder: Path, server: LocalServer, names: list[str]) -> Path:
    """One tool citing /<name> for each name, on the one test host."""
    (folder / "tools").mkdir(parents=True)
    sources = "".join(f"  - id: {n}\n    url: {server.url('/' + n)}\n" for n in names)
    (folder / "tools" / "t.yaml").write_text(f"id: t\nname: T\nsources:\n{sources}", "utf-8")
    return folder


def test_run_crawls_a_host_in_batches_and_covers_it_over_cycles(
    http_server: LocalServer, tmp_path: Path
) -> None:
    for name in ("a", "b"):
        http_server.route(f"/{name}", Reply(200, f"<p>{name}</p>".encode(), HTML))
    catalog = write_catalog(tmp_path / "cat", http_server, ["a", "b"])
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    # A 5 s soft stop at 2 s a page fits the robots.txt and one page: one page a cycle.
    slow = ["-s", "CLOSESPIDER_TIMEOUT=5", "-s", "DOWNLOAD_DELAY=2"]
    argv = [sys.executable, "-m", "crawler.cli", "--db", db, "run", str(catalog), "--once", *slow]
    first = subprocess.run(argv, capture_output=True, text=True, timeout=GUARD_S, check=False)
    assert first.returncode == 0, first.stderr
    assert sorted(len(http_server.hits(p)) for p in ("/a", "/b")) == [0, 1]
    assert "1 due source left for the next cycle" in first.stderr
    second = subprocess.run(argv, capture_output=True, text=True, timeout=GUARD_S, check=False)
    assert second.returncode == 0, second.stderr
    assert [len(http_server.hits(p)) for p in ("/a", "/b")] == [1, 1]
    store = Store.open(db)
    try:
        with store.sessions() as s:
            query = sa.select(SourceRow.source_id, Fetch.outcome).join(
                Fetch, Fetch.source_pk == SourceRow.id
            )
            assert sorted(tuple(row) for row in s.execute(query)) == [("a", "new"), ("b", "new")]
    finally:
        store.close()


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    last=st.none() | st.integers(-400 * 24 * 60, 60).map(lambda m: NOW + timedelta(minutes=m)),
    every=st.none() | st.integers(1, 400 * 24 * 60).map(lambda m: timedelta(minutes=m)),
    failures=st.integers(0, 80),
    retry=st.none() | st.integers(-3000, 3000).map(lambda m: NOW + timedelta(minutes=m)),
)
def test_is_due_skips_the_jitter_only_where_it_cannot_decide(
    last: datetime | None, every: timedelta | None, failures: int, retry: datetime | None
) -> None:
    t = SourceTiming(
        tool="t", source="s", every=every, last_fetch_at=last, consecutive_failures=failures,
        retry_after=retry,
    )  # fmt: skip
    due = due_at(t, POLICY)
    assert is_due(t, POLICY, NOW) == (due is None or due <= NOW)
