"""What a terminal shows while a crawl fetches: "fetched N/M", and Scrapy's log when asked."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Never

from tqdm import tqdm

from crawler.fetch import QUIET, FetchDisplay

FALLBACK_COLUMNS = 80  # the bar's width on a terminal that reports no size


@contextmanager
def fetch_display(*, show_progress: bool, verbose: bool) -> Iterator[FetchDisplay]:
    """The display of one crawl's fetch, closed (its bar cleared) when the fetch ends.

    The bar shows only on a terminal (stderr is a TTY) and not with `--json`, so logs, cron
    mail and scripts get no control characters. Scrapy's own log lines reach stderr only with
    `--verbose`: what they say about a page is in its failed fetch's error already.
    """
    log = _write_stderr if verbose else None
    if not (show_progress and sys.stderr.isatty()):
        yield FetchDisplay(child_log=log) if verbose else QUIET
        return
    bars: list[tqdm[Never]] = []  # made at the first call, when the total is known

    def progress(done: int, total: int) -> None:
        if not bars:
            bar = tqdm(
                total=total, desc="fetched", unit="page", file=sys.stderr, leave=False,
                ncols=_width(),
            )  # fmt: skip
            bars.append(bar)
        bar = bars[0]
        if done != bar.n:
            bar.update(done - bar.n)
            bar.refresh()  # update() skips drawing within its 0.1 s; the count must show

    try:
        yield FetchDisplay(progress=progress, child_log=log)
    finally:
        for bar in bars:
            bar.close()


def _width() -> int:
    """The terminal's width; 80 when it reports none (a fresh pseudo-terminal says 0, and
    tqdm then draws nothing at all)."""
    try:
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError):
        columns = 0
    return columns or FALLBACK_COLUMNS


def _write_stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()
