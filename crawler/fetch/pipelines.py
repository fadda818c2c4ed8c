"""Item pipeline that writes each fetch result to the crawl's output directory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.fetch.items import FetchedPage
from crawler.fetch.jobs import write_result

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class ResultWriterPipeline:
    """Write every FetchedPage as `<index>.json` (+ `<index>.body`) into the spider's `out_dir`."""

    def __init__(self, crawler: Crawler) -> None:
        self._crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ResultWriterPipeline:
        """Build the pipeline for a crawler (Scrapy's factory hook)."""
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        """Write a FetchedPage; pass anything else through untouched."""
        if isinstance(item, FetchedPage):
            write_result(self._out_dir(), item.index, item.result)
        return item

    def _out_dir(self) -> Path:
        out_dir = getattr(self._crawler.spider, "out_dir", None)
        if not isinstance(out_dir, Path):
            raise TypeError(f"spider {self._crawler.spider!r} has no out_dir to write results to")
        return out_dir
