"""The fetch layer end to end: real Scrapy child processes against a scripted local server."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import LocalServer, Reply

from crawler.fetch.jobs import read_results, write_job
from crawler.fetch.middlewares import retry_after_seconds
from crawler.fetch.parent import FIRST_TERM_GRACE, fetch_all
from crawler.fetch.request import FetchError, FetchRequest, FetchResult

ROOT = Path(__file__).resolve().parents[1]
# Tests only: no politeness waits against our own loopback server.
FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
PAGE = b"<html><body><main>We do not train on your data.</main></body></html>"


def fetch(
    server: LocalServer, path: str, settings: Mapping[str, str] = FAST, **kw: Any
) -> FetchResult:
    """Fetch one path of the server through a real child process."""
    [result] = fetch_all([FetchRequest(key="k", url=server.url(path), **kw)], settings=settings)
    return result


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- outcomes, table-driven: routes to script, settings, then the fields expected -----------------

OUTCOMES = [
    pytest.param(
        {
            "/page": [
                Reply(200, PAGE, {**HTML, "ETag": '"v1"', "Last-Modified": "Mon, 06 Apr 2026"})
            ]
        },
        "/page",
        {},
        {
            "status": 200,
            "body": PAGE,
            "etag": '"v1"',
            "last_modified": "Mon, 06 Apr 2026",
            "content_type": HTML["Content-Type"],
            "final_url": "/page",
            "redirects": (),
            "error": None,
            "error_kind": None,
        },
        1,
        id="200-with-validators",
    ),
    pytest.param(
        {
            "/old": [Reply(301, headers={"Location": "/moved"})],
            "/moved": [Reply(302, headers={"Location": "/page"})],
            "/page": [Reply(200, PAGE, HTML)],
        },
        "/old",
        {},
        {"status": 200, "body": PAGE, "final_url": "/page", "redirects": ("/old", "/moved")},
        1,
        id="redirect-chain",
    ),
    pytest.param(
        {"/gone": [Reply(404, b"no such page")]},
        "/gone",
        {},
        {
            "status": 404,
            "body": None,
            "error_kind": "http",
            "error": "HTTP 404 Not Found",
            "final_url": "/gone",
        },
        1,
        id="404-as-data",
    ),
    pytest.param(
        {"/broken": [Reply(500, b"oops")]},
        "/broken",
        {},
        {"status": 500, "body": None, "error_kind": "http"},
        3,  # RETRY_TIMES = 2, then the 500 is recorded
        id="500-as-data-after-retries",
    ),
    pytest.param(
        {"/big": [Reply(200, b"x" * 5000, HTML)]},
        "/big",
        {"DOWNLOAD_MAXSIZE": "1000"},
        {"status": None, "body": None, "error_kind": "too-large"},
        1,
        id="size-cap",
    ),
    pytest.param(
        {"/cut": [Reply(200, b"only part", HTML, declared_length=1000)]},
        "/cut",
        {"RETRY_TIMES": "0"},
        {"status": None, "body": None, "error_kind": "truncated"},
        1,
        id="truncated-body",
    ),
    pytest.param(
        {"/slow": [Reply(200, PAGE, delay=5)]},
        "/slow",
        {"DOWNLOAD_TIMEOUT": "1", "RETRY_TIMES": "0"},
        {"status": None, "body": None, "error_kind": "timeout"},
        1,
        id="download-timeout",
    ),
    pytest.param(
        {"/loop": [Reply(302, headers={"Location": "/loop"})]},
        "/loop",
        {"REDIRECT_MAX_TIMES": "2"},  # a -s setting that visibly changes behaviour
        {"status": None, "body": None, "error_kind": "http"},
        3,  # the request and exactly two redirects
        id="redirect-loop-and-settings-passthrough",
    ),
]


@pytest.mark.parametrize(("routes", "path", "settings", "expected", "hits"), OUTCOMES)
def test_outcome(
    http_server: LocalServer,
    routes: dict[str, list[Reply]],
    path: str,
    settings: dict[str, str],
    expected: dict[str, Any],
    hits: int,
) -> None:
    for route, replies in routes.items():
        http_server.route(route, *replies)
    result = fetch(http_server, path, {**FAST, **settings})

    for name, want in expected.items():
        if name == "final_url" and want:  # the table holds paths; the server picks the port
            want = http_server.url(want)
        elif name == "redirects":
            want = tuple(map(http_server.url, want))
        assert getattr(result, name) == want, name
    assert len(http_server.hits(path)) == hits
    assert result.key == "k" and result.url == http_server.url(path)
    assert result.started_at.tzinfo is not None and result.elapsed_ms >= 0
    assert (result.error is None) == (result.error_kind is None)


def test_conditional_get_second_fetch_is_304(http_server: LocalServer) -> None:
    validators = {"ETag": '"v1"', "Last-Modified": "Mon, 06 Apr 2026 10:00:00 GMT"}
    http_server.route("/doc", Reply(200, PAGE, {**HTML, **validators}), Reply(304, b"", validators))

    first = fetch(http_server, "/doc")
    second = fetch(http_server, "/doc", etag=first.etag, last_modified=first.last_modified)

    assert (first.status, first.body) == (200, PAGE)
    assert (second.status, second.body, second.error, second.etag) == (304, None, None, '"v1"')
    unconditional, conditional = http_server.hits("/doc")
    assert "if-none-match" not in unconditional.headers
    assert conditional.headers["if-none-match"] == '"v1"'
    assert conditional.headers["if-modified-since"] == "Mon, 06 Apr 2026 10:00:00 GMT"


def test_results_in_request_order_and_non_http_not_fetched(http_server: LocalServer) -> None:
    http_server.route("/page", Reply(200, PAGE, HTML))
    requests = [
        FetchRequest(key="ftp", url="ftp://example.org/policy.txt"),
        FetchRequest(key="a", url=http_server.url("/page")),
        FetchRequest(key="file", url="file:///etc/passwd"),
        FetchRequest(key="b", url=http_server.url("/page")),  # same URL twice: both answered
        FetchRequest(key="mailto", url="mailto:dpo@example.org"),
    ]
    results = fetch_all(requests, settings=FAST)

    assert [r.key for r in results] == ["ftp", "a", "file", "b", "mailto"]
    assert [r.error_kind for r in results] == ["scheme", None, "scheme", None, "scheme"]
    assert [r.status for r in results] == [None, 200, None, 200, None]
    assert len(http_server.hits("/page")) == 2


def test_only_non_http_needs_no_child() -> None:
    started = time.monotonic()
    [result] = fetch_all([FetchRequest(key="x", url="javascript:alert(1)")])
    assert result.error_kind == "scheme" and result.body is None and result.status is None
    assert time.monotonic() - started < 0.5  # no Scrapy process was started


def test_connection_refused() -> None:
    url = f"http://127.0.0.1:{free_port()}/policy"
    [result] = fetch_all([FetchRequest(key="k", url=url)], settings={**FAST, "RETRY_TIMES": "0"})
    assert (result.status, result.error_kind, result.final_url) == (None, "connection", None)


# --- Retry-After --------------------------------------------------------------------------------


def test_retry_after_is_honoured(http_server: LocalServer) -> None:
    http_server.route("/busy", Reply(503, b"later", {"Retry-After": "1"}), Reply(200, PAGE, HTML))
    result = fetch(http_server, "/busy")

    assert (result.status, result.body) == (200, PAGE)
    first, retry = http_server.hits("/busy")
    assert retry.at - first.at >= 1.0  # Scrapy alone retries at once (gap ~0 s)


def test_retry_after_beyond_cap_gives_up_and_reports_it(http_server: LocalServer) -> None:
    http_server.route("/busy", Reply(429, b"slow down", {"Retry-After": "3600"}))
    result = fetch(http_server, "/busy", {**FAST, "RETRY_AFTER_MAX_DELAY": "5"})

    assert (result.status, result.error_kind, result.retry_after) == (429, "http", 3600.0)
    assert len(http_server.hits("/busy")) == 1  # no retry: the next scheduled run tries again


NOW = datetime(2026, 4, 8, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (b"120", 120.0),
        (" 1.5 ", 1.5),
        ("-3", 0.0),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        (format_datetime(NOW - timedelta(days=1), usegmt=True), 0.0),
        ("soon", None),
        ("nan", None),
        (None, None),
    ],
)
def test_retry_after_values(value: bytes | str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, now=NOW.timestamp()) == seconds


# --- robots.txt (Scrapy 2.14-2.19 regression, research §2.2) ------------------------------------

ROBOTS = b"User-agent: citewatch\nDisallow: /private\n"
STOCK_ROBOTS = json.dumps(
    {"crawler.fetch.middlewares.RetryAfterMiddleware": 560}
)  # drops our subclass


def _robots_crawl(server: LocalServer, settings: Mapping[str, str]) -> list[FetchResult]:
    # A slow robots.txt makes every page request wait on it at once: the case the bug needs.
    server.route("/robots.txt", Reply(200, ROBOTS, {"Content-Type": "text/plain"}, delay=0.5))
    server.route("/public", Reply(200, PAGE, HTML))
    requests = [FetchRequest(key=f"p{i}", url=server.url(f"/private/{i}")) for i in range(10)]
    return fetch_all(
        [*requests, FetchRequest(key="pub", url=server.url("/public"))], settings=settings
    )


def test_robots_disallowed_concurrent_requests_are_never_fetched(http_server: LocalServer) -> None:
    *private, public = _robots_crawl(http_server, FAST)

    assert [hit.path for hit in http_server.hits() if hit.path.startswith("/private")] == []
    assert {(r.error_kind, r.status, r.body) for r in private} == {("robots", None, None)}
    assert public.status == 200
    assert len(http_server.hits("/robots.txt")) == 1
    assert http_server.hits("/public")[0].headers["user-agent"].startswith("citewatch/0.1 (+")


@pytest.mark.xfail(
    strict=True,
    reason="Scrapy 2.14-2.19 RobotsTxtMiddleware bug; if this passes, "
    "upstream fixed it and SafeRobotsTxtMiddleware can go",
)
def test_stock_robots_middleware_leaks_concurrent_requests(http_server: LocalServer) -> None:
    _robots_crawl(http_server, {**FAST, "DOWNLOADER_MIDDLEWARES": STOCK_ROBOTS})
    assert [hit.path for hit in http_server.hits() if hit.path.startswith("/private")] == []


# --- the child process --------------------------------------------------------------------------


HUNG_LIMIT_S = 8


def test_hung_crawl_is_killed_and_finished_pages_kept(http_server: LocalServer) -> None:
    http_server.route("/hang", Reply(200, PAGE, delay=60))
    http_server.route("/page", Reply(200, PAGE, HTML))
    requests = [
        FetchRequest(key="hang", url=http_server.url("/hang")),
        FetchRequest(key="ok", url=http_server.url("/page")),
    ]
    # Two at a time on the one host, so the quick page doesn't queue behind the hung one.
    settings = {**FAST, "CONCURRENT_REQUESTS_PER_DOMAIN": "2"}

    started = time.monotonic()
    # The limit leaves a loaded machine time to start Scrapy and fetch the quick page.
    hung, ok = fetch_all(requests, settings=settings, timeout=HUNG_LIMIT_S)
    took = time.monotonic() - started

    assert (hung.error_kind, hung.status, hung.body) == ("crawl-killed", None, None)
    assert "hard timeout" in (hung.error or "")
    assert (ok.status, ok.body) == (200, PAGE)
    # The second SIGTERM ends it (Scrapy's forced shutdown); SIGKILL isn't needed.
    assert took < HUNG_LIMIT_S + FIRST_TERM_GRACE + 2


def test_broken_child_raises_fetch_error(http_server: LocalServer) -> None:
    http_server.route("/page", Reply(200, PAGE, HTML))
    bad = {**FAST, "ITEM_PIPELINES": json.dumps({"no_such_module.Pipeline": 300})}
    with pytest.raises(FetchError, match="no_such_module"):
        fetch(http_server, "/page", bad)


def test_scrapy_crawl_command_runs_the_same_spider(
    http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.route("/page", Reply(200, PAGE, HTML))
    job, out = tmp_path / "job.json", tmp_path / "out"
    write_job(
        job,
        [
            (0, FetchRequest(key="k", url=http_server.url("/page"))),
            (1, FetchRequest(key="s", url="gopher://x")),
        ],
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "sources",
            "-a",
            f"job={job}",
            "-a",
            f"out={out}",
            "-s",
            "DOWNLOAD_DELAY=0",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )
    results = read_results(out)
    assert (results[0].status, results[0].body) == (200, PAGE)
    assert results[1].error_kind == "scheme"


# --- plain Scrapy commands from the checkout ----------------------------------------------------


def scrapy(*args: str) -> subprocess.CompletedProcess[str]:
    """`scrapy ARGS` from the repository root, as a Scrapy user runs it (no politeness waits)."""
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def exported(path: Path) -> dict[str, dict[str, Any]]:
    """The JSON lines a feed export wrote, by key."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return {row["key"]: row for row in rows}


def two_tool_catalog(folder: Path, server: LocalServer) -> Path:
    """acme cites /privacy and /terms; beta cites /privacy too."""
    (folder / "tools").mkdir(parents=True)
    for tool, sources in (("acme", ("privacy", "terms")), ("beta", ("privacy",))):
        lines = [f"id: {tool}", f"name: {tool.title()}", "sources:"]
        for sid in sources:
            lines += [f"  - id: {sid}", f"    url: {server.url('/' + sid)}"]
        lines += ["ratings:", "  dpa:", "    rating: unknown", f"    sources: [{sources[0]}]"]
        (folder / "tools" / f"{tool}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_scrapy_list_names_the_spider() -> None:
    done = scrapy("list")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["sources"]


def test_scrapy_crawl_a_catalog_exports_one_json_line_per_page(
    http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.route("/privacy", Reply(200, PAGE, {**HTML, "ETag": '"v1"'}))
    catalog = two_tool_catalog(tmp_path / "catalog", http_server)
    items = tmp_path / "items.jsonl"
    done = scrapy(
        "crawl", "sources", "-a", f"catalog={catalog}", "-o", str(items),
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = exported(items)
    assert set(rows) == {"acme/privacy", "acme/terms", "beta/privacy"}
    page = rows["acme/privacy"]
    assert (page["status"], page["etag"], page["error"]) == (200, '"v1"', None)
    assert (page["body_length"], page["body_sha256"]) == (
        len(PAGE),
        hashlib.sha256(PAGE).hexdigest(),
    )
    assert "body" not in page and page["final_url"] == http_server.url("/privacy")
    assert datetime.fromisoformat(page["started_at"]).tzinfo is not None
    gone = rows["acme/terms"]
    assert (gone["status"], gone["error_kind"], gone["body_length"]) == (404, "http", None)
    # No database: plain GETs, never conditional; and no result files, only the export.
    assert all("if-none-match" not in hit.headers for hit in http_server.hits("/privacy"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog", "items.jsonl"]


def test_scrapy_crawl_a_catalog_selects_sources_like_citewatch_crawl(
    http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.route("/privacy", Reply(200, PAGE, HTML))
    catalog = two_tool_catalog(tmp_path / "catalog", http_server)
    items = tmp_path / "items.jsonl"
    args = [
        "crawl",
        "sources",
        "-a",
        f"catalog={catalog}",
        "-O",
        str(items),
        "-s",
        "DOWNLOAD_DELAY=0",
    ]
    assert scrapy(*args, "-a", "tool=beta").returncode == 0
    assert set(exported(items)) == {"beta/privacy"}
    assert scrapy(*args, "-a", "source=terms,beta/privacy").returncode == 0
    assert set(exported(items)) == {"acme/terms", "beta/privacy"}
    unknown = scrapy(*args, "-a", "tool=nobody")
    assert "SelectionError: no tool nobody" in unknown.stderr


def test_scrapy_crawl_a_job_file_exports_items_too(
    http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.route("/page", Reply(200, PAGE, HTML))
    job, out, items = tmp_path / "job.json", tmp_path / "out", tmp_path / "items.jsonl"
    write_job(job, [(0, FetchRequest(key="k", url=http_server.url("/page")))])
    done = scrapy(
        "crawl", "sources", "-a", f"job={job}", "-a", f"out={out}", "-o", str(items),
        "-s", "DOWNLOAD_DELAY=0",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert read_results(out)[0].body == PAGE  # the result files, as the fetch child needs them
    assert exported(items)["k"]["body_sha256"] == hashlib.sha256(PAGE).hexdigest()
