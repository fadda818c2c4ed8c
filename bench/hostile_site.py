"""Hostile pages for the soak (`bench/soak.py --hostile`): one local server, a page per attack.

Each attack of issue 14 that a catalog which passes `check` can still meet at fetch time is a
path here; `HostileSite.tool_yaml()` writes the tool file that cites all of them (and rates
two criteria on the costly ones: a 20,000-word quote and a page of 400,000 paragraphs). The
pages that change do so on every fetch, so each crawl diffs and flags them again.
"""

from __future__ import annotations

import gzip
import random
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# The PDF bombs of the extraction tests, one implementation (tests/ is not a package).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_crawler_hostile_extract import flate_bomb, form_bomb  # type: ignore[import-not-found]

TOOL = "hostile"
WORDS = ("data", "processing", "retention", "transfer", "subprocessor", "security", "audit")


def _html(title: str, body: str, head: str = "") -> bytes:
    page = f"<!doctype html><html><head>{head}<title>{title}</title></head><body>{body}</body>"
    return (page + "</html>").encode()


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


class HostileSite:
    """The hostile server on 127.0.0.1 (and ::1 when the machine has IPv6), started as a
    context manager; `hits` counts the requests of each path."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._fetches = 0
        rng = random.Random(14)
        self._quote = _words(rng, 20_000)  # never on the page: the fuzzy search runs in full
        self._policy = [_words(rng, 60) for _ in range(15_000)]  # ~6 MB of prose
        self._static = {
            "/pdf-flate-bomb": (flate_bomb(), "application/pdf"),
            "/pdf-form-bomb": (form_bomb(), "application/pdf"),
        }
        self._gzip_bomb = gzip.compress(b"\0" * 200_000_000, compresslevel=9)
        self._servers: list[ThreadingHTTPServer] = []
        self.port = 0
        self.port6: int | None = None

    def __enter__(self) -> HostileSite:
        handler = _handler(self)
        main = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = main.server_address[1]
        self._servers.append(main)
        if socket.has_ipv6:
            try:
                v6 = type("V6", (ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
                six = v6(("::1", 0), handler)
                self.port6 = six.server_address[1]
                self._servers.append(six)
            except OSError:
                self.port6 = None  # no ::1 on this machine: the IPv6 source is left out
        for server in self._servers:
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def sources(self) -> dict[str, str]:
        """Source id -> URL of every attack."""
        base = f"http://127.0.0.1:{self.port}"
        found = {name.strip("/"): f"{base}{name}" for name in ROUTES}
        if self.port6 is not None:
            found["ipv6-literal"] = f"http://[::1]:{self.port6}/ipv6-literal"
        return found

    def tool_yaml(self, every: str) -> str:
        """The catalog's tool file citing every attack; two ratings rest on the costly pages."""
        lines = [f"id: {TOOL}", "name: Hostile pages", "sources:"]
        for sid, url in sorted(self.sources().items()):
            lines += [
                f"  - id: {sid}",
                f"    url: '{url}'",
                "    kind: other",
                f"    every: {every}",
            ]
        lines += [
            "ratings:",
            "  data-retention:",
            "    rating: partial",
            "    sources: [long-policy]",
            "    evidence:",
            "      - source: long-policy",
            f"        quote: {self._quote}",
            "  dpa:",
            "    rating: yes",
            "    sources: [tiny-paragraphs]",
        ]
        return "\n".join(lines) + "\n"

    def fetch_number(self) -> int:
        """A number that grows with each fetch of a changing page."""
        with self._lock:
            self._fetches += 1
            return self._fetches


def _handler(site: HostileSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the soak prints figures, not a request log."""

        def do_GET(self) -> None:
            """Serve the attack of the path."""
            path = self.path.split("?")[0]
            site.hits[path] += 1
            if path == "/robots.txt":
                self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
            elif path in site._static:
                self._send(200, *site._static[path])
            elif path in ROUTES:
                ROUTES[path](site, self)
            elif path in ("/plain", "/ipv6-literal"):
                n = site.fetch_number()
                self._send(200, _html("Plain", f"<p>A plain page, fetch {n}.</p>"))
            else:
                self._send(404, b"not here", "text/plain")

        def _send(
            self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", **headers: str
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


Route = Callable[[HostileSite, Any], None]
# A meta refresh to the cloud metadata address (link-local): refused like a redirect.
REFRESH = '<meta http-equiv="refresh" content="0;url=http://169.254.169.254/latest/meta-data/">'


def _redirect(to: str) -> Route:
    return lambda site, h: h._send(302, b"", "text/plain", Location=to.format(port=site.port))


def _slowloris(site: HostileSite, h: Any) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    try:
        for _ in range(90):  # a byte a second, past DOWNLOAD_TIMEOUT (30 s)
            h.wfile.write(b"<")
            h.wfile.flush()
            time.sleep(1)
    except OSError:
        pass  # the crawler gave up, as it should


def _too_big(site: HostileSite, h: Any) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.send_header("Content-Length", str(25_000_000))  # over DOWNLOAD_MAXSIZE (20 MB)
    h.end_headers()
    try:
        for _ in range(25):
            h.wfile.write(b"<p>x</p>" * 125_000)
    except OSError:
        pass


def _gzip_bomb(site: HostileSite, h: Any) -> None:
    h._send(200, site._gzip_bomb, "text/html", Content_Encoding="gzip")


def _tiny_paragraphs(site: HostileSite, h: Any) -> None:
    n = site.fetch_number()
    middle = "".join(f"<p>p{i}</p>" for i in range(400_000))
    h._send(200, _html("Tiny", f"<p>first {n}</p>{middle}<p>last {n}</p>"))


def _long_policy(site: HostileSite, h: Any) -> None:
    n = site.fetch_number()
    paragraphs = list(site._policy)
    paragraphs[n % len(paragraphs)] = f"retention extended to {n} days"
    h._send(200, _html("Policy", "".join(f"<p>{p}</p>" for p in paragraphs)))


def _changing(title: str, head: str = "", stray: str = "") -> Route:
    def route(site: HostileSite, h: Any) -> None:
        n = site.fetch_number()
        body = f"<h1>{title}</h1><p>Our processors are{stray} listed here. Version {n}.</p>"
        h._send(200, _html(title, body, head))

    return route


ROUTES: dict[str, Route] = {
    "/retry-after-inf": lambda s, h: h._send(503, b"busy", "text/plain", Retry_After="1e23"),
    "/retry-after-far-date": lambda s, h: h._send(
        503, b"busy", "text/plain", Retry_After="Fri, 31 Dec 9999 23:59:59 GMT"
    ),
    "/redirect-bad-port": _redirect("http://127.0.0.1:99999/x"),
    "/redirect-private": _redirect("http://10.0.0.5/internal"),
    "/redirect-decimal-ip": _redirect("http://2130706434:{port}/plain"),  # 127.0.0.2
    "/redirect-credentials": _redirect("http://editor:s3cret-pass@127.0.0.1:{port}/plain"),
    "/redirect-file": _redirect("file:///etc/passwd"),
    "/redirect-loop": _redirect("http://127.0.0.1:{port}/redirect-loop"),
    "/refresh-metadata": lambda s, h: h._send(200, _html("Moved", "<p>Moved.</p>", REFRESH)),
    "/pdf-flate-bomb": lambda s, h: None,  # served from HostileSite._static
    "/pdf-form-bomb": lambda s, h: None,
    "/gzip-bomb": _gzip_bomb,
    "/too-big": _too_big,
    "/slowloris": _slowloris,
    "/tiny-paragraphs": _tiny_paragraphs,
    "/long-policy": _long_policy,
    "/charset-hex": _changing("Hex", '<meta charset="hex">'),
    "/charset-rot13": _changing("Rot", '<meta charset="rot13">'),
    "/nul-byte": _changing("Nul", "", "\0"),  # one stray NUL in the text
    "/script-injection": _changing(
        "</title><script>alert(1)</script>", '<base href="javascript:alert(2)//">'
    ),
}
