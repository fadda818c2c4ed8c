"""Editors' reports and reviewers' site, rendered from one typed ReportContext."""

from reports.context import (
    ChangedSentence,
    FlagReason,
    RatingState,
    ReportChange,
    ReportContext,
    ReportFailure,
    ReportFlag,
    Resolution,
    ToolFlags,
    ToolSummary,
)
from reports.render import render_markdown
from reports.site import render_site, write_site

__all__ = [
    "ChangedSentence",
    "FlagReason",
    "RatingState",
    "ReportChange",
    "ReportContext",
    "ReportFailure",
    "ReportFlag",
    "Resolution",
    "ToolFlags",
    "ToolSummary",
    "render_markdown",
    "render_site",
    "write_site",
]
