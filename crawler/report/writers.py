"""The report formats: one writer per format, each writing its file into the output folder.

A format is one writer function and one entry of WRITERS. `citewatch report --format` accepts
the names of WRITERS and writes the chosen ones in its order (the site, whose index page
opens the report, first).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from crawler.catalog.model import Catalog
from crawler.report.history import build_history, change_entries
from crawler.report.parts import Names
from diffs.text import TextDiff
from reports.context import ReportContext
from reports.digest import DigestScope, build_digest
from reports.digest_json import digest_json
from reports.export import changes_csv
from reports.render import render_markdown
from reports.site import write_site
from storage import Store


@dataclass(frozen=True, slots=True)
class ReportInputs:
    """What a writer reads: the report's context and digest scope, the store and the catalog."""

    store: Store
    catalog: Catalog
    context: ReportContext
    scope: DigestScope
    suppressed: int  # how many of the newest suppressed changes the site diffs for a page


# (inputs, output folder) -> the file written (for the site: its index page).
Writer = Callable[[ReportInputs, Path], Path]


def write_html(inputs: ReportInputs, out: Path) -> Path:
    """The reviewers' site: the report, and the whole history (timelines, feeds, diff pages)."""
    # Only the site shows the suppressed changes (each with its page): diff them for it alone.
    history = build_history(inputs.store, inputs.catalog, inputs.suppressed)
    return write_site(inputs.context, out, history, inputs.store.blob)


def write_markdown(inputs: ReportInputs, out: Path) -> Path:
    """report.md: the editors' report."""
    target = out / "report.md"
    target.write_text(render_markdown(inputs.context, inputs.scope), encoding="utf-8")
    return target


def write_json(inputs: ReportInputs, out: Path) -> Path:
    """report.json: the whole report context, and the digest as the email tells it."""
    target = out / "report.json"
    payload = _json_default(inputs.context)
    payload["digest"] = digest_json(build_digest(inputs.context, inputs.scope))
    target.write_text(
        json.dumps(payload, default=_json_default, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    return target


def write_csv(inputs: ReportInputs, out: Path) -> Path:
    """changes.csv: the whole change history, not only the report's period."""
    changes = change_entries(inputs.store, inputs.store.changes(), Names.of(inputs.catalog).tools)
    target = out / "changes.csv"
    target.write_text(changes_csv(changes), encoding="utf-8", newline="")
    return target


def _json_default(value: Any) -> Any:
    """JSON for the context: dataclasses as objects, diffs as their added/removed passages."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, TextDiff):
        return {"added": list(value.added_text()), "removed": list(value.removed_text())}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise TypeError(type(value).__name__)


WRITERS: Mapping[str, Writer] = MappingProxyType(
    {"html": write_html, "md": write_markdown, "json": write_json, "csv": write_csv}
)
FORMATS = tuple(WRITERS)  # every format name, in writing order
