"""CSV export of the change history, safe to open in a spreadsheet.

Page-derived text reaches the cells (the source URL, the significance reason), and a cell
that starts with = + - @ (or a tab or carriage return) is a formula to Excel and LibreOffice
("CSV injection"). Following OWASP's advice, such a cell gets a leading single quote, and every
cell is quoted. Numbers and booleans are written by us and left as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from reports.history import ChangeEntry
from reports.render import iso, neutralize

COLUMNS = (
    "id",
    "tool",
    "source",
    "url",
    "detected_at",
    "significant",
    "technical",
    "reason",
    "added",
    "removed",
    "flagged",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """A text cell a spreadsheet will not evaluate: a leading ' before formula characters."""
    cleaned = neutralize(value)
    return "'" + cleaned if cleaned.lstrip(" ").startswith(_FORMULA_START) else cleaned


def changes_csv(changes: Iterable[ChangeEntry]) -> str:
    """One row per change, oldest first as given; flagged criteria joined by spaces."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for c in changes:
        writer.writerow(
            (
                c.id,
                safe_cell(c.tool_id),
                safe_cell(c.source_id),
                safe_cell(c.url),
                iso(c.detected_at),
                "true" if c.significant else "false",
                "true" if c.technical else "false",
                safe_cell(c.reason),
                c.added,
                c.removed,
                safe_cell(" ".join(c.flags)),
            )
        )
    return out.getvalue()
