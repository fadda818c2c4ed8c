"""Reports: contexts and histories read from the database, written as site, Markdown, JSON, CSV."""

from crawler.report.build import FORMATS, ReportError, build_context, write_reports

__all__ = ["FORMATS", "ReportError", "build_context", "write_reports"]
