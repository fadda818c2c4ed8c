"""Crawl scale benchmark (not a test): selection, scheduling and a streaming crawl at size.

    .venv/bin/python bench/crawl_scale.py [--sizes 1000,10000,100000] [--pages 1000[,30000]]
        [--hosts 50] [--delay 1.0] [--skip-crawl] [--skip-bare]

For each size N (synthetic catalogs of N sources, 10 a tool, on N/100 hosts):
- catalog: `load_catalog` of the YAML folder (wall s);
- selection: `select_sources` of 10 % of the catalog (N/10 TOOL/SOURCE names; the issue's
  16.9 s was 10,000 names in 100,000 sources), and the scheduler's argv for all N;
- decision: one scheduler cycle's pure part over N sources with database state (half never
  fetched, half fetched a day ago): `timings` + `due_now` + per-host `batch`.
Then the crawl: `--pages` pages (legal-page-sized HTML, each different) served on `--hosts`
loopback addresses (127.0.0.1, 127.0.0.2, …), crawled once by `citewatch crawl --json` (a
child: wall, peak RSS of the crawl and its Scrapy child together, sampled every 0.1 s) and once
by a bare Scrapy spider fetching the same URLs with the same politeness settings (same wall
measure), in the same run. Figures are printed as one table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import psutil

from crawler.catalog.model import load_catalog
from crawler.catalog.selection import select_sources, write_selection
from crawler.run.limits import pages_per_host
from crawler.run.schedule import Policy, batch, due_now, timings
from crawler.run.scheduler import crawl_argv
from storage.scheduling import SourceSchedule

ROOT = Path(__file__).resolve().parent.parent
PER_TOOL = 10
SOURCES_PER_HOST = 100
SAMPLE_S = 0.1  # RSS sampling period of a crawl's process tree
T = TypeVar("T")
BARE_SPIDER = """
import scrapy

class Bare(scrapy.Spider):
    name = "bare"

    async def start(self):
        for url in open(self.urls, encoding="utf-8").read().split():
            yield scrapy.Request(url, dont_filter=True)

    def parse(self, response):
        return None
"""


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """fn's value and its wall seconds."""
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def write_catalog(folder: Path, n: int, url: Callable[[int], str]) -> Path:
    """N sources, PER_TOOL a tool file, source i at url(i)."""
    (folder / "tools").mkdir(parents=True)
    for t in range(n // PER_TOOL):
        lines = [f"id: t{t}", f"name: Tool {t}", "sources:"]
        for j in range(PER_TOOL):
            lines += [f"  - id: s{j}", f"    url: {url(t * PER_TOOL + j)}"]
        (folder / "tools" / f"t{t}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def synthetic_url(i: int) -> str:
    """A source URL of the size scenarios: SOURCES_PER_HOST sources a host."""
    return f"https://h{i // SOURCES_PER_HOST}.example/legal/{i}"


def size_figures(n: int, work: Path) -> dict[str, Any]:
    """Catalog load, selection, argv and one cycle's decision at N sources."""
    folder = write_catalog(work / f"cat{n}", n, synthetic_url)
    catalog, load_s = timed(lambda: load_catalog(folder))
    names = [f"t{t}/s{j}" for t in range(0, n // PER_TOOL, 10) for j in range(PER_TOOL)]
    picked, select_s = timed(lambda: select_sources(catalog, sources=names))
    everyone = [f"t{t}/s{j}" for t in range(n // PER_TOOL) for j in range(PER_TOOL)]
    selection = write_selection(work / f"sel{n}.txt", everyone)
    argv = crawl_argv("sqlite:///x.db", str(folder), selection, [], 3600.0)
    old_argv = sum(len("--source") + len(name) + 2 for name in everyone)
    now = datetime.now(UTC)
    known = {
        (f"t{t}", f"s{j}"): _schedule(f"t{t}", f"s{j}", synthetic_url(t * PER_TOOL + j), now)
        for t in range(0, n // PER_TOOL, 2)
        for j in range(PER_TOOL)
    }
    policy, cap = Policy(timedelta(days=1)), pages_per_host(3600.0, {})

    def decide() -> tuple[str, ...]:
        return batch(due_now(timings(catalog, known), policy, now), per_host=cap)

    chosen, decide_s = timed(decide)
    return {
        "n": n,
        "load_s": load_s,
        "select_names": len(names),
        "selected": len(picked),
        "select_s": select_s,
        "argv_bytes": sum(len(a) + 1 for a in argv),
        "old_argv_bytes": old_argv,
        "decide_s": decide_s,
        "chosen": len(chosen),
    }


def _schedule(tool: str, source: str, url: str, now: datetime) -> SourceSchedule:
    last = now - timedelta(days=1, hours=3)
    return SourceSchedule(
        tool=tool, source=source, url=url, last_fetch_at=last, last_ok_at=last,
        consecutive_failures=0, last_outcome="unchanged", last_error_kind=None,
        last_error=None, failing_since=None, failure_class=None, broken_since=None,
        retry_after=None,
    )  # fmt: skip


def legal_page(i: int, pad_kb: int = 0) -> bytes:
    """A policy page of about 20 KB of text, different for each i, and pad_kb KB of script."""
    clauses = "".join(
        f"<h2>Section {k}</h2><p>Clause {k} of policy {i}: we process personal data of "
        f"customers only on documented instructions, store it in the European Union and "
        f"delete it within {30 + (i + k) % 60} days after the end of the contract.</p>"
        for k in range(80)
    )
    html = f"<html><head><title>Policy {i}</title></head><body><main><h1>Policy {i}</h1>"
    pad = f"<script>var build = '{i:08d}{'x' * (pad_kb * 1024)}';</script>" if pad_kb else ""
    return (html + clauses + "</main>" + pad + "</body></html>").encode()


@contextmanager
def serve(hosts: int, pad_kb: int = 0) -> Iterator[list[str]]:
    """One HTTP server on each of 127.0.0.1 … 127.0.0.<hosts>; their base URLs."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            name = self.path.rsplit("/", 1)[-1]
            body = legal_page(int(name), pad_kb) if name.isdigit() else b"not found"
            self.send_response(200 if name.isdigit() else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    servers = [ThreadingHTTPServer((f"127.0.0.{h + 1}", 0), Handler) for h in range(hosts)]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield [f"http://127.0.0.{h + 1}:{s.server_address[1]}" for h, s in enumerate(servers)]
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def run_measured(argv: list[str], env: dict[str, str], code: Path) -> tuple[float, float, str]:
    """Run a child to its end: wall s, peak RSS (MB) of it and its descendants, its stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, env=env, cwd=code)
        peak = 0
        while proc.poll() is None:
            try:
                tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            except psutil.NoSuchProcess:
                pass
            time.sleep(SAMPLE_S)
        wall = time.perf_counter() - started
        out.seek(0)
        return wall, peak / 2**20, out.read().decode("utf-8", "replace")


def crawl_figures(
    pages: int,
    hosts: int,
    delay: float,
    work: Path,
    code: Path = ROOT,
    pad_kb: int = 0,
    bare: bool = True,
) -> dict[str, Any]:
    """`citewatch crawl` (of checkout `code`) vs a bare Scrapy spider: same pages and settings."""
    settings = {"DOWNLOAD_DELAY": str(delay), "AUTOTHROTTLE_ENABLED": "False"}
    env = {**os.environ, "CITEWATCH_ALLOW_PRIVATE": "1", "PYTHONPATH": str(code)}
    with serve(hosts, pad_kb) as bases:

        def url(i: int) -> str:
            return f"{bases[i % hosts]}/legal/{i}"

        folder = write_catalog(work / "crawl-cat", pages, url)
        urls = work / "urls.txt"
        urls.write_text("\n".join(url(i) for i in range(pages)), encoding="utf-8")
        spider = work / "bare.py"
        spider.write_text(BARE_SPIDER, encoding="utf-8")
        sets = [a for k, v in settings.items() for a in ("-s", f"{k}={v}")]
        db = f"sqlite:///{work / 'crawl.db'}"
        cw = [sys.executable, "-m", "crawler.cli", "--db", db, "crawl", str(folder), "--json"]
        cw_wall, cw_rss, stdout = run_measured([*cw, *sets], env, code)
        outcomes: dict[str, int] = {}
        for s in json.loads(stdout)["sources"]:
            outcomes[s["outcome"]] = outcomes.get(s["outcome"], 0) + 1
        bare_wall, bare_rss = float("nan"), float("nan")
        if bare:
            spider_argv = [sys.executable, "-m", "scrapy", "runspider", str(spider)]
            spider_argv += ["-a", f"urls={urls}"]
            polite = ["-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "LOG_LEVEL=WARNING"]
            bare_wall, bare_rss, _ = run_measured([*spider_argv, *sets, *polite], env, code)
    return {
        "pages": pages,
        "hosts": hosts,
        "delay": delay,
        "crawl_s": cw_wall,
        "crawl_rss_mb": cw_rss,
        "outcomes": outcomes,
        "bare_s": bare_wall,
        "bare_rss_mb": bare_rss,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument(
        "--pages", default="1000", help="pages to crawl; several (10000,30000): one crawl each"
    )
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--pad-kb", type=int, default=0, help="KB of script on each page")
    parser.add_argument("--skip-crawl", action="store_true")
    parser.add_argument(
        "--skip-bare", action="store_true", help="no bare Scrapy crawl (memory series only)"
    )
    parser.add_argument("--skip-sizes", action="store_true")
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="crawl with this checkout (before/after)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="citewatch-crawl-scale-") as tmp:
        work = Path(tmp)
        print("| sources | catalog load | select 10 % | argv (old argv) | cycle decision |")
        print("|---:|---:|---:|---:|---:|")
        sizes = () if args.skip_sizes else args.sizes.split(",")
        for n in (int(size) for size in sizes):
            f = size_figures(n, work)
            print(
                f"| {n:,} | {f['load_s']:.2f} s | {f['select_s']:.3f} s ({f['selected']:,}) | "
                f"{f['argv_bytes']:,} B ({f['old_argv_bytes']:,} B) | "
                f"{f['decide_s']:.3f} s ({f['chosen']:,} due) |",
                flush=True,
            )
        for pages in () if args.skip_crawl else (int(p) for p in args.pages.split(",")):
            c = crawl_figures(
                pages,
                args.hosts,
                args.delay,
                work / f"crawl-{pages}",
                args.code.resolve(),
                args.pad_kb,
                not args.skip_bare,
            )
            ratio = c["crawl_s"] / c["bare_s"]
            print(
                f"\ncrawl of {c['pages']:,} pages (+{args.pad_kb} KB) on {c['hosts']} hosts, "
                f"DOWNLOAD_DELAY "
                f"{c['delay']:g}: citewatch crawl {c['crawl_s']:.1f} s, peak RSS "
                f"{c['crawl_rss_mb']:.0f} MB ({c['outcomes']}); bare Scrapy {c['bare_s']:.1f} s, "
                f"{c['bare_rss_mb']:.0f} MB; ratio {ratio:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
