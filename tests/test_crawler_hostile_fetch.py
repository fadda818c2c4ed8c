"""Hostile inputs on the fetch side: each ends in a classified failed fetch of its own source,
and every other source of the crawl is still fetched and recorded.

Table-driven: each row is a real `citewatch crawl --json` of a catalog with one hostile source
between two good ones, against local servers (127.0.0.1, and 127.0.0.2 / ::1 where a row needs
another loopback address). Then the cases that never reach a catalog (it rejects them at
`check`): bad ports and passwords in job files, Retry-After values already in a database.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import LocalServer, Reply

from crawler.extract.failures import fetch_failure
from crawler.fetch.jobs import read_results, write_job
from crawler.fetch.parent import fetch_all
from crawler.fetch.request import FetchError, FetchRequest, FetchResult
from crawler.run.schedule import Policy, SourceTiming, due_at, next_wake, timings

ROOT = Path(__file__).resolve().parents[1]
ALLOW = "CITEWATCH_ALLOW_PRIVATE"
FAST = ("DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "RETRY_TIMES=0")
FAST_MAP = dict(s.split("=", 1) for s in FAST)
HTML = {"Content-Type": "text/html; charset=utf-8"}
PAGE = b"<html><body><main><p>We do not train models on your data.</p></main></body></html>"
SECRET = b"<html><body><p>INTERNAL ONLY: the metadata service token is 42.</p></body></html>"
PASSWORD = "s3cret-pw"
DAY = 86400.0


# --- the harness: a catalog with one hostile source between two good ones -------------------


@dataclass(frozen=True, slots=True)
class Crawled:
    """One `citewatch crawl --json` run: its sources by id, stderr, database and catalog."""

    sources: dict[str, dict[str, Any]]
    stderr: str
    stdout: str
    db: Path
    catalog: Path
    seconds: float

    def stored(self, source: str) -> dict[str, Any]:
        """The source's last fetch row, as stored."""
        with sqlite3.connect(self.db) as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute(
                "SELECT f.* FROM fetches f JOIN sources s ON s.id = f.source_pk"
                " WHERE s.source_id = ? ORDER BY f.id DESC LIMIT 1",
                (source,),
            ).fetchone()
        return dict(row)


def citewatch(
    db: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a child process (the way users and schedulers do)."""
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", "--db", f"sqlite:///{db}", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ if env is None else env),
        timeout=timeout,
        check=False,
    )


def write_catalog(folder: Path, urls: Mapping[str, str], every: str | None = None) -> Path:
    """A one-tool catalog with a source per (id, url), in order."""
    (folder / "tools").mkdir(parents=True)
    lines = ["id: acme", "name: Acme AI", "sources:"]
    for source, url in urls.items():
        lines += [f"  - id: {source}", f"    url: {json.dumps(url)}"]
        if every:
            lines.append(f"    every: {every}")
    (folder / "tools" / "acme.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def crawl_among_good(
    tmp_path: Path,
    good: LocalServer,
    hostile_url: str,
    settings: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Crawled:
    """Crawl good-a, hostile, good-b; assert the run itself went well and the good ones landed."""
    good.route("/a", Reply(200, PAGE, HTML))
    good.route("/b", Reply(200, PAGE.replace(b"models", b"any model"), HTML))
    catalog = write_catalog(
        tmp_path / "catalog",
        {"good-a": good.url("/a"), "hostile": hostile_url, "good-b": good.url("/b")},
    )
    db = tmp_path / "cw.db"
    args = [arg for s in (*FAST, *settings) for arg in ("-s", s)]
    started = time.monotonic()
    done = citewatch(db, "crawl", str(catalog), "--json", *args, env=env)
    seconds = time.monotonic() - started
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    sources = {s["source"]: s for s in json.loads(done.stdout)["sources"]}
    assert [sources[s]["outcome"] for s in ("good-a", "good-b")] == ["new", "new"]
    # The run was recorded: 3 when the hostile source failed (README, "Exit codes"), else 0.
    assert done.returncode == (3 if sources["hostile"]["outcome"] == "failed" else 0), done.stderr
    return Crawled(sources, done.stderr, done.stdout, db, catalog, seconds)


def assert_failed(crawled: Crawled, failure_class: str, *words: str) -> dict[str, Any]:
    """The hostile source is one failed fetch of this class, its error naming the words."""
    hostile = crawled.sources["hostile"]
    assert (hostile["outcome"], hostile["failure_class"]) == ("failed", failure_class), hostile
    assert hostile["change"] is None and hostile["flags"] == []
    for word in words:
        assert word in (hostile["error"] or ""), hostile["error"]
    return hostile


# --- 1. Retry-After values that overflowed every due time ------------------------------------

RETRY_AFTER = [
    pytest.param("1e23", DAY, id="1e23"),
    pytest.param("inf", DAY, id="inf"),
    pytest.param("Fri, 31 Dec 9999 23:59:59 GMT", DAY, id="far-future-date"),
    pytest.param("-30", None, id="negative"),  # no wait at all: stored as 0, read as none
    pytest.param("nan", None, id="nan"),
]


@pytest.mark.parametrize(("header", "stored"), RETRY_AFTER)
def test_retry_after_is_clamped_to_a_day(
    tmp_path: Path, http_server: LocalServer, header: str, stored: float | None
) -> None:
    http_server.route("/busy", Reply(503, b"busy", {"Retry-After": header}))
    crawled = crawl_among_good(tmp_path, http_server, http_server.url("/busy"))
    assert_failed(crawled, "transient", "503")
    kept = crawled.stored("hostile")["retry_after"]
    assert (kept or None) == stored  # negative: 0.0 is "no wait"
    # Every later status and scheduler cycle computes due times from the stored value.
    status = citewatch(crawled.db, "status", "--json", "--catalog", str(crawled.catalog))
    assert status.returncode == 0 and "Traceback" not in status.stderr, status.stderr[-2000:]
    line = next(s for s in json.loads(status.stdout)["sources"] if s["source"] == "hostile")
    fetched = datetime.fromisoformat(line["last_fetch_at"])
    assert fetched < datetime.fromisoformat(line["due_at"]) < fetched + timedelta(days=2)


def test_retry_after_already_stored_is_clamped_on_read(tmp_path: Path) -> None:
    from storage import Store
    from storage.records import FetchEntry
    from storage.scheduling import source_schedules

    db = tmp_path / "old.db"
    store = Store.open(f"sqlite:///{db}")
    started = datetime(2026, 5, 1, tzinfo=UTC)
    for source, seconds in (("huge", 1e23), ("inf", float("inf")), ("neg", -5.0)):
        pk = store.source_state("acme", source, f"https://acme.example/{source}").pk
        store.record_fetch(
            FetchEntry(
                run_id=store.begin_run("catalog"),
                source_pk=pk,
                requested_url=f"https://acme.example/{source}",
                final_url=None,
                redirects=(),
                status=503,
                outcome="failed",
                error="HTTP 503",
                error_kind="http",
                content_type=None,
                raw=None,
                started_at=started,
                elapsed_ms=5,
                failure_class="transient",
                retry_after=seconds,  # as an older version stored it: unclamped
            )
        )
    known = source_schedules(store)
    assert known[("acme", "huge")].retry_after == started + timedelta(days=1)
    assert known[("acme", "inf")].retry_after == started + timedelta(days=1)
    assert known[("acme", "neg")].retry_after is None
    catalog = write_catalog(
        tmp_path / "catalog", {s: f"https://acme.example/{s}" for s in ("huge", "inf", "neg")}
    )
    from crawler.catalog.model import load_catalog

    policy = Policy(every=timedelta(days=1))
    now = datetime.now(UTC)
    due = [due_at(t, policy) for t in timings(load_catalog(catalog), known)]
    assert all(d is not None and d <= now + timedelta(days=2) for d in due), due
    assert next_wake(timings(load_catalog(catalog), known), policy, now) is not None
    store.close()
    status = citewatch(db, "status", "--json", "--catalog", str(catalog))
    assert status.returncode == 0 and "Traceback" not in status.stderr, status.stderr[-2000:]


def test_a_huge_interval_never_overflows_a_due_time() -> None:
    last = datetime(2026, 5, 1, tzinfo=UTC)
    timing = SourceTiming(
        tool="acme", source="p", every=timedelta(days=3_000_000), last_fetch_at=last
    )
    due = due_at(timing, Policy(every=timedelta(days=1)))
    assert due is not None and due > last + timedelta(days=365 * 1000)
    failing = SourceTiming(
        tool="acme",
        source="p",
        every=timedelta(days=3_000_000),
        last_fetch_at=last,
        consecutive_failures=70,
    )
    later = due_at(failing, Policy(every=timedelta(days=1)))
    assert later is not None and later > last


def test_status_survives_a_catalog_interval_of_millennia(
    tmp_path: Path, http_server: LocalServer
) -> None:
    http_server.route("/a", Reply(200, PAGE, HTML))
    catalog = write_catalog(tmp_path / "catalog", {"a": http_server.url("/a")}, every="3000000d")
    db = tmp_path / "cw.db"
    fast = [x for s in FAST for x in ("-s", s)]
    refused = citewatch(db, "crawl", str(catalog), "--json", *fast)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "acme.yaml: source a: every: '3000000d' is too long" in refused.stderr
    catalog = write_catalog(tmp_path / "longest", {"a": http_server.url("/a")}, every="366d")
    done = citewatch(db, "crawl", str(catalog), "--json", *fast)
    assert done.returncode == 0, done.stderr[-2000:]
    status = citewatch(db, "status", "--json", "--catalog", str(catalog))
    assert status.returncode == 0 and "Traceback" not in status.stderr, status.stderr[-2000:]


# --- 5. failure classes the README's table gives ------------------------------------------------

BOMB = b"<html><body>" + b"\0" * (4 * 1024 * 1024)  # 4 MB of nothing, a few KB compressed
CAP = "DOWNLOAD_MAXSIZE=1000000"


def _brotli(data: bytes) -> bytes:
    brotli = pytest.importorskip("brotli")
    compressed: bytes = brotli.compress(data)
    return compressed


def _zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


BOMBS = [
    pytest.param("gzip", gzip.compress, id="gzip"),
    pytest.param("deflate", zlib.compress, id="deflate"),
    pytest.param("br", _brotli, id="br"),
    pytest.param("zstd", _zstd, id="zstd"),
]


@pytest.mark.parametrize(("encoding", "compress"), BOMBS)
def test_decompression_bomb_is_too_large_hence_suspicious(
    tmp_path: Path, http_server: LocalServer, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    body = compress(BOMB)
    assert len(body) < 100_000  # small on the wire, 4 MB once inflated
    http_server.route("/bomb", Reply(200, body, {**HTML, "Content-Encoding": encoding}))
    crawled = crawl_among_good(tmp_path, http_server, http_server.url("/bomb"), [CAP])
    assert_failed(crawled, "suspicious", "DOWNLOAD_MAXSIZE")
    assert crawled.stored("hostile")["error_kind"] == "too-large"


@pytest.mark.parametrize("charset", ["rot13", "base64", "zlib", "idna"])
def test_undecodable_charset_is_an_unreadable_body(
    tmp_path: Path, http_server: LocalServer, charset: str
) -> None:
    http_server.route("/odd", Reply(200, PAGE, {"Content-Type": f"text/html; charset={charset}"}))
    crawled = crawl_among_good(tmp_path, http_server, http_server.url("/odd"))
    assert_failed(crawled, "suspicious", "charset")


REDIRECTS = [
    pytest.param("file:///etc/passwd", "not an http(s) URL", id="file"),
    pytest.param("ftp://127.0.0.1/policy.txt", "not an http(s) URL", id="ftp"),
    pytest.param("javascript:alert(1)", "not an http(s) URL", id="javascript"),
    pytest.param("data:text/html,<p>hello</p>", "not an http(s) URL", id="data"),
    pytest.param("http://127.0.0.1:99999/page", "port", id="bad-port"),
    pytest.param(f"http://editor:{PASSWORD}@127.0.0.1:1/page", "password", id="credentials"),
]


@pytest.mark.parametrize(("location", "words"), REDIRECTS)
def test_redirect_to_a_url_we_never_request_is_blocked(
    tmp_path: Path, http_server: LocalServer, location: str, words: str
) -> None:
    http_server.route("/moved", Reply(302, b"", {"Location": location}))
    crawled = crawl_among_good(tmp_path, http_server, http_server.url("/moved"))
    assert_failed(crawled, "blocked", "redirect", words)
    assert crawled.stored("hostile")["status"] == 302
    assert PASSWORD not in crawled.stdout + crawled.stderr
    assert PASSWORD.encode() not in crawled.db.read_bytes()


def test_meta_refresh_to_javascript_keeps_the_page(
    tmp_path: Path, http_server: LocalServer
) -> None:
    page = b'<html><head><meta http-equiv="refresh" content="0;url=javascript:go()"></head>'
    page += b"<body><main><p>Our policy, in full, is here.</p></main></body></html>"
    http_server.route("/refresh", Reply(200, page, HTML))
    crawled = crawl_among_good(tmp_path, http_server, http_server.url("/refresh"))
    assert crawled.sources["hostile"]["outcome"] == "new", crawled.sources["hostile"]


# --- 7. a body that trickles forever -------------------------------------------------------------


class Trickle:
    """A server that answers every page with headers, then one byte every `every` seconds."""

    def __init__(self, every: float = 0.5) -> None:
        self.every = every
        self._stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def url(self, path: str) -> str:
        """An absolute URL on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed at teardown
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            request = conn.recv(65536)
            try:
                if b"/robots.txt" in request.split(b"\r\n", 1)[0]:
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    return
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
                conn.sendall(b"Content-Length: 1000000\r\n\r\n<html>")
                while not self._stop.wait(self.every):
                    conn.sendall(b"x")
            except OSError:
                return  # the client gave up, as it should

    def __enter__(self) -> Trickle:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sock.close()


def test_a_body_that_trickles_forever_ends_at_the_download_timeout(
    tmp_path: Path, http_server: LocalServer
) -> None:
    with Trickle() as slow:
        crawled = crawl_among_good(
            tmp_path, http_server, slow.url("/policy"), ["DOWNLOAD_TIMEOUT=2"]
        )
    assert_failed(crawled, "transient", "timeout")
    assert crawled.stored("hostile")["elapsed_ms"] < 10_000
    assert crawled.seconds < 60  # not the default 30 s × 3 tries, let alone forever


# --- 3. IPv6 literal URLs ----------------------------------------------------------------------


def _ipv6_server() -> LocalServer:
    try:
        return LocalServer("::1")
    except OSError as exc:
        pytest.skip(f"this machine cannot bind the IPv6 loopback ::1: {exc}")


def test_an_ipv6_literal_url_is_fetched(tmp_path: Path, http_server: LocalServer) -> None:
    with _ipv6_server() as v6:
        v6.route("/policy", Reply(200, PAGE, HTML))
        crawled = crawl_among_good(tmp_path, http_server, v6.url("/policy"))
        assert crawled.sources["hostile"]["outcome"] == "new", crawled.sources["hostile"]
        assert v6.url("/policy").startswith("http://[::1]:")
        assert len(v6.hits("/policy")) == 1


# --- 6. server-side request forgery --------------------------------------------------------------


@pytest.fixture
def internal() -> Iterator[LocalServer]:
    """A service of "the machine's own network": 127.0.0.2, which no row may reach."""
    try:
        server = LocalServer("127.0.0.2")
    except OSError as exc:
        pytest.skip(f"this machine cannot bind 127.0.0.2: {exc}")
    with server:
        server.route("/secret", Reply(200, SECRET, HTML))
        yield server


def without_allowance() -> dict[str, str]:
    """This process's environment without the test session's CITEWATCH_ALLOW_PRIVATE."""
    return {k: v for k, v in os.environ.items() if k != ALLOW}


def refresh_to(url: str) -> Reply:
    """A page whose <meta http-equiv=refresh> sends the browser (and Scrapy) to url."""
    head = f'<meta http-equiv="refresh" content="0;url={url}">'.encode()
    return Reply(200, b"<html><head>" + head + b"</head><body>moved</body></html>", HTML)


@dataclass(frozen=True, slots=True)
class Forgery:
    """A hostile source: its routes on the good server (or none: the URL is the target)."""

    target: str  # {port} is the internal server's port
    reason: str
    reply: Callable[[str], Reply] | None = None  # how /hop sends the crawler to the target
    extra: dict[str, str] = field(default_factory=dict)


def redirect(status: int) -> Callable[[str], Reply]:
    """A reply that redirects to its URL with a status."""
    return lambda url: Reply(status, b"", {"Location": url})


FORGERIES = [
    pytest.param(
        Forgery("http://127.0.0.2:{port}/secret", "destination 127.0.0.2 is a loopback address"),
        id="catalog-url-itself",
    ),
    pytest.param(
        Forgery("http://127.0.0.2:{port}/secret", "127.0.0.2 is a loopback", redirect(302)),
        id="302-loopback",
    ),
    pytest.param(
        Forgery("http://2130706434:{port}/secret", "127.0.0.2 is a loopback", redirect(301)),
        id="301-decimal-ip",
    ),
    pytest.param(
        Forgery("http://[::ffff:127.0.0.2]:{port}/secret", "it reaches 127.0.0.2", redirect(307)),
        id="307-ipv4-mapped-ipv6",
    ),
    pytest.param(
        Forgery("http://127.0.0.2:{port}/secret", "127.0.0.2 is a loopback", refresh_to),
        id="meta-refresh",
    ),
    pytest.param(
        Forgery("http://10.0.0.5/admin", "10.0.0.5 is a private address", redirect(302)),
        id="rfc1918",
    ),
    pytest.param(
        Forgery(
            "http://169.254.169.254/latest/meta-data/",
            "169.254.169.254 is a link-local address",
            redirect(302),
        ),
        id="cloud-metadata-link-local",
    ),
    pytest.param(
        Forgery("http://100.64.0.1/", "100.64.0.1 is a shared (carrier-grade NAT)", redirect(302)),
        id="cgnat",
    ),
    pytest.param(
        Forgery("http://224.0.0.1/", "224.0.0.1 is a multicast address", redirect(302)),
        id="multicast",
    ),
    pytest.param(
        Forgery("http://0.0.0.0:{port}/secret", "0.0.0.0 is an unspecified", redirect(302)),
        id="unspecified",
    ),
    pytest.param(
        Forgery("http://[::1]:{port}/secret", "::1 is a loopback address", redirect(302)),
        id="ipv6-loopback",
    ),
    pytest.param(
        Forgery("http://[fe80::1]/", "fe80::1 is a link-local address", redirect(302)),
        id="ipv6-link-local",
    ),
]


@pytest.mark.parametrize("forgery", FORGERIES)
def test_non_public_destinations_are_refused(
    tmp_path: Path, http_server: LocalServer, internal: LocalServer, forgery: Forgery
) -> None:
    target = forgery.target.format(port=internal.port)
    hostile = target
    if forgery.reply is not None:
        http_server.route("/hop", forgery.reply(target))
        hostile = http_server.url("/hop")
    # The good pages' own server is allowed by name, nothing else: no environment allowance.
    crawled = crawl_among_good(
        tmp_path, http_server, hostile, [f"{ALLOW}=127.0.0.1"], env=without_allowance()
    )
    assert_failed(crawled, "blocked", forgery.reason)
    assert internal.hits() == []  # not even its robots.txt
    stored = crawled.stored("hostile")
    assert stored["error_kind"] == "destination"
    if forgery.reply is not None:  # where the page led is recorded, for the editor to see
        assert stored["final_url"] is not None and "/hop" not in stored["final_url"]
    with sqlite3.connect(crawled.db) as conn:
        assert conn.execute("SELECT count(*) FROM snapshots").fetchone() == (2,)  # good-a, good-b


def test_loopback_is_refused_by_default(
    http_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ALLOW)
    http_server.route("/page", Reply(200, PAGE, HTML))
    [result] = fetch_all([FetchRequest(key="k", url=http_server.url("/page"))], settings=FAST_MAP)
    assert (result.error_kind, result.body) == ("destination", None)
    assert "destination 127.0.0.1 is a loopback address" in (result.error or "")
    failure = fetch_failure(result.status, result.error_kind, result.error)
    assert failure.failure_class == "blocked"
    assert http_server.hits() == []  # the check comes before any connection


def test_the_setting_overrides_the_environment(http_server: LocalServer) -> None:
    http_server.route("/page", Reply(200, PAGE, HTML))
    assert os.environ[ALLOW] == "1"  # the test session's allowance
    [refused] = fetch_all(
        [FetchRequest(key="k", url=http_server.url("/page"))],
        settings={**FAST_MAP, ALLOW: "False"},
    )
    assert refused.error_kind == "destination"
    [allowed] = fetch_all(
        [FetchRequest(key="k", url=http_server.url("/page"))],
        settings={**FAST_MAP, ALLOW: "10.0.0.0/8, 127.0.0.0/8"},
    )
    assert allowed.status == 200


def test_a_bad_allowance_is_one_line(tmp_path: Path, http_server: LocalServer) -> None:
    catalog = write_catalog(tmp_path / "catalog", {"a": http_server.url("/a")})
    env = {**without_allowance(), ALLOW: "maybe"}
    done = citewatch(tmp_path / "cw.db", "crawl", str(catalog), "--json", env=env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"{ALLOW}: 'maybe' is neither true/false nor a network" in done.stderr
    assert http_server.hits() == []


# --- 2 and 4. URLs no request can be built for; passwords -------------------------------------

BAD_URLS = {
    "port-high": "http://127.0.0.1:99999/page",
    "port-negative": "http://127.0.0.1:-1/page",
    "port-word": "http://127.0.0.1:abc/page",
    "port-zero": "http://127.0.0.1:0/page",
    "no-host": "http:///page",
    "broken-ipv6": "http://[::1/page",
    "credentials": f"http://editor:{PASSWORD}@127.0.0.1:1/page",
}


def _interleaved(server: LocalServer) -> list[FetchRequest]:
    server.route("/page", Reply(200, PAGE, HTML))
    requests = []
    for key, url in BAD_URLS.items():
        requests += [
            FetchRequest(key=f"good-before-{key}", url=server.url("/page")),
            FetchRequest(key=key, url=url),
        ]
    return [*requests, FetchRequest(key="good-last", url=server.url("/page"))]


def _assert_each_alone(results: Sequence[FetchResult], server: LocalServer) -> None:
    by_key = {r.key: r for r in results}
    for key in BAD_URLS:
        bad = by_key[key]
        assert (bad.error_kind, bad.status, bad.body) == ("url", None, None), bad
        assert fetch_failure(bad.status, bad.error_kind, bad.error).failure_class == "gone"
    good = [r for r in results if r.key.startswith("good")]
    assert [r.status for r in good] == [200] * len(good)
    assert len(server.hits("/page")) == len(good)
    assert all(PASSWORD not in repr(asdict(r)) for r in results)


def test_unusable_urls_fail_alone(
    http_server: LocalServer, capfd: pytest.CaptureFixture[str]
) -> None:
    results = fetch_all(_interleaved(http_server), settings=FAST_MAP)
    _assert_each_alone(results, http_server)
    assert PASSWORD not in capfd.readouterr().err


def test_unusable_urls_in_a_job_file_fail_alone(tmp_path: Path, http_server: LocalServer) -> None:
    """The child itself, given a job file the parent did not screen (a hand-written one)."""
    requests = _interleaved(http_server)
    job, out = tmp_path / "job.json", tmp_path / "out"
    out.mkdir()
    write_job(job, list(enumerate(requests)))
    settings = [arg for s in FAST for arg in ("-s", s)]
    done = subprocess.run(
        [sys.executable, "-m", "crawler.fetch.child", str(job), str(out), *settings],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = read_results(out)
    assert sorted(found) == list(range(len(requests)))  # every request has its result
    _assert_each_alone([found[i] for i in range(len(requests))], http_server)
    assert PASSWORD not in done.stderr + done.stdout
    assert all(PASSWORD.encode() not in p.read_bytes() for p in out.iterdir())


def test_a_password_in_a_redirect_never_reaches_results_or_logs(
    http_server: LocalServer, capfd: pytest.CaptureFixture[str]
) -> None:
    target = f"http://editor:{PASSWORD}@127.0.0.1:{http_server.port}/page"
    http_server.route("/hop", Reply(302, b"", {"Location": target}))
    [result] = fetch_all([FetchRequest(key="k", url=http_server.url("/hop"))], settings=FAST_MAP)
    assert result.error_kind == "redirect" and "***@127.0.0.1" in (result.error or "")
    assert PASSWORD not in repr(asdict(result)) + capfd.readouterr().err


def test_fetch_error_is_one_line_without_password() -> None:
    with pytest.raises(FetchError) as raised:
        fetch_all(
            [FetchRequest(key="k", url="https://acme.example/p")],
            settings={**FAST_MAP, ALLOW: f"http://editor:{PASSWORD}@h"},
        )
    assert PASSWORD not in str(raised.value) and "Traceback" not in str(raised.value)


# --- the pure parts, table-driven: addresses, URLs, header values ------------------------------

ADDRESSES = [
    ("93.184.216.34", None),
    ("2606:4700::6810:85e5", None),
    ("8.8.8.8", None),
    ("127.0.0.1", "a loopback"),
    ("127.255.255.254", "a loopback"),
    ("10.0.0.5", "a private"),
    ("172.16.3.4", "a private"),
    ("192.168.1.1", "a private"),
    ("169.254.169.254", "a link-local"),
    ("100.64.0.1", "a shared (carrier-grade NAT)"),
    ("224.0.0.251", "a multicast"),
    ("0.0.0.0", "an unspecified"),
    ("240.0.0.1", "a private"),  # reserved for future use: never a public page
    ("::1", "a loopback"),
    ("::", "an unspecified"),
    ("fe80::1", "a link-local"),
    ("fd12:3456::1", "a private"),
    ("ff02::1", "a multicast"),
    ("::ffff:10.0.0.5", "a private"),  # IPv4-mapped
    ("64:ff9b::a00:5", "a private"),  # NAT64 of 10.0.0.5
    ("2002:a00:5::1", "a private"),  # 6to4 of 10.0.0.5
]


@pytest.mark.parametrize(("ip", "kind"), ADDRESSES)
def test_destination_policy_names_what_it_refuses(ip: str, kind: str | None) -> None:
    from crawler.fetch.destinations import DestinationPolicy

    refusal = DestinationPolicy().refusal(ip)
    if kind is None:
        assert refusal is None
    else:
        assert refusal is not None and refusal.startswith(f"destination {ip} is {kind} address")
    assert DestinationPolicy(allow_all=True).refusal(ip) is None


def test_destination_allowance_by_network() -> None:
    from crawler.fetch.destinations import destination_policy

    policy = destination_policy("10.1.0.0/16, 127.0.0.1")
    assert policy.refusal("10.1.2.3") is None and policy.refusal("127.0.0.1") is None
    assert policy.refusal("::ffff:127.0.0.1") is None  # the same address, mapped
    assert policy.refusal("10.2.0.1") is not None and policy.refusal("127.0.0.2") is not None
    for word in ("1", "true", "YES", "on", True):
        assert destination_policy(word).allow_all
    for word in (None, "", "0", "false", "off", False):
        assert destination_policy(word) == destination_policy(None)
    with pytest.raises(ValueError, match="'maybe' is neither true/false nor a network"):
        destination_policy("maybe")


def test_the_environment_variable_is_read_in_one_place() -> None:
    from crawler.environment import read_environment

    assert read_environment({ALLOW: "10.0.0.0/8"}).allow_private == "10.0.0.0/8"
    assert read_environment({ALLOW: ""}).allow_private is None
    assert read_environment({}).allow_private is None


URL_PROBLEMS = [
    ("https://acme.example/privacy", None),
    ("http://[2001:db8::1]:8080/privacy", None),
    ("http://acme.example:65535/p", None),
    ("http://acme.example:65536/p", "port"),
    ("http://acme.example:0/p", "port"),
    ("http://acme.example:-1/p", "port"),
    ("http://acme.example:80a/p", "port"),
    ("http:///p", "no host"),
    ("http://[::1/p", "cannot be parsed"),
    ("http://editor@acme.example/p", "user name or password"),
    (f"http://editor:{PASSWORD}@acme.example/p", "user name or password"),
]


@pytest.mark.parametrize(("url", "words"), URL_PROBLEMS)
def test_url_problems(url: str, words: str | None) -> None:
    from crawler.fetch.urls import url_problem

    problem = url_problem(url)
    assert (problem is None) if words is None else (words in (problem or ""))


REDACTIONS = [
    (f"http://editor:{PASSWORD}@acme.example/p", "http://***@acme.example/p"),
    (f"https://editor:{PASSWORD}@x@acme.example/p", "https://***@acme.example/p"),
    ("http://token@acme.example/", "http://***@acme.example/"),
    ("http://acme.example/p?mail=dpo@acme.example", "http://acme.example/p?mail=dpo@acme.example"),
    (
        f"timeout: GET http://u:{PASSWORD}@a.example/x took too long (http://u:{PASSWORD}@a.example/x)",
        "timeout: GET http://***@a.example/x took too long (http://***@a.example/x)",
    ),
]


@pytest.mark.parametrize(("text", "shown"), REDACTIONS)
def test_redaction(text: str, shown: str) -> None:
    from crawler.fetch.urls import redact

    assert redact(text) == shown


RETRY_AFTER_VALUES = [
    ("120", 120.0),
    ("0", 0.0),
    ("-5", 0.0),
    ("86401", DAY),
    ("1e23", DAY),
    ("inf", DAY),
    ("-inf", 0.0),
    ("nan", None),
    ("soon", None),
    ("Fri, 31 Dec 9999 23:59:59 GMT", DAY),
    ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
]


@pytest.mark.parametrize(("value", "seconds"), RETRY_AFTER_VALUES)
def test_retry_after_values(value: str, seconds: float | None) -> None:
    from crawler.fetch.middlewares import retry_after_seconds
    from storage.scheduling import RETRY_AFTER_MAX_S

    assert RETRY_AFTER_MAX_S == DAY
    assert retry_after_seconds(value.encode("latin-1")) == seconds
