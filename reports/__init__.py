"""Editors' reports and reviewers' site, rendered from one typed ReportContext."""

from reports.context import (
    ChangedSentence,
    CitationGap,
    FlagReason,
    RatingState,
    ReportChange,
    ReportContext,
    ReportFailure,
    ReportFlag,
    Resolution,
    ToolFlags,
    ToolSummary,
    UnwatchedEvidence,
)
from reports.render import render_markdown
from reports.site import render_site, write_site

__all__ = [
    "ChangedSentence",
    "CitationGap",
    "FlagReason",
    "RatingState",
    "ReportChange",
    "ReportContext",
    "ReportFailure",
    "ReportFlag",
    "Resolution",
    "ToolFlags",
    "ToolSummary",
    "UnwatchedEvidence",
    "render_markdown",
    "render_site",
    "write_site",
]
