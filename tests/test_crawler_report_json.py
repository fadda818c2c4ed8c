"""report.json, written as it is encoded: byte for byte what json.dumps(indent=1) gives."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from test_reports_render import hostile_context, make_context

from crawler.report.json_report import write_report_json
from diffs.text import TextDiff
from reports.context import ReportContext, StoredDiff


def dumped(value: Any) -> Any:
    """What report.json held before it was streamed: json.dumps' default for the context."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, TextDiff):
        return {"added": list(value.added_text()), "removed": list(value.removed_text())}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise TypeError(type(value).__name__)


DIGEST = {"counts": {"a": 1}, "tools": [{"empty": [], "none": None, "nested": {}}], "x": 0.5}


@pytest.mark.parametrize("make", [make_context, hostile_context])
def test_report_json_is_what_json_dumps_writes(tmp_path: Path, make: Any) -> None:
    ctx: ReportContext = make()
    # The same resolution object on two flags is written twice, like any other value.
    flag = dataclasses.replace(ctx.flags[-1], criterion_id="other")
    ctx = dataclasses.replace(ctx, flags=(*ctx.flags, flag))
    payload = dumped(ctx)
    payload["digest"] = DIGEST
    expected = json.dumps(payload, default=dumped, ensure_ascii=False, indent=1)
    write_report_json(tmp_path / "report.json", ctx, DIGEST, {})
    assert (tmp_path / "report.json").read_text(encoding="utf-8") == expected


def test_a_stored_diff_is_written_as_its_passages(tmp_path: Path) -> None:
    ctx = make_context()
    first = ctx.changes[0]
    assert isinstance(first.diff, TextDiff)
    stored = StoredDiff("a" * 64, "b" * 64)
    named = dataclasses.replace(ctx, changes=(dataclasses.replace(first, diff=stored),))
    computed = dataclasses.replace(ctx, changes=(first,))
    summaries = {stored: (first.diff.added_text(), first.diff.removed_text())}
    write_report_json(tmp_path / "a.json", named, DIGEST, summaries)
    write_report_json(tmp_path / "b.json", computed, DIGEST, {})
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
