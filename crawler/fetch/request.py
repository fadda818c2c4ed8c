"""What the crawl parent asks of the fetch child and what it gets back: plain values, no Scrapy.

These are the types the `sources` spider and the parent share; this module imports neither
Scrapy nor `spiders/`, so the parent (and the scheduler above it) stays reactor-free.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from crawler.catalog.model import RenderMode
from crawler.fetch.urls import redact


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchRequest:
    """One page to fetch, with the validators of its last good fetch."""

    key: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    # "never" here (not the catalog's default): a hand-made request is a plain fetch.
    render: RenderMode = "never"


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchResult:
    """What one fetch produced: a body, a 304, or an error — always a value, never an exception."""

    key: str
    url: str
    final_url: str | None
    redirects: tuple[str, ...]
    status: int | None
    content_type: str | None
    etag: str | None
    last_modified: str | None
    body: bytes | None
    error: str | None
    error_kind: str | None
    retry_after: float | None
    started_at: datetime
    elapsed_ms: int
    rendered: bool = False  # the body is the DOM Chromium rendered, not the bytes sent
    screenshot: bytes | None = None  # JPEG of the rendered page (crawler/fetch/render.py)
    screenshot_size: tuple[int, int] = (0, 0)  # its width and height in CSS pixels
    # Where the rendered page's text blocks sat: (x, y, width, height, text), CSS pixels.
    boxes: tuple[tuple[int, int, int, int, str], ...] = ()


class FetchError(Exception):
    """The crawl child itself failed (not a page)."""


def failed_result(
    request: FetchRequest, kind: str, error: str, started_at: datetime | None = None
) -> FetchResult:
    """A result for a request that produced no response."""
    return FetchResult(
        key=request.key,
        url=request.url,
        final_url=None,
        redirects=(),
        status=None,
        content_type=None,
        etag=None,
        last_modified=None,
        body=None,
        error=error,
        error_kind=kind,
        retry_after=None,
        started_at=started_at or datetime.now(UTC),
        elapsed_ms=0,
    )


def redacted(result: FetchResult) -> FetchResult:
    """The result with no user name or password in any URL or in its error text."""
    return replace(
        result,
        url=redact(result.url),
        final_url=None if result.final_url is None else redact(result.final_url),
        redirects=tuple(redact(url) for url in result.redirects),
        error=None if result.error is None else redact(result.error),
    )
