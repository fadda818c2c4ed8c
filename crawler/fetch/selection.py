"""The fetch requests for a crawl's sources.

One code path for `citewatch crawl` (which adds the stored ETag / Last-Modified of each
source) and `scrapy crawl sources -a catalog=DIR` (no database: plain GETs). Which sources:
`crawler.catalog.selection` (re-exported here).
"""

from __future__ import annotations

from crawler.catalog.model import Source, Tool
from crawler.catalog.selection import SelectionError, select_sources
from crawler.fetch.request import FetchRequest

__all__ = ["SelectionError", "fetch_request", "select_sources", "source_key"]


def source_key(tool: Tool, source: Source) -> str:
    """The key a source's fetch is known by: TOOL/SOURCE."""
    return f"{tool.id}/{source.id}"


def fetch_request(
    tool: Tool, source: Source, etag: str | None = None, last_modified: str | None = None
) -> FetchRequest:
    """The request for one source, conditional when validators of a past fetch are given."""
    return FetchRequest(
        key=source_key(tool, source),
        url=source.url,
        etag=etag,
        last_modified=last_modified,
        render=source.render,
    )
