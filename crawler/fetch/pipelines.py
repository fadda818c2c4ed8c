"""Item pipelines: write each fetch result to the crawl's output directory, then export it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.fetch.items import FetchedPage, page_item
from crawler.fetch.jobs import write_result

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class ResultWriterPipeline:
    """Write every FetchedPage as `<index>.json` (+ `<index>.body`) into the spider's `out_dir`.

    A spider without one (`scrapy crawl sources -a catalog=DIR`) writes no files: its items
    go on to the feed exporters only.
    """

    def __init__(self, crawler: Crawler) -> None:
        self._crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ResultWriterPipeline:
        """Build the pipeline for a crawler (Scrapy's factory hook)."""
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        """Write a FetchedPage when there is an out_dir; pass every item on untouched."""
        out_dir = getattr(self._crawler.spider, "out_dir", None)
        if isinstance(item, FetchedPage) and out_dir is not None:
            if not isinstance(out_dir, Path):
                raise TypeError(f"spider {self._crawler.spider!r}: out_dir is not a Path")
            write_result(out_dir, item.index, item.result)
        return item


class PageItemPipeline:
    """Turn a FetchedPage into a PageItem, last: what feed exporters (`-o FILE`) can write."""

    def process_item(self, item: Any) -> Any:
        """The JSON-friendly form of a FetchedPage; anything else untouched."""
        return page_item(item) if isinstance(item, FetchedPage) else item
