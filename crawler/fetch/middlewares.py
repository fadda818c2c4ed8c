"""Downloader middlewares: robots.txt that holds under concurrency, Retry-After, fetch timing."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.asyncio import call_later
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.robotstxt import RobotParser

RETRY_AFTER_STATUSES = (429, 503)  # the statuses whose Retry-After means "come back later"
DEFAULT_RETRY_AFTER_MAX_DELAY = 120.0  # seconds; used when RETRY_AFTER_MAX_DELAY is not set
STARTED_AT = "citewatch_started_at"  # meta key: (wall clock, monotonic) of the first attempt


class RobotsTxtForbidden(IgnoreRequest):
    """robots.txt disallows the request (a distinct type, so results can say "robots")."""


class SafeRobotsTxtMiddleware(RobotsTxtMiddleware):
    """RobotsTxtMiddleware that still applies robots.txt to the 3rd+ concurrent request per host.

    Scrapy 2.14-2.19 awaits the per-host Deferred through `Deferred.asFuture()`, whose callback
    returns None: every waiter after the first gets None ("no parser") and is let through.
    The parser is stored in `_parsers` before the Deferred fires, so fall back to it.
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        """The host's parsed robots.txt, or None when it could not be fetched."""
        parser: RobotParser | None = await super().robot_parser(request)
        if parser is None:
            cached = self._parsers.get(urlparse_cached(request).netloc)
            if cached is not None and not isinstance(cached, Deferred):
                parser = cached
        return parser

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        """Raise RobotsTxtForbidden instead of a bare IgnoreRequest for disallowed URLs."""
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest as exc:
            raise RobotsTxtForbidden(str(exc)) from exc


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds a Retry-After value (delta-seconds or HTTP-date) asks for; None if unusable."""
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # HTTP-dates are GMT; a zone-less one is malformed but common
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


class RetryAfterMiddleware:
    """Honour Retry-After on 429/503: pause the host's slot, or give up if it asks too much.

    Scrapy ignores Retry-After and retries at once (scrapy#3849). Placed above RetryMiddleware
    (550) so this runs first: the retry it schedules then waits in the paused slot.
    A wait above RETRY_AFTER_MAX_DELAY sets `dont_retry`; the page's result carries the
    `retry_after` value and the next scheduled run tries again.
    """

    def __init__(self, crawler: Crawler) -> None:
        self._crawler = crawler
        self._max_delay = crawler.settings.getfloat(
            "RETRY_AFTER_MAX_DELAY", DEFAULT_RETRY_AFTER_MAX_DELAY
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        """Build the middleware for a crawler (Scrapy's factory hook)."""
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        """Pause the slot for the requested time, or mark the request as not to be retried."""
        if response.status not in RETRY_AFTER_STATUSES:
            return response
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if wait is None:
            return response
        if wait > self._max_delay:
            request.meta["dont_retry"] = True
        else:
            self._pause_slot(request, wait)
        return response

    def _pause_slot(self, request: Request, wait: float) -> None:
        # Internal downloader API (pinned by tests/test_crawler_fetch.py): a slot with a pending
        # `latercall` dispatches nothing until it fires. Unlike raising `slot.delay`, this is
        # exact (no DOWNLOAD_DELAY_JITTER), works with a zero delay and leaves the delay alone.
        engine = self._crawler.engine
        if engine is None:
            return
        downloader = engine.downloader
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is None:
            return
        if slot.latercall is not None:
            slot.latercall.cancel()
        slot.lastseen = time.monotonic()  # the normal delay counts from now once the pause ends
        slot.latercall = call_later(wait, downloader._latercall, slot)


class FetchTimingMiddleware:
    """Stamp each request with the time it entered the downloader, kept across retries/redirects.

    A result's elapsed_ms runs from this stamp, so it includes waiting for the host's slot
    (DOWNLOAD_DELAY, a Retry-After pause, robots.txt) as well as the transfers themselves.
    """

    def process_request(self, request: Request) -> None:
        """Record the first-attempt time in meta; Scrapy copies meta to retries and redirects."""
        request.meta.setdefault(STARTED_AT, (datetime.now(UTC), time.monotonic()))
