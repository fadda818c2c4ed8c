"""Extraction: HTML, PDF and text bodies to normalized text blocks, and failure classes."""

from crawler.extract.document import ExtractError, Extraction, extract
from crawler.extract.failures import Failure, page_failure

__all__ = ["ExtractError", "Extraction", "Failure", "extract", "page_failure"]
