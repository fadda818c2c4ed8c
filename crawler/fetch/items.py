"""The items of the `sources` spider: a fetch result as it lands, and its JSON-friendly export."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from crawler.fetch.request import FetchResult


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """A FetchResult tagged with its request's position in the job file."""

    index: int
    result: FetchResult


@dataclass(frozen=True, slots=True, kw_only=True)
class PageItem:
    """One fetched page as Scrapy's feed exporters write it (`-o items.jsonl`).

    Plain JSON values: the body is given by its length and SHA-256, not dumped (bytes have no
    JSON form, and a digest is enough to tell two fetches apart); times are ISO 8601 strings.
    """

    index: int  # the request's position: job-file order, or catalog order
    key: str  # TOOL/SOURCE
    url: str
    final_url: str | None
    redirects: tuple[str, ...]
    status: int | None
    content_type: str | None
    etag: str | None
    last_modified: str | None
    body_length: int | None  # None when there is no body (an error, a 304)
    body_sha256: str | None
    error: str | None
    error_kind: str | None
    retry_after: float | None
    started_at: str
    elapsed_ms: int


def page_item(page: FetchedPage) -> PageItem:
    """The export form of a fetched page."""
    r, body = page.result, page.result.body
    return PageItem(
        index=page.index,
        key=r.key,
        url=r.url,
        final_url=r.final_url,
        redirects=r.redirects,
        status=r.status,
        content_type=r.content_type,
        etag=r.etag,
        last_modified=r.last_modified,
        body_length=None if body is None else len(body),
        body_sha256=None if body is None else hashlib.sha256(body).hexdigest(),
        error=r.error,
        error_kind=r.error_kind,
        retry_after=r.retry_after,
        started_at=r.started_at.isoformat(),
        elapsed_ms=r.elapsed_ms,
    )
