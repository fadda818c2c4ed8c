"""Which sources a crawl covers, and the fetch requests for them.

One code path for `citewatch crawl` (which adds the stored ETag / Last-Modified of each
source) and `scrapy crawl sources -a catalog=DIR` (no database: plain GETs).
"""

from __future__ import annotations

from collections.abc import Sequence

from crawler.catalog.model import Catalog, Source, Tool
from crawler.fetch.request import FetchRequest


class SelectionError(Exception):
    """--tool / --source name nothing in the catalog."""


def select_sources(
    catalog: Catalog, tools: Sequence[str] = (), sources: Sequence[str] = ()
) -> list[tuple[Tool, Source]]:
    """The (tool, source) pairs a run covers, in catalog order."""
    picked = [
        (tool, source)
        for tool in catalog.tools
        if not tools or tool.id in tools
        for source in tool.sources
        # A source given as TOOL/SOURCE names exactly one (what `citewatch run` passes).
        if not sources or source.id in sources or f"{tool.id}/{source.id}" in sources
    ]
    unknown_tools = set(tools) - {t.id for t in catalog.tools}
    if unknown_tools:
        raise SelectionError(f"no tool {', '.join(sorted(unknown_tools))} in {catalog.path}")
    if not picked:
        raise SelectionError(f"no source {', '.join(sources)} in the selected tools")
    return picked


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
