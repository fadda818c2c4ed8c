"""Downloader middlewares: robots.txt that holds under concurrency, Retry-After, fetch timing,
and redirects that never lead where a crawl must not go."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.asyncio import call_later
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from w3lib.url import safe_url_string

from crawler.fetch.urls import is_fetchable, quoted, url_problem
from storage.scheduling import RETRY_AFTER_MAX_S

if TYPE_CHECKING:
    from scrapy import Spider
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
    """Seconds a Retry-After value (delta-seconds or HTTP-date) asks for, clamped to
    [0, RETRY_AFTER_MAX_S]; None if unusable (NaN, garbage)."""
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:  # HTTP-dates are GMT; a zone-less one is malformed but common
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds):
        return None
    # "1e23", "inf" or a date in the year 9999 would be stored as is and overflow every due
    # time computed from it; no server needs us away for more than a day.
    return min(max(0.0, seconds), RETRY_AFTER_MAX_S)


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


# --- redirects ---------------------------------------------------------------------------------

REDIRECT_STATUSES = (301, 302, 303, 307, 308)  # the statuses RedirectMiddleware follows


class RefusedResponse(IgnoreRequest):
    """A response the crawl does not accept, kept (like HttpError's) for its status and URL."""

    def __init__(self, message: str, response: Response) -> None:
        super().__init__(message)
        self.response = response


class RefusedRedirect(RefusedResponse):
    """A redirect to a URL a crawl never requests (not http(s), credentials, a bad port)."""


class UnreadableBody(RefusedResponse):
    """A body that cannot be decoded with the charset it declares."""


def redirect_target(request: Request, response: Response) -> str | None:
    """The absolute URL a 3xx response sends the request to (RedirectMiddleware's reading)."""
    location = response.headers.get(b"Location")
    if response.status not in REDIRECT_STATUSES or location is None:
        return None
    try:
        target = safe_url_string(location)
    except ValueError:  # a port out of range: url_problem will say so
        target = location.decode("latin-1")
    if location.startswith(b"//"):
        target = f"{urlparse_cached(request).scheme}://{target.lstrip('/')}"
    try:
        return urljoin(request.url, target)
    except ValueError:  # "Invalid IPv6 URL": url_problem will say so
        return target


def _may_redirect(request: Request, response: Response) -> bool:
    """Whether RedirectMiddleware would consider following this response at all."""
    meta = request.meta
    return not (
        meta.get("dont_redirect", False)
        or meta.get("handle_httpstatus_all", False)
        or response.status in meta.get("handle_httpstatus_list", ())
    )


class SafeRedirectMiddleware(RedirectMiddleware):
    """RedirectMiddleware that refuses, as a failed fetch, what it would not or could not follow.

    Stock Scrapy hands a redirect to `file:`/`ftp:` back as the 3xx response itself (which read
    as a server error: transient), and one to `javascript:` or a URL with a bad port or a
    password fails with a ValueError (transient as well). Both are a site sending us where we
    do not go: RefusedRedirect, class `blocked`, with the target in the reason.
    """

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        """Follow the redirect like Scrapy, or raise RefusedRedirect naming why not."""
        if _may_redirect(request, response):
            target = redirect_target(request, response)
            if target is not None:
                problem = url_problem(target) if is_fetchable(target) else "not an http(s) URL"
                if problem is not None:
                    why = f"redirect to {quoted(target)} not followed: {problem}"
                    raise RefusedRedirect(why, response)
        try:
            return super().process_response(request, response)
        except ValueError as exc:  # a target Request() rejects
            raise RefusedRedirect(f"redirect not followed: {exc}", response) from exc


class SafeMetaRefreshMiddleware(MetaRefreshMiddleware):
    """MetaRefreshMiddleware that survives bodies it cannot decode and refreshes it cannot follow.

    Looking for `<meta http-equiv=refresh>` decodes the body with its declared charset; a
    charset that is not a text encoding (`rot13`, `base64`) or cannot decode it (`idna`) used
    to fail the fetch as transient: it is an unreadable body (UnreadableBody, `suspicious`).
    A refresh to a URL no request can be built for (`javascript:`) is not followed and the
    page is kept, as Scrapy does for a refresh to `file:`.
    """

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        """Follow a meta refresh like Scrapy, except in the two cases above."""
        try:
            return super().process_response(request, response)
        except (LookupError, UnicodeError) as exc:  # UnicodeError first: it is a ValueError
            if isinstance(exc, KeyError | IndexError):  # LookupErrors that are bugs, not codecs
                raise
            why = f"the body cannot be decoded with the charset it declares ({exc})"
            raise UnreadableBody(why, response) from exc
        except ValueError:
            return response
