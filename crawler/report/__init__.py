"""Reports: contexts and histories read from the database, written as site, Markdown, JSON, CSV."""

from crawler.report.build import ReportError, build_context, write_reports
from crawler.report.writers import FORMATS, WRITERS

__all__ = ["FORMATS", "WRITERS", "ReportError", "build_context", "write_reports"]
