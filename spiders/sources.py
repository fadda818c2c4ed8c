"""The generic `sources` spider: fetch each page of a job file or a catalog once, as data.

Two forms (README, "Development"):

    scrapy crawl sources -a job=FILE -a out=DIR
        the fetch child's form: a job file of conditional requests, one result file per page
    scrapy crawl sources -a catalog=DIR [-a tool=T,...] [-a source=S|TOOL/S,...] [-o items.jsonl]
        a catalog's sources as `citewatch crawl` selects them, without a database (so no
        conditional GET); each page is an item for the feed exporters (crawler/fetch/items.py)
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
    UnsupportedURLSchemeError,
)
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet import error as twisted_error
from twisted.python.failure import Failure

from crawler.catalog.model import load_catalog
from crawler.extract.document import ExtractError, extract, extractor_for
from crawler.extract.html import EXTRACTOR as HTML_EXTRACTOR
from crawler.extract.shell import ShellVerdict, looks_like_js_shell
from crawler.fetch.items import FetchedPage
from crawler.fetch.jobs import read_job
from crawler.fetch.middlewares import (
    STARTED_AT,
    RefusedRedirect,
    RobotsTxtForbidden,
    UnreadableBody,
    retry_after_seconds,
)
from crawler.fetch.render import (
    RENDER_SETTLE_S,
    SETTLE_SETTING,
    VIEWPORT,
    RenderError,
    capture,
)
from crawler.fetch.request import FetchRequest, FetchResult, failed_result, redacted
from crawler.fetch.resolver import refused_destination
from crawler.fetch.selection import fetch_request, select_sources
from crawler.fetch.urls import is_fetchable, url_problem

# 304 and every 4xx/5xx reach the callback as data. Not handle_httpstatus_all: that would also
# stop RedirectMiddleware from following 3xx. Other 3xx (no Location, 300) arrive as HttpError.
HANDLED_STATUSES = (304, *range(400, 600))
INDEX = "citewatch_index"  # meta key: the request's position in the job file (or catalog)
FETCH = "citewatch_fetch"  # meta key: the FetchRequest being answered
PLAIN = "citewatch_plain"  # meta key: the plain fetch's result a rendered request renders
# Our setting, set by the fetch child: why this crawl cannot render ("" when it can).
RENDER_PROBLEM = "CITEWATCH_RENDER_PROBLEM"
SHELL_ERROR = "looks like a JavaScript shell: set render: true"  # the start of that failure

# Failure type -> error_kind. Scrapy 2.15+ raises its own exceptions; the Twisted ones are a
# fallback for handlers that don't translate theirs. First match wins (RobotsTxtForbidden and
# HttpError are IgnoreRequest subclasses, so they come before the generic IgnoreRequest check).
ERROR_KINDS: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((RobotsTxtForbidden,), "robots"),
    ((RefusedRedirect,), "redirect"),
    ((UnreadableBody,), "charset"),
    ((HttpError,), "http"),
    ((DownloadTimeoutError, twisted_error.TimeoutError, TimeoutError), "timeout"),
    ((CannotResolveHostError, twisted_error.DNSLookupError), "dns"),
    ((DownloadCancelledError,), "too-large"),  # what DOWNLOAD_MAXSIZE raises
    ((ResponseDataLossError,), "truncated"),
    ((UnsupportedURLSchemeError,), "scheme"),
    (
        (
            DownloadConnectionRefusedError,
            twisted_error.ConnectError,
            twisted_error.ConnectionLost,
            twisted_error.ConnectionDone,
            ConnectionError,
        ),
        "connection",
    ),
)


# What to say when an exception has no message of its own.
PLAIN_ERRORS = {
    "truncated": "the connection closed before the whole body arrived",
    "timeout": "no complete response within DOWNLOAD_TIMEOUT",
    "connection": "the connection failed",
}


def classify(exc: BaseException) -> str:
    """The error_kind of a failed fetch."""
    for types, kind in ERROR_KINDS:
        if isinstance(exc, types):
            return kind
    if isinstance(exc, IgnoreRequest):
        text = str(exc)
        if "robots.txt" in text:  # the stock RobotsTxtMiddleware's message
            return "robots"
        if "redirection" in text:  # RedirectMiddleware: "max redirections reached"
            return "http"
        if "DOWNLOAD_MAXSIZE" in text:  # HttpCompressionMiddleware: a body inflating past it
            return "too-large"
    return "other"


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value is not None else None


def _timing(meta: dict[str, Any]) -> tuple[datetime, int]:
    started_at, started = meta.get(STARTED_AT) or (datetime.now(UTC), time.monotonic())
    return started_at, round((time.monotonic() - started) * 1000)


USAGE = (
    "usage: scrapy crawl sources -a catalog=DIR [-a tool=T,...] [-a source=S,...]"
    " | -a job=JOBFILE -a out=OUTDIR"
)


def _names(value: str | None) -> tuple[str, ...]:
    """A comma-separated `-a` value as names (none when not given)."""
    return tuple(name.strip() for name in (value or "").split(",") if name.strip())


def catalog_requests(
    catalog: str, tools: Sequence[str] = (), sources: Sequence[str] = ()
) -> tuple[FetchRequest, ...]:
    """The requests `citewatch crawl CATALOG --tool … --source …` would make, unconditional."""
    picked = select_sources(load_catalog(catalog), tools, sources)
    return tuple(fetch_request(tool, source) for tool, source in picked)


class SourcesSpider(scrapy.Spider):
    """Fetch every page of a job file or a catalog (see the module doc), one item per page."""

    name = "sources"

    def __init__(
        self,
        job: str | None = None,
        out: str | None = None,
        catalog: str | None = None,
        tool: str | None = None,
        source: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if bool(job) == bool(catalog) or (job and not out):
            raise ValueError(USAGE)
        self.job_path = Path(job) if job else None
        # Loaded now, so a bad catalog or selection fails the crawl before it starts.
        self.catalog_fetches = (
            catalog_requests(catalog, _names(tool), _names(source)) if catalog else ()
        )
        self.out_dir = Path(out) if out else None  # no out_dir: items only, no result files
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)

    def _entries(self) -> Iterator[tuple[int, FetchRequest]]:
        return read_job(self.job_path) if self.job_path else enumerate(self.catalog_fetches)

    async def start(self) -> AsyncIterator[Request | FetchedPage]:
        """One conditional GET per fetchable entry; a failed result ("scheme", "url") for others.

        An entry no request can be built for is that entry's failed fetch: an exception here
        would end the start requests, and every later entry would never be fetched.
        """
        for index, fetch in self._entries():
            try:
                item = self._request(index, fetch)
            except Exception as exc:  # whatever Request() rejects: this entry fails, not the rest
                item = _page(index, failed_result(fetch, "url", f"not fetched: {exc}"))
            yield item

    def _request(self, index: int, fetch: FetchRequest) -> Request | FetchedPage:
        if not is_fetchable(fetch.url):
            error = f"not fetched: {fetch.url!r} is not an http(s) URL"
            return _page(index, failed_result(fetch, "scheme", error))
        problem = url_problem(fetch.url)
        if problem is not None:
            return _page(index, failed_result(fetch, "url", f"not fetched: {problem}"))
        headers = {}
        if fetch.etag:
            headers["If-None-Match"] = fetch.etag
        if fetch.last_modified:
            headers["If-Modified-Since"] = fetch.last_modified
        return Request(
            fetch.url,
            headers=headers,
            meta={INDEX: index, FETCH: fetch, "handle_httpstatus_list": HANDLED_STATUSES},
            callback=self.parse,
            errback=self.failed,
            dont_filter=True,  # two catalog entries may cite the same URL; both get a result
        )

    def parse(self, response: Response, **kwargs: Any) -> Iterator[FetchedPage | Request]:
        """Turn any response that reached us (2xx, 304, 4xx, 5xx) into a result (or, for a
        body to render, into the request that renders it)."""
        fetch: FetchRequest = response.meta[FETCH]
        status = response.status
        error = kind = None
        if "dataloss" in response.flags:  # only when DOWNLOAD_FAIL_ON_DATALOSS was turned off
            error, kind = "response body truncated (fewer bytes than Content-Length)", "truncated"
        elif status >= 400:
            error, kind = f"HTTP {response_status_message(status)}", "http"
        started_at, elapsed_ms = _timing(response.meta)
        result = FetchResult(
            key=fetch.key,
            url=fetch.url,
            final_url=response.url,
            redirects=tuple(response.meta.get("redirect_urls", ())),
            status=status,
            content_type=_header(response, b"Content-Type"),
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            body=response.body if kind is None and status != 304 else None,
            error=error,
            error_kind=kind,
            retry_after=retry_after_seconds(response.headers.get(b"Retry-After")),
            started_at=started_at,
            elapsed_ms=elapsed_ms,
        )
        yield self._rendered_or(response, fetch, result)

    def _rendered_or(
        self, response: Response, fetch: FetchRequest, result: FetchResult
    ) -> Request | FetchedPage:
        """The request that renders a 2xx body (render: true, or auto on a shell), or its result."""
        index = response.meta[INDEX]
        if result.body is None or result.error_kind is not None or fetch.render == "never":
            return _page(index, result)
        verdict = None if fetch.render == "always" else shell_verdict(result)
        if fetch.render == "auto" and verdict is None:
            return _page(index, result)
        problem = self.settings.get(RENDER_PROBLEM) or ""
        if problem and verdict is not None:
            error = f"{SHELL_ERROR} ({verdict.reason}); {problem}"
            return _page(index, _failed_from(result, "js-shell", error))
        if problem:
            return _page(index, _failed_from(result, "no-browser", problem))
        meta = {
            INDEX: index,
            FETCH: fetch,
            PLAIN: result,
            STARTED_AT: response.meta.get(STARTED_AT) or (datetime.now(UTC), time.monotonic()),
            "handle_httpstatus_list": HANDLED_STATUSES,
            "playwright": True,
            "playwright_include_page": True,  # the callback settles it, then closes it
            "playwright_context": "render",
            "playwright_page_goto_kwargs": {"wait_until": "load"},
        }
        return Request(
            response.url,
            meta=meta,
            callback=self.parse_rendered,
            errback=self.render_failed,
            dont_filter=True,
        )

    async def parse_rendered(self, response: Response, **kwargs: Any) -> AsyncIterator[FetchedPage]:
        """The rendered page: its settled DOM as the body, with a screenshot and text boxes."""
        plain: FetchResult = response.meta[PLAIN]
        page = response.meta["playwright_page"]
        try:
            rendered = await capture(page, self.settings.getfloat(SETTLE_SETTING, RENDER_SETTLE_S))
        except Exception as exc:  # a page that never settles, a crashed tab: this page fails
            kind = "unsettled" if isinstance(exc, RenderError) else "render"
            yield _page(response.meta[INDEX], _failed_from(plain, kind, f"rendering: {exc}"))
            return
        finally:
            await page.close()
        body = rendered.html.encode("utf-8")
        _, elapsed_ms = _timing(response.meta)
        if response.status >= 400 or len(body) > self.settings.getint("DOWNLOAD_MAXSIZE"):
            why = f"HTTP {response.status}" if response.status >= 400 else "over DOWNLOAD_MAXSIZE"
            kind = "http" if response.status >= 400 else "too-large"
            yield _page(response.meta[INDEX], _failed_from(plain, kind, f"rendered page: {why}"))
            return
        yield _page(
            response.meta[INDEX],
            replace(
                plain,
                final_url=response.url,
                status=response.status,
                content_type="text/html; charset=utf-8",
                body=body,
                elapsed_ms=elapsed_ms,
                rendered=True,
                screenshot=rendered.screenshot,
                screenshot_size=(VIEWPORT["width"], rendered.height),
                boxes=rendered.boxes,
            ),
        )

    async def render_failed(self, failure: Failure) -> AsyncIterator[FetchedPage]:
        """A rendered request that failed (navigation timeout, robots.txt, …): the page fails."""
        request: Request = failure.request  # type: ignore[attr-defined]
        page = request.meta.get("playwright_page")
        if page is not None:
            await page.close()
        exc = failure.value
        assert exc is not None
        kind = classify(exc)
        kind = "render" if kind == "other" else kind
        error = f"rendering: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        yield _page(request.meta[INDEX], _failed_from(request.meta[PLAIN], kind, error))

    def failed(self, failure: Failure) -> Iterator[FetchedPage]:
        """Turn a failed request (robots, network, size, truncation, odd 3xx) into a result."""
        request: Request = failure.request  # type: ignore[attr-defined]
        fetch: FetchRequest = request.meta[FETCH]
        exc = failure.value
        assert exc is not None  # an errback's Failure always carries its exception
        response: Response | None = getattr(exc, "response", None)
        kind, detail = _failure(request, exc, fetch.url)
        started_at, elapsed_ms = _timing(request.meta)
        said = detail if detail.startswith(kind) else f"{kind}: {detail}"  # no "redirect: redirect"
        result = failed_result(fetch, kind, f"{said} ({request.url})", started_at)
        redirects = tuple(request.meta.get("redirect_urls", ()))
        if response is not None:
            final_url: str | None = response.url
        else:  # where the redirects led, when they did: a refused destination is worth seeing
            final_url = request.url if redirects else None
        yield _page(
            request.meta[INDEX],
            replace(
                result,
                redirects=redirects,
                status=response.status if response is not None else None,
                final_url=final_url,
                elapsed_ms=elapsed_ms,
            ),
        )


def _failure(request: Request, exc: BaseException, catalog_url: str) -> tuple[str, str]:
    """The error_kind and message of a failed request."""
    if isinstance(exc, CannotResolveHostError | twisted_error.DNSLookupError):
        refused = refused_destination(urlparse_cached(request).hostname)
        if refused is not None:  # the resolver refused every address (crawler/fetch/resolver.py)
            return "destination", refused
    problem = url_problem(request.url)
    if problem is not None:  # reached by a meta refresh: Request() took it, the connection not
        return ("url" if request.url == catalog_url else "redirect"), problem
    kind = classify(exc)
    return kind, str(exc) or PLAIN_ERRORS.get(kind, type(exc).__name__)


def shell_verdict(result: FetchResult) -> ShellVerdict | None:
    """Whether a plain HTML body reads as a JavaScript shell (crawler/extract/shell.py)."""
    body = result.body or b""
    try:
        if extractor_for(body, result.content_type) is not HTML_EXTRACTOR:
            return None
    except ExtractError:
        return None
    try:
        text = extract(body, content_type=result.content_type, url=result.url).text
    except ExtractError:
        text = ""
    return looks_like_js_shell(body, text)


def _failed_from(result: FetchResult, kind: str, error: str) -> FetchResult:
    """A fetch that got a body and still failed: the body is dropped, the rest kept."""
    return replace(result, body=None, error=error, error_kind=kind, rendered=False)


def _page(index: int, result: FetchResult) -> FetchedPage:
    """A result as an item: with no password in any URL or error (they reach files and logs)."""
    return FetchedPage(index, redacted(result))
