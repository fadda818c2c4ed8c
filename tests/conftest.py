"""Shared fixtures: a scripted local HTTP server (tests never touch the network)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted response: status, headers, body, and optional misbehaviour."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a slow or hung server)
    declared_length: int | None = None  # Content-Length to claim instead of len(body)
    stream: int = 0  # bytes of filler streamed after the body (a huge page, never in memory)


@dataclass(frozen=True, slots=True)
class Hit:
    """One request the server received."""

    path: str
    headers: dict[str, str]  # names lower-cased
    at: float  # time.monotonic() on arrival


class _IPv6HTTPServer(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class LocalServer:
    """A ThreadingHTTPServer on 127.0.0.1:<free port> answering GETs from scripted routes.

    `route(path, r1, r2, ...)` serves r1 to the first request for `path`, r2 to the next, and
    repeats the last one after that. Unrouted paths (including /robots.txt) get a 404.
    `host` may be another loopback address: "127.0.0.2", or "::1" (IPv6).
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._routes: dict[str, list[Reply]] = {}
        self._hits: list[Hit] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()  # wakes handlers that are "hanging" at teardown
        server_class = _IPv6HTTPServer if ":" in host else ThreadingHTTPServer
        self._httpd = server_class((host, 0), self._handler_class())
        self._httpd.daemon_threads = True
        self.port: int = self._httpd.server_address[1]
        # A short poll interval: shutdown() waits up to one interval, at every test's teardown.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/") -> str:
        """The absolute URL of a path on this server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def route(self, path: str, *replies: Reply) -> None:
        """Script the replies for a path (the last one repeats)."""
        with self._lock:
            self._routes[path] = list(replies)

    def hits(self, path: str | None = None) -> list[Hit]:
        """Requests received so far, for one path or all of them."""
        with self._lock:
            return [hit for hit in self._hits if path is None or hit.path == path]

    def _next_reply(self, path: str, headers: dict[str, str]) -> Reply:
        with self._lock:
            self._hits.append(Hit(path, headers, time.monotonic()))
            replies = self._routes.get(path)
            if not replies:
                return Reply(404, b"not found")
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                headers = {name.lower(): value for name, value in self.headers.items()}
                reply = server._next_reply(path, headers)
                if reply.delay and server._stop.wait(reply.delay):
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                length = reply.declared_length
                full = len(reply.body) + reply.stream
                self.send_header("Content-Length", str(full if length is None else length))
                if length is not None:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(reply.body)
                if reply.stream:
                    self._stream(reply.stream)

            def _stream(self, remaining: int) -> None:
                chunk = b"<p>filler</p>\n" * 4096
                try:
                    while remaining > 0:
                        self.wfile.write(chunk[:remaining])
                        remaining -= len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up, as it should

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output quiet

        return Handler

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(autouse=True, scope="session")
def allow_loopback_crawls() -> Iterator[None]:
    """Crawls refuse loopback and private addresses by default (server-side request forgery);
    every test serves its pages on 127.0.0.1, so the whole session allows them, as a test rig
    should (crawler/environment.py). Tests of the refusal remove the variable themselves."""
    before = os.environ.get("CITEWATCH_ALLOW_PRIVATE")
    os.environ["CITEWATCH_ALLOW_PRIVATE"] = "1"
    yield
    if before is None:
        os.environ.pop("CITEWATCH_ALLOW_PRIVATE", None)
    else:
        os.environ["CITEWATCH_ALLOW_PRIVATE"] = before


@pytest.fixture(autouse=True, scope="session")
def private_catalog_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """`status` keeps parsed catalogs in a cache folder (crawler/catalog/cache.py): the
    tests' subprocesses use one of the session's own, never the user's ~/.cache."""
    before = os.environ.get("CITEWATCH_CACHE_DIR")
    os.environ["CITEWATCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("catalog-cache"))
    yield
    if before is None:
        os.environ.pop("CITEWATCH_CACHE_DIR", None)
    else:
        os.environ["CITEWATCH_CACHE_DIR"] = before


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    """A fresh scripted HTTP server on 127.0.0.1 for one test."""
    with LocalServer() as server:
        yield server


@pytest.fixture(scope="session")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report folder of one real `citewatch demo` run (a subprocess), shared read-only."""
    out = tmp_path_factory.mktemp("demo-site")
    venv_cli = Path(__file__).resolve().parents[1] / ".venv/bin/citewatch"
    cli = shutil.which("citewatch") or str(venv_cli)
    done = subprocess.run(
        [cli, "demo", "--out", str(out)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out / "report"
