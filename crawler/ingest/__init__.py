"""Ingest: one fetch analysed and recorded in one transaction, the crawl run, and review."""

from crawler.ingest.analysis import Analysis, analyze
from crawler.ingest.crawl import RunReport, run_crawl
from crawler.ingest.review import resolve
from crawler.ingest.target import extract_target

__all__ = [
    "Analysis",
    "RunReport",
    "analyze",
    "extract_target",
    "resolve",
    "run_crawl",
]
