"""Fetching: request and result types, job files, and the Scrapy child that fills them.

Importing this package never imports Scrapy: only ``crawler.fetch.child`` (the child's entry
point) does, with ``spiders/`` and the Scrapy glue modules it loads by name (``settings``,
``middlewares``, ``resolver``, ``pipelines``, ``items``).
"""

from crawler.fetch.parent import QUIET, FetchDisplay, fetch_all, fetch_each
from crawler.fetch.request import FetchError, FetchRequest, FetchResult, failed_result
from crawler.fetch.selection import SelectionError, select_sources

__all__ = [
    "QUIET",
    "FetchDisplay",
    "FetchError",
    "FetchRequest",
    "FetchResult",
    "SelectionError",
    "failed_result",
    "fetch_all",
    "fetch_each",
    "select_sources",
]
