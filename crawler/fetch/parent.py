"""Fetch pages in a Scrapy child process and hand back one plain result per request.

This side never imports Scrapy or Twisted: the scheduler that calls it stays small and
reactor-free, and each crawl gets a fresh process (a reactor cannot restart). The child is
`python -m crawler.fetch.child JOBFILE OUTDIR [-s NAME=VALUE]...`, run under the one
process supervisor (`crawler.run.supervisor`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from crawler.fetch.jobs import read_results, write_job
from crawler.fetch.request import (
    FetchError,
    FetchRequest,
    FetchResult,
    failed_result,
    redacted,
)
from crawler.fetch.urls import is_fetchable, redact, scheme_of, url_problem
from crawler.run.limits import DEFAULT_LIMITS, with_soft_stop
from crawler.run.supervisor import (
    SCRAPY_GRACE,
    STDERR_TAIL,
    SupervisorError,
    python_module,
    run_child,
)

FIRST_TERM_GRACE = SCRAPY_GRACE.first  # seconds of Scrapy's graceful stop before it is forced
CHILD_MODULE = "crawler.fetch.child"
TMP_PREFIX = "citewatch-fetch-"  # fetch_all's work folder; the child may remove only such
_NO_SETTINGS: Mapping[str, str] = MappingProxyType({})  # an immutable `{}` default

__all__ = ["QUIET", "FetchDisplay", "FetchError", "FetchRequest", "FetchResult", "fetch_all"]


@dataclass(frozen=True, slots=True)
class FetchDisplay:
    """What a person sees of a fetch while it runs; nothing by default.

    `progress(done, total)` is called as result files land (about twice a second);
    `child_log(text)` gets the Scrapy child's own log lines (its errors are in the results
    already, so a terminal shows them only when asked: `crawl --verbose`).
    """

    progress: Callable[[int, int], None] | None = None
    child_log: Callable[[str], None] | None = None


QUIET = FetchDisplay()


def fetch_all(
    requests: Sequence[FetchRequest],
    *,
    settings: Mapping[str, str] = _NO_SETTINGS,
    timeout: float = DEFAULT_LIMITS.fetch_s,
    display: FetchDisplay = QUIET,
) -> list[FetchResult]:
    """Fetch every request in a child process; one FetchResult per request, in request order.

    ``timeout`` is the child's hard limit; its soft stop (CLOSESPIDER_TIMEOUT) is derived
    from it unless the settings give one (crawler/run/limits.py; ValueError if too long).
    """
    settings = with_soft_stop(settings, timeout)
    results: dict[int, FetchResult] = {}
    pending: list[tuple[int, FetchRequest]] = []
    for index, request in enumerate(requests):
        if not is_fetchable(request.url):
            results[index] = failed_result(request, "scheme", _scheme_error(request.url))
        elif (problem := url_problem(request.url)) is not None:
            results[index] = failed_result(request, "url", f"not fetched: {problem}")
        else:
            pending.append((index, request))
    if pending:
        results.update(_crawl(pending, settings, timeout, display, len(requests)))
    # No password leaves the fetch stage: not in a stored URL, an error, a report.
    return [redacted(results[index]) for index in range(len(requests))]


def _landed(out: Path) -> int:
    """Result files the child has written so far (each lands by atomic rename)."""
    with os.scandir(out) as entries:
        return sum(1 for e in entries if e.name.endswith(".json"))


def _scheme_error(url: str) -> str:
    scheme = scheme_of(url) or "(none)"
    return f"not fetched: URL scheme {scheme!r} is not http or https"


def _crawl(
    pending: list[tuple[int, FetchRequest]],
    settings: Mapping[str, str],
    timeout: float,
    display: FetchDisplay,
    total: int,
) -> dict[int, FetchResult]:
    started_at = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix=TMP_PREFIX) as tmp:
        job, out = Path(tmp) / "job.json", Path(tmp) / "out"
        out.mkdir()
        write_job(job, pending)
        argv = python_module(CHILD_MODULE, str(job), str(out))
        for name, value in settings.items():
            argv += ["-s", f"{name}={value}"]
        progress = display.progress
        done_before = total - len(pending)  # the unfetchable ones: failed already

        def on_wait() -> None:
            if progress is not None:
                progress(done_before + _landed(out), total)

        try:
            child = run_child(
                argv, timeout, grace=SCRAPY_GRACE, merge_stdout=True, stderr_tail=None,
                on_wait=on_wait if progress is not None else None,
            )  # fmt: skip
        except SupervisorError as exc:
            raise FetchError(f"cannot start the crawl child: {exc}") from exc
        found = read_results(out)
    if progress is not None:
        progress(done_before + len(found), total)
    if child.stderr and display.child_log is not None:
        # Scrapy's warnings stay visible (stdout stays clean: it may carry `crawl --json`),
        # with no password in a URL.
        display.child_log(redact(child.stderr))
    # A positive code with nothing written: the child reported that it couldn't crawl at all
    # (bad setting, import error). Killed by a signal (OOM, us) means pages are "crawl-killed".
    if not found and child.returncode > 0 and not child.killed:
        raise FetchError(
            f"crawl child exited with code {child.returncode}: "
            f"{redact(child.stderr[-STDERR_TAIL:]).strip()}"
        )
    if child.killed:
        why = f"crawl killed at the {timeout:g} s hard timeout before this page finished"
    else:
        why = f"crawl child exited (code {child.returncode}) before this page finished"
    return {
        index: found.get(index) or failed_result(request, "crawl-killed", why, started_at)
        for index, request in pending
    }
