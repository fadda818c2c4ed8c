"""One source of truth for a crawl's time limits: the budget, and what is derived from it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import LocalServer, Reply

from crawler.cli import cli
from crawler.fetch import settings as scrapy_settings
from crawler.fetch.parent import fetch_all
from crawler.fetch.request import FetchRequest
from crawler.run.limits import (
    DEFAULT_BUDGET_S,
    RECORD_MIN_S,
    STOP_MARGIN_S,
    CrawlLimits,
    crawl_limits,
    with_soft_stop,
)
from crawler.run.scheduler import crawl_argv
from crawler.run.supervisor import SCRAPY_GRACE

FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False"}
PAGE = b"<html><body><main>We do not train on your data.</main></body></html>"


def test_the_default_budget_nests_the_limits() -> None:
    # An hour: 10 % to record the results, then 2 min for Scrapy to stop cleanly.
    assert crawl_limits(DEFAULT_BUDGET_S) == CrawlLimits(3600, 3240, 3120)
    assert crawl_limits(10_800) == CrawlLimits(10_800, 9720, 9600)
    assert crawl_limits(300) == CrawlLimits(300, 240, 120)


def test_a_budget_too_short_for_the_margins_keeps_its_time() -> None:
    # The limit above (the scheduler's kill) then ends an overrun crawl.
    assert crawl_limits(4) == CrawlLimits(4, 4, 4)
    assert crawl_limits(200) == CrawlLimits(200, 140, 140)


@pytest.mark.parametrize("budget", [0.0, -5.0, float("inf"), float("nan")])
def test_a_budget_must_be_a_finite_positive_number(budget: float) -> None:
    with pytest.raises(ValueError, match="finite number above 0"):
        crawl_limits(budget)


def test_the_stop_margin_covers_what_a_soft_stop_waits_for() -> None:
    # In-flight downloads end within DOWNLOAD_TIMEOUT; a queued one waits out its host's delay.
    waits = scrapy_settings.DOWNLOAD_TIMEOUT + scrapy_settings.AUTOTHROTTLE_MAX_DELAY
    assert waits < STOP_MARGIN_S
    assert SCRAPY_GRACE.first + SCRAPY_GRACE.second < RECORD_MIN_S  # fetch_all's SIGTERMs


def test_plain_scrapy_crawls_stop_inside_the_default_budget() -> None:
    assert crawl_limits(DEFAULT_BUDGET_S).spider_s == scrapy_settings.CLOSESPIDER_TIMEOUT


def test_the_child_gets_the_soft_stop_derived_from_the_budget() -> None:
    limits = crawl_limits(1800)
    assert with_soft_stop(FAST, limits.fetch_s) == {**FAST, "CLOSESPIDER_TIMEOUT": "1500"}
    assert with_soft_stop({}, 8) == {"CLOSESPIDER_TIMEOUT": "8"}  # fetch_all's tests' limit


def test_an_explicit_soft_stop_wins_inside_the_hard_limit() -> None:
    given = {"CLOSESPIDER_TIMEOUT": "600"}
    assert with_soft_stop(given, crawl_limits(3600).fetch_s) == given


@pytest.mark.parametrize("value", ["5000", "0", "-1", "soon", "nan"])
def test_a_soft_stop_past_the_hard_limit_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r"at most 3240, the fetch's hard limit"):
        with_soft_stop({"CLOSESPIDER_TIMEOUT": value}, crawl_limits(3600).fetch_s)


def test_the_scheduler_gives_its_hard_limit_to_the_crawl_child_as_budget() -> None:
    argv = crawl_argv("sqlite:///x.db", "/cat", Path("sel.txt"), ["DOWNLOAD_DELAY=0"], 900.0)
    assert argv[argv.index("--timeout") + 1] == "900"


def write_catalog(folder: Path, url: str) -> Path:
    """A one-tool, one-source catalog."""
    (folder / "tools").mkdir(parents=True)
    (folder / "tools" / "acme.yaml").write_text(
        f"id: acme\nname: Acme\nsources:\n  - id: privacy\n    url: {url}\n"
        "ratings:\n  dpa:\n    rating: unknown\n    sources: [privacy]\n",
        encoding="utf-8",
    )
    return folder


def test_crawl_refuses_a_soft_stop_past_its_budget(
    http_server: LocalServer, tmp_path: Path
) -> None:
    catalog = write_catalog(tmp_path / "cat", http_server.url("/privacy"))
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    args = ["--db", db, "crawl", str(catalog), "--timeout", "600", "-s", "CLOSESPIDER_TIMEOUT=900"]
    result = CliRunner().invoke(cli, args, obj={})
    assert result.exit_code == 1
    assert "CLOSESPIDER_TIMEOUT=900 must be" in result.output and "at most 540" in result.output
    assert http_server.hits() == []  # refused before anything was fetched


def test_run_refuses_a_soft_stop_past_its_crawl_timeout(tmp_path: Path) -> None:
    # A process of its own: `run` sets up logging, which must not leak into this one.
    catalog = write_catalog(tmp_path / "cat", "https://example.org/privacy")
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "--db", db, "run", str(catalog), "--once",
         "-s", "CLOSESPIDER_TIMEOUT=4000"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "at most 3240" in done.stderr


def test_the_soft_stop_reaches_the_scrapy_child(http_server: LocalServer) -> None:
    # One request at a time: the second page is still waiting when the spider is stopped.
    http_server.route("/slow", Reply(200, PAGE, delay=4.0))
    http_server.route("/next", Reply(200, PAGE))
    requests = [
        FetchRequest(key="slow", url=http_server.url("/slow")),
        FetchRequest(key="next", url=http_server.url("/next")),
    ]
    settings = {**FAST, "CONCURRENT_REQUESTS": "1", "CLOSESPIDER_TIMEOUT": "1"}
    started = time.monotonic()
    slow, waiting = fetch_all(requests, settings=settings, timeout=60)
    # The page in flight is finished and kept; the child then exits on its own, long before
    # its hard limit, and the page it never started is a failed fetch, retried next run.
    assert (slow.status, slow.body) == (200, PAGE)
    assert waiting.error_kind == "crawl-killed"
    assert "exited (code 0)" in (waiting.error or "")
    assert http_server.hits("/next") == []
    assert time.monotonic() - started < 30
