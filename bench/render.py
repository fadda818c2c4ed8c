"""Rendering benchmark (not a test): N pages fetched plain, then the same N rendered, one run.

    python bench/render.py [--pages 100] [--per-host 4] [--out render.json]

A local server on 127.0.0.1 serves N distinct pages whose text a script puts in after 300 ms
(the `render: auto` case). Both passes go through the real fetch child (crawler.fetch.parent):
`render: never` (plain Scrapy) and `render: always` (plain fetch, then Chromium). Printed per
pass: pages/s, and the peak RSS of the fetch child's process tree (the child, Playwright's
driver, Chromium and its renderers; psutil, sampled every 0.1 s), the browser's part apart;
and the screenshot bytes per page. `--per-host` is CONCURRENT_REQUESTS_PER_DOMAIN: the local
server is one host, and citewatch's default of 1 would measure the server's politeness, not
the browser.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections.abc import Callable
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psutil

from crawler.fetch.parent import fetch_all
from crawler.fetch.render import RENDER_MAX_PAGES
from crawler.fetch.request import FetchRequest, FetchResult

SAMPLE_S = 0.1  # RSS sampling period


def page(n: int) -> bytes:
    """Page n: a shell whose policy text (about 2 KB) a script inserts after 300 ms."""
    paragraphs = "".join(
        f"<p>Section {i} of policy {n}: we process personal data only as described here.</p>"
        for i in range(25)
    )
    return (
        '<!doctype html><html><head><title>Policy</title></head><body><div id="root"></div>'
        "<script>setTimeout(function () { document.getElementById('root').innerHTML ="
        f" '<h1>Policy {n}</h1>{paragraphs}'; }}, 300);</script></body></html>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if not self.path.startswith("/p/"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = page(int(self.path[3:]))
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _tree_rss() -> tuple[int, int]:
    """(RSS of every descendant of this process, RSS of the Chromium processes among them)."""
    total = browser = 0
    for proc in psutil.Process().children(recursive=True):
        try:
            rss = proc.memory_info().rss
            total += rss
            if "chrom" in proc.name().lower():
                browser += rss
        except psutil.NoSuchProcess:
            continue
    return total, browser


def measured(run: Callable[[], list[FetchResult]]) -> tuple[list[FetchResult], float, int, int]:
    """Run a pass; (its results, seconds, peak tree RSS, peak browser RSS)."""
    peaks = [0, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            total, browser = _tree_rss()
            peaks[0], peaks[1] = max(peaks[0], total), max(peaks[1], browser)
            time.sleep(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    results = run()
    elapsed = time.monotonic() - started
    done.set()
    sampler.join()
    return results, elapsed, peaks[0], peaks[1]


def main() -> None:
    """Measure both passes and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--per-host", type=int, default=RENDER_MAX_PAGES)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    os.environ["CITEWATCH_ALLOW_PRIVATE"] = "127.0.0.1"  # the local server
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/p/"
    settings = {
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "False",
        "CONCURRENT_REQUESTS_PER_DOMAIN": str(args.per_host),
    }
    report: dict[str, Any] = {"pages": args.pages, "per_host": args.per_host}
    for mode in ("never", "always"):
        requests = [
            FetchRequest(key=f"p{n}", url=f"{base}{n}", render=mode) for n in range(args.pages)
        ]
        results, seconds, peak, browser = measured(partial(fetch_all, requests, settings=settings))
        ok = [r for r in results if r.error is None and r.body]
        shots = [len(r.screenshot) for r in results if r.screenshot]
        report[mode] = {
            "ok": len(ok),
            "seconds": round(seconds, 2),
            "pages_per_s": round(len(results) / seconds, 2),
            "peak_rss_mb": round(peak / 2**20, 1),
            "peak_browser_rss_mb": round(browser / 2**20, 1),
            "screenshot_bytes_mean": round(sum(shots) / len(shots)) if shots else None,
        }
    server.shutdown()
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
