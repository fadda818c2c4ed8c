"""The fetch child: `python -m crawler.fetch.child JOBFILE OUTDIR [-s NAME=VALUE]...`.

Runs the `sources` spider over a job file and writes one result file per page. This is the
only module that imports `spiders/` (and, with it, Scrapy and Twisted).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crawler.fetch.destinations import SETTING, destination_policy

PARENT_POLL = 0.5  # seconds between the child's checks that its parent is still there
_TMP_PREFIX = "citewatch-fetch-"  # crawler.fetch.parent.TMP_PREFIX: the only folders we remove


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.fetch.child", description="Fetch a job file's pages into OUTDIR."
    )
    parser.add_argument("job", type=Path, help="job file written by fetch_all")
    parser.add_argument("out", type=Path, help="directory for <n>.json and <n>.body results")
    parser.add_argument(
        "-s", "--set", action="append", default=[], metavar="NAME=VALUE", help="Scrapy setting"
    )
    args = parser.parse_args(argv)
    for item in args.set:
        if "=" not in item:
            parser.error(f"-s expects NAME=VALUE, got {item!r}")
    return args


def exit_with_parent(workdir: Path, poll: float = PARENT_POLL) -> threading.Thread:
    """Stop the child when its parent dies (SIGKILL): nobody would read its results.

    The child runs in its own session so that the parent can stop its whole tree; the flip
    side is that a killed parent would leave it crawling for up to CLOSESPIDER_TIMEOUT, and
    its temporary folder (the parent's) behind. Orphaned, it removes that folder and exits.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        shutil.rmtree(workdir, ignore_errors=True)
        os._exit(3)

    thread = threading.Thread(target=watch, name="exit-with-parent", daemon=True)
    thread.start()
    return thread


def one_line_log_records() -> None:
    """Log every error as one line: its message and the exception's, without the traceback.

    Scrapy logs some expected failures with their traceback (a robots.txt that could not be
    downloaded: a host that does not resolve, a refused destination), and the parent passes
    the child's stderr on to the user. `-s LOG_LEVEL=DEBUG` keeps the tracebacks.
    """
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            message, detail = record.getMessage(), f"{type(exc).__name__}: {exc}"
            record.msg = message if str(exc) and str(exc) in message else f"{message} ({detail})"
            record.args, record.exc_info, record.exc_text = None, None, None
        return record

    logging.setLogRecordFactory(factory)


def _configure_rendering(settings: Any, job: Path) -> None:
    """Route rendered requests to Chromium when the job may render and Chromium is there.

    No source that may render (all `render: false`): no browser and no Playwright driver.
    Chromium missing: RENDER_PROBLEM says so, and each page that needs it fails alone.
    """
    from crawler.fetch.jobs import read_job
    from crawler.fetch.render import (
        CHROMIUM_PATH,
        CHROMIUM_SETTING,
        BrowserGate,
        browser_settings,
        chromium_problem,
    )
    from spiders.sources import RENDER_PROBLEM

    if all(request.render == "never" for _, request in read_job(job)):
        return
    chromium = settings.get(CHROMIUM_SETTING) or CHROMIUM_PATH
    problem = chromium_problem(chromium)
    settings.set(RENDER_PROBLEM, problem or "", priority="cmdline")
    if problem is None:
        timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
        settings.setdict(browser_settings(chromium, timeout), priority="project")
        gate = BrowserGate(destination_policy(settings.get(SETTING)))
        settings.set("PLAYWRIGHT_ABORT_REQUEST", gate, priority="project")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `sources` spider over a job file; exit code 1 if it can't."""
    args = _parse_args(argv)
    if args.job.parent.name.startswith(_TMP_PREFIX):
        exit_with_parent(args.job.parent)
    from scrapy.crawler import AsyncCrawlerProcess
    from scrapy.settings import Settings

    from spiders.sources import SourcesSpider

    settings = Settings()
    settings.setmodule("crawler.fetch.settings", priority="project")
    # Same as `scrapy crawl -s`: strings at "cmdline" priority, converted by the getters.
    settings.setdict(dict(item.split("=", 1) for item in args.set), priority="cmdline")
    try:  # here, not in the resolver: a bad value is one line, not a traceback at reactor start
        destination_policy(settings.get(SETTING))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    _configure_rendering(settings, args.job)
    if settings.get("LOG_LEVEL") != "DEBUG":
        one_line_log_records()
    process = AsyncCrawlerProcess(settings)
    process.crawl(SourcesSpider, job=str(args.job), out=str(args.out))
    process.start()
    if process.bootstrap_failed:
        print("crawl failed to start; see the log above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
