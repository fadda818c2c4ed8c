"""The fetch child: `python -m crawler.fetch.child JOBFILE OUTDIR [-s NAME=VALUE]...`.

Runs the `sources` spider over a job file and writes one result file per page. This is the
only module that imports `spiders/` (and, with it, Scrapy and Twisted).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

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
    process = AsyncCrawlerProcess(settings)
    process.crawl(SourcesSpider, job=str(args.job), out=str(args.out))
    process.start()
    if process.bootstrap_failed:
        print("crawl failed to start; see the log above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
