"""Reports: contexts and histories read from the database, written as site, Markdown, JSON, CSV.

The names below load on first use (PEP 562): `status` reads the watching module of this
package and must not load Jinja2 and the writers for it (start-up time).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.report.build import ReportError, build_context, write_reports
    from crawler.report.writers import FORMATS, WRITERS

__all__ = ["FORMATS", "WRITERS", "ReportError", "build_context", "write_reports"]

_HOMES = {
    "ReportError": "build",
    "build_context": "build",
    "write_reports": "build",
    "FORMATS": "writers",
    "WRITERS": "writers",
}


def __getattr__(name: str) -> Any:
    """One of the package's names, imported from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
