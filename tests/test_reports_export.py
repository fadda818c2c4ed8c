"""CSV export of the change history: one row per change, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest
from test_reports_feeds import entry, make_history

from reports.export import COLUMNS, changes_csv, safe_cell


def rows(text: str) -> list[dict[str, str]]:
    """Parse the export back as a spreadsheet importer would."""
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_one_row_per_change_with_every_column() -> None:
    history = make_history()
    parsed = rows(changes_csv(history.changes))
    assert [int(r["id"]) for r in parsed] == [c.id for c in history.changes]
    assert tuple(parsed[0]) == COLUMNS
    dpa = parsed[0]
    assert dpa["tool"] == "mistral-api" and dpa["source"] == "dpa"
    assert dpa["detected_at"] == "2026-04-02T09:30:00+00:00"
    assert (dpa["significant"], dpa["technical"], dpa["flagged"]) == ("true", "false", "dpa")
    assert parsed[2]["technical"] == "true" and parsed[2]["reason"] == "Re-extracted."
    assert (parsed[0]["added"], parsed[0]["removed"]) == ("1", "1")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1", "'  =1"),
        ("plain words, then = sign", "plain words, then = sign"),
        ("https://example.org/?a=1", "https://example.org/?a=1"),
        ("\u202eevil", "\ufffdevil"),
    ],
)
def test_formula_cells_are_defused(cell: str, expected: str) -> None:
    assert safe_cell(cell) == expected


def test_hostile_reason_and_url_reach_the_file_defused_and_quoted() -> None:
    hostile = entry(
        9,
        url="=cmd|' /C calc'!A0",
        reason='@SUM(1+1)*cmd|"/C calc"!A0\nsecond line',
        source_id="-x",
    )
    text = changes_csv([hostile])
    (row,) = rows(text)
    assert row["url"] == "'=cmd|' /C calc'!A0"
    assert row["reason"].startswith("'@SUM") and row["reason"].endswith("second line")
    assert row["source"] == "'-x"
    # every cell quoted, so no spreadsheet splits or evaluates one
    assert text.splitlines()[1].startswith('"9","mistral-api","\'-x"')
