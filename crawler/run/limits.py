"""The time limits of one crawl, all derived from one number: its budget.

The budget is `run --crawl-timeout` (the scheduler's hard kill of its `citewatch crawl`
child) or `crawl --timeout`; both default to DEFAULT_BUDGET_S. Inside it the limits nest, so
that each stage ends on its own before the one above it has to kill it:

    budget        the crawl process, from its start      killed by `run` (SIGTERM, SIGKILL)
    - record      start-up before the fetch and recording of every result after it
    = fetch limit the Scrapy child, from its start        killed by `fetch_all`
    - stop        Scrapy's start-up before the spider opens and its clean stop after
    = CLOSESPIDER_TIMEOUT, from spider open               Scrapy closes the spider itself

Why the margins:
- stop (STOP_MARGIN_S, 120 s): a soft stop schedules nothing new but waits for requests
  already in the downloader: a download ends within DOWNLOAD_TIMEOUT (30 s), a request queued
  behind its host's delay waits up to AUTOTHROTTLE_MAX_DELAY (60 s); the rest covers Scrapy's
  start-up, since CLOSESPIDER_TIMEOUT counts from spider open. A soft stop keeps every page
  fetched, and the pages never started are "crawl-killed" failures, retried next run.
- record (RECORD_SHARE of the budget, at least RECORD_MIN_S): the crawl process extracts,
  diffs and records each page as it lands, while the fetch goes on; what landed last (and
  every page, when recording is slower than fetching) is recorded after it, which grows with
  the pages a budget fetches, hence a share. Ending the fetch there lets the crawl record what
  it fetched and exit, instead of being killed with it unrecorded (the minimum also covers
  the fetch child's own SIGTERM grace, SCRAPY_GRACE: 8 s).

A limit too short to spare a margin (under twice the margin) keeps all of its time: the
limit above then ends an overrun crawl, by a kill (tests use budgets of a few seconds).

Per-host batching (`citewatch run`): one request per host at a time and a delay between them
make a host's pages take pages × the host's pace, whatever the other hosts do. A cycle gives
one crawl at most `pages_per_host` pages of a host, so that they fit in its soft stop; the rest
stay due and go in the next cycles (a host with more due pages than a crawl can fetch used to
have its tail cut by the soft stop, as "crawl-killed" failures, every run).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_BUDGET_S = 3600.0  # one crawl of a catalog: daily pages, an hour is plenty
STOP_MARGIN_S = 120.0  # from CLOSESPIDER_TIMEOUT to the fetch child's hard kill (see above)
RECORD_SHARE = 0.1  # of the budget: recording after the fetch (see above)
RECORD_MIN_S = 60.0
SOFT_STOP = "CLOSESPIDER_TIMEOUT"  # the Scrapy setting the soft stop is given as
# Politeness: seconds between two requests to one host (Scrapy's DOWNLOAD_DELAY, and where
# AutoThrottle starts each host; crawler/fetch/settings.py takes both from here). Pages change
# daily, not by the second.
DOWNLOAD_DELAY_S = 1.0
# Share of the soft stop a host's pages may fill at its pace. Scrapy randomizes each delay
# between 0.5 and 1.5 times DOWNLOAD_DELAY (1.0 on average), and AutoThrottle slows a host
# that answers slowly; retries (RETRY_TIMES 2) and redirects are more requests. The other 20 %
# absorb that, so a batch normally ends well before the soft stop.
HOST_SHARE = 0.8
# A page's least cost on its host when no delay is set (-s DOWNLOAD_DELAY=0, no AutoThrottle):
# one request at a time still waits for each answer; a legal page over the Internet takes a
# few hundred milliseconds (a local test server answers in about 5 ms).
PAGE_FLOOR_S = 0.25


@dataclass(frozen=True, slots=True)
class CrawlLimits:
    """Seconds each stage of one crawl may take, outermost first."""

    budget_s: float  # the whole crawl process
    fetch_s: float  # the Scrapy child: fetch_all's hard kill
    spider_s: float  # CLOSESPIDER_TIMEOUT: Scrapy's own clean stop


def fetch_limit(budget_s: float) -> float:
    """The fetch child's hard limit within a crawl's budget."""
    _positive("a crawl's time budget", budget_s)
    record = max(RECORD_MIN_S, budget_s * RECORD_SHARE)
    return budget_s - record if budget_s >= 2 * record else budget_s


def spider_limit(fetch_s: float) -> float:
    """CLOSESPIDER_TIMEOUT within the fetch child's hard limit."""
    _positive("the fetch child's time limit", fetch_s)
    return fetch_s - STOP_MARGIN_S if fetch_s >= 2 * STOP_MARGIN_S else fetch_s


def crawl_limits(budget_s: float) -> CrawlLimits:
    """Every limit of a crawl, from its budget."""
    fetch_s = fetch_limit(budget_s)
    return CrawlLimits(budget_s, fetch_s, spider_limit(fetch_s))


def with_soft_stop(settings: Mapping[str, str], fetch_s: float) -> dict[str, str]:
    """The Scrapy settings with CLOSESPIDER_TIMEOUT derived from the fetch child's hard limit.

    An explicit `-s CLOSESPIDER_TIMEOUT=N` wins when 0 < N <= the hard limit; anything else
    is a ValueError: a soft stop after the hard kill (or none, 0) would never run.
    """
    _positive("the fetch child's time limit", fetch_s)
    given = settings.get(SOFT_STOP)
    if given is None:
        return {**settings, SOFT_STOP: seconds_text(spider_limit(fetch_s))}
    try:
        seconds = float(given)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= fetch_s:  # NaN fails too; a finite hard limit rules out inf
        raise ValueError(
            f"{SOFT_STOP}={given} must be a number of seconds above 0 and at most "
            f"{seconds_text(fetch_s)}, the fetch's hard limit within this crawl's time budget; "
            f"leave it out to get {seconds_text(spider_limit(fetch_s))}, or give a longer budget"
        )
    return dict(settings)


def host_page_s(settings: Mapping[str, str]) -> float:
    """Seconds one page costs its host: the larger of DOWNLOAD_DELAY and AutoThrottle's start.

    The settings are the `-s` values of the crawl (checked by the CLI: numbers and yes/no).
    """
    delay = float(settings.get("DOWNLOAD_DELAY", DOWNLOAD_DELAY_S))
    throttled = settings.get("AUTOTHROTTLE_ENABLED", "True").strip().lower() in ("true", "1")
    start = float(settings.get("AUTOTHROTTLE_START_DELAY", DOWNLOAD_DELAY_S)) if throttled else 0
    return max(delay, start, PAGE_FLOOR_S)


def pages_per_host(budget_s: float, settings: Mapping[str, str]) -> int:
    """How many pages of one host a crawl of this budget fetches before its soft stop.

    HOST_SHARE of the soft stop (CLOSESPIDER_TIMEOUT, derived from the budget unless given)
    at the host's pace, less one request for its robots.txt; at least 1, so a host always moves.
    """
    spider_s = float(settings.get(SOFT_STOP, crawl_limits(budget_s).spider_s))
    fits = math.floor(spider_s * HOST_SHARE / host_page_s(settings))
    return max(1, fits - 1)


def seconds_text(seconds: float) -> str:
    """Seconds as a command-line value: exact, and without ".0" when whole."""
    whole = math.isfinite(seconds) and seconds == int(seconds)
    return str(int(seconds)) if whole else repr(seconds)


def _positive(what: str, seconds: float) -> None:
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(
            f"{what} must be a finite number above 0 seconds, got {seconds_text(seconds)}"
        )


DEFAULT_LIMITS = crawl_limits(DEFAULT_BUDGET_S)
