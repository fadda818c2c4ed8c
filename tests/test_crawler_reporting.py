"""`citewatch report` as a digest: each change and flag reason reported once, a grown flag
again with only its new reasons new, `--since` showing a period again."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.report import writers
from crawler.report.build import ReportError, write_reports
from crawler.report.writers import FORMATS, WRITERS, ReportInputs
from storage import Store
from tests.test_crawler_notify import HOSTILE_NEW, OLD, record_change, write_catalog


def digest_of(store: Store, catalog: Path, out: Path, since: datetime | None = None) -> Any:
    """Write the JSON report and return its digest part."""
    write_reports(store, str(catalog), out, ["json", "md"], since)
    return json.loads((out / "report.json").read_text(encoding="utf-8"))["digest"]


def reasons(digest: Any) -> list[tuple[int, bool]]:
    """(change, new) of every reason of the digest's flags."""
    return [
        (r["change"], r["new"])
        for t in digest["tools"]
        for f in t["ratings_to_review"]
        for r in f["reasons"]
    ]


def test_each_change_and_reason_is_reported_once(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'cw.db'}")
    catalog = write_catalog(tmp_path / "catalog")
    record_change(store, catalog, OLD, HOSTILE_NEW, first=True)

    first = digest_of(store, catalog, tmp_path / "r1")
    assert first["counts"]["ratings_to_review"] == 1
    assert reasons(first) == [(1, True)]

    second = digest_of(store, catalog, tmp_path / "r2")
    assert second["counts"]["ratings_to_review"] == 0
    assert second["counts"]["still_open"] == 1
    md = (tmp_path / "r2" / "report.md").read_text(encoding="utf-8")
    assert "No rating needs re-review." in md and "1 flagged rating(s) reported before" in md

    record_change(store, catalog, HOSTILE_NEW, HOSTILE_NEW.replace("may", "will"), first=False)
    third = digest_of(store, catalog, tmp_path / "r3")
    (flag,) = third["tools"][0]["ratings_to_review"]
    assert flag["grown"] is True
    assert reasons(third) == [(2, True), (1, False)]
    assert [c["id"] for c in third["tools"][0]["significant_changes"]] == []  # cited by the flag

    again = digest_of(store, catalog, tmp_path / "r4", since=datetime(2000, 1, 1, tzinfo=UTC))
    assert sorted(reasons(again)) == [(1, True), (2, True)]  # --since shows the whole period again


def test_report_markdown_links_the_diff_pages_it_writes(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'cw.db'}")
    catalog = write_catalog(tmp_path / "catalog")
    record_change(store, catalog, OLD, HOSTILE_NEW, first=True)
    out = tmp_path / "report"
    write_reports(store, str(catalog), out, ["html", "md"], None)
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "[full diff of change 1](changes/1.html)" in md
    assert (out / "changes" / "1.html").exists()


def test_each_resolution_is_reported_once(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'cw.db'}")
    catalog = write_catalog(tmp_path / "catalog")
    record_change(store, catalog, OLD, HOSTILE_NEW, first=True)
    digest_of(store, catalog, tmp_path / "r1")
    store.resolve("acme", "no-training", "set", "partial", "Opt-out only.", "ed@example.org")

    second = digest_of(store, catalog, tmp_path / "r2")
    assert second["counts"]["resolved"] == 1
    (item,) = second["tools"][0]["resolved"]
    assert (item["action"], item["rating_set"], item["by"]) == ("set", "partial", "ed@example.org")
    md = (tmp_path / "r2" / "report.md").read_text(encoding="utf-8")
    assert "### Resolved since the last report" in md and "Opt-out only." in md

    third = digest_of(store, catalog, tmp_path / "r3")
    assert third["counts"]["resolved"] == 0  # reported once
    again = digest_of(store, catalog, tmp_path / "r4", since=datetime(2000, 1, 1, tzinfo=UTC))
    assert again["counts"]["resolved"] == 1  # --since shows the period again


# The file each registered format writes: a new format adds its own.
FORMAT_FILES = {
    "html": "index.html",
    "md": "report.md",
    "json": "report.json",
    "csv": "changes.csv",
}


def test_every_registered_format_writes_its_file(tmp_path: Path) -> None:
    assert FORMATS == tuple(WRITERS) == tuple(FORMAT_FILES)
    store = Store.open(f"sqlite:///{tmp_path / 'cw.db'}")
    catalog = write_catalog(tmp_path / "catalog")
    record_change(store, catalog, OLD, HOSTILE_NEW, first=True)
    for name, file in FORMAT_FILES.items():
        (path,) = write_reports(store, str(catalog), tmp_path / name, [name], None)
        assert path == tmp_path / name / file and path.stat().st_size > 0
    everything = write_reports(store, str(catalog), tmp_path / "all", list(reversed(FORMATS)), None)
    assert [p.name for p in everything] == list(FORMAT_FILES.values())  # registry order


def test_an_unknown_format_lists_the_registered_ones(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'cw.db'}")
    with pytest.raises(ReportError) as info:
        write_reports(store, None, tmp_path / "out", ["md", "pdf"], None)
    assert str(info.value) == "unknown format pdf (choose from html, md, json, csv)"


def test_a_format_added_to_the_registry_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def write_titles(inputs: ReportInputs, out: Path) -> Path:
        target = out / "tools.txt"
        target.write_text("".join(f"{t.name}\n" for t in inputs.context.tools), encoding="utf-8")
        return target

    monkeypatch.setattr(writers, "WRITERS", {**WRITERS, "txt": write_titles})
    store = Store.open(f"sqlite:///{tmp_path / 'cw.db'}")
    catalog = write_catalog(tmp_path / "catalog")
    (path,) = write_reports(store, str(catalog), tmp_path / "out", ["txt"], None)
    assert path.read_text(encoding="utf-8") == "Acme AI\n"
