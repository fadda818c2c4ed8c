"""Fetch pages in a Scrapy child process and hand back one plain result per request.

This side never imports Scrapy or Twisted: the scheduler that calls it stays small and
reactor-free, and each crawl gets a fresh process (a reactor cannot restart). The child is
`python -m crawler.fetch.child JOBFILE OUTDIR [-s NAME=VALUE]...`, run under the one
process supervisor (`crawler.run.supervisor`); the requests travel in the job file, so a
selection of any size starts. Results stream: `fetch_each` hands each one over as the child
writes it, while the child goes on, and removes its files, so memory and disk hold one body
at a time, not the crawl.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from crawler.fetch.jobs import landed, take_result, write_job
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
# Seconds of handing over landed results (the caller analyses and records each) before the
# supervisor looks at the child again: a hard time limit is then enforced at most this late
# (plus one page's recording, bounded by the analysis limits of the README).
HANDOVER_SLICE_S = 1.0

OnResult = Callable[[int, FetchResult], None]

__all__ = [
    "QUIET",
    "FetchDisplay",
    "FetchError",
    "FetchRequest",
    "FetchResult",
    "OnResult",
    "fetch_all",
    "fetch_each",
]


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

    Holds every body until the end: for a few pages (`citewatch extract`, tests). A crawl
    uses `fetch_each`.
    """
    results: dict[int, FetchResult] = {}
    fetch_each(requests, results.__setitem__, settings=settings, timeout=timeout, display=display)
    return [results[index] for index in range(len(requests))]


def fetch_each(
    requests: Sequence[FetchRequest],
    on_result: OnResult,
    *,
    settings: Mapping[str, str] = _NO_SETTINGS,
    timeout: float = DEFAULT_LIMITS.fetch_s,
    display: FetchDisplay = QUIET,
) -> None:
    """Fetch every request in a child process; ``on_result(index, result)`` once per request.

    Results are handed over as they land, in no set order, while the child still fetches;
    what the child never wrote is a "crawl-killed" failure at the end. ``timeout`` is the
    child's hard limit; its soft stop (CLOSESPIDER_TIMEOUT) is derived from it unless the
    settings give one (crawler/run/limits.py; ValueError if too long). An exception of
    ``on_result`` stops the child and propagates.
    """
    settings = with_soft_stop(settings, timeout)
    refused: list[tuple[int, FetchResult]] = []
    pending: list[tuple[int, FetchRequest]] = []
    for index, request in enumerate(requests):
        if not is_fetchable(request.url):
            refused.append((index, failed_result(request, "scheme", _scheme_error(request.url))))
        elif (problem := url_problem(request.url)) is not None:
            refused.append((index, failed_result(request, "url", f"not fetched: {problem}")))
        else:
            pending.append((index, request))

    def hand_over(index: int, result: FetchResult) -> None:
        # No password leaves the fetch stage: not in a stored URL, an error, a report.
        on_result(index, redacted(result))

    if pending:
        awaited = {index for index, _ in pending}
        _crawl(pending, settings, timeout, display, _Handover(hand_over, len(requests), awaited))
    for index, result in refused:  # after the crawl: a child that cannot start records nothing
        hand_over(index, result)


def _scheme_error(url: str) -> str:
    scheme = scheme_of(url) or "(none)"
    return f"not fetched: URL scheme {scheme!r} is not http or https"


class _Handover:
    """Hands each awaited result over once, and counts them (progress, the child's exit)."""

    def __init__(self, on_result: OnResult, total: int, awaited: set[int]) -> None:
        self.on_result = on_result
        self.total = total
        self.awaited = awaited  # positions sent to the child and not handed over yet
        self.taken = 0

    def take(self, out: Path, deadline: float | None = None) -> bool:
        """Hand over what has landed (until ``deadline``); whether some is left for later."""
        for index in landed(out):
            if deadline is not None and time.monotonic() >= deadline:
                return True
            result = take_result(out, index)  # its files go in any case
            if index in self.awaited:  # never twice, nor a position the job did not hold
                self.awaited.discard(index)
                self.taken += 1
                self.on_result(index, result)
        return False


def _crawl(
    pending: list[tuple[int, FetchRequest]],
    settings: Mapping[str, str],
    timeout: float,
    display: FetchDisplay,
    handover: _Handover,
) -> None:
    started_at = datetime.now(UTC)
    progress = display.progress
    done_before = handover.total - len(pending)  # the unfetchable ones: failed already

    def show() -> None:
        if progress is not None:
            progress(done_before + handover.taken, handover.total)

    with tempfile.TemporaryDirectory(prefix=TMP_PREFIX) as tmp:
        job, out = Path(tmp) / "job.json", Path(tmp) / "out"
        out.mkdir()
        write_job(job, pending)
        argv = python_module(CHILD_MODULE, str(job), str(out))
        for name, value in settings.items():
            argv += ["-s", f"{name}={value}"]

        def on_wait() -> bool:
            busy = handover.take(out, time.monotonic() + HANDOVER_SLICE_S)
            show()
            return busy

        try:
            child = run_child(
                argv, timeout, grace=SCRAPY_GRACE, merge_stdout=True, stderr_tail=None,
                on_wait=on_wait,
            )  # fmt: skip
        except SupervisorError as exc:
            raise FetchError(f"cannot start the crawl child: {exc}") from exc
        handover.take(out)  # what landed last: the child is gone, no more slices
    show()
    if child.stderr and display.child_log is not None:
        # Scrapy's warnings stay visible (stdout stays clean: it may carry `crawl --json`),
        # with no password in a URL.
        display.child_log(redact(child.stderr))
    # A positive code with nothing written: the child reported that it couldn't crawl at all
    # (bad setting, import error). Killed by a signal (OOM, us) means pages are "crawl-killed".
    if not handover.taken and child.returncode > 0 and not child.killed:
        raise FetchError(
            f"crawl child exited with code {child.returncode}: "
            f"{redact(child.stderr[-STDERR_TAIL:]).strip()}"
        )
    if child.killed:
        why = f"crawl killed at the {timeout:g} s hard timeout before this page finished"
    else:
        why = f"crawl child exited (code {child.returncode}) before this page finished"
    for index, request in pending:
        if index in handover.awaited:
            handover.on_result(index, failed_result(request, "crawl-killed", why, started_at))
    show()
