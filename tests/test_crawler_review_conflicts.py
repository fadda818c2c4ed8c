"""A catalog rating that contradicts the newest `review --set`: warned by `check`, listed by
the report and the digest, with the catalog's rating (the source of truth) shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli.commands import cli
from tests.test_crawler_review_cli import catalog, cite, db, review  # noqa: F401  (fixtures)


@pytest.fixture
def conflicted(db: str, catalog: Path) -> tuple[str, Path]:  # noqa: F811
    """The editor set no-training to `no`; the catalog still says partial (patch not applied)."""
    result = review(db, "--set", "no", "--note", "n", "--catalog", str(catalog), "--no-write-back")
    assert result.exit_code == 0, result.output
    return db, catalog


def test_check_warns_per_conflict_and_fails_only_when_asked(
    conflicted: tuple[str, Path],
) -> None:
    url, folder = conflicted
    checked = cite(url, "check", str(folder))
    assert checked.exit_code == 0 and ": ok — 1 tools" in checked.stdout
    (line,) = checked.stderr.splitlines()
    assert line.startswith(f"warning: {folder / 'tools' / 'tool.yaml'}: rating no-training")
    assert "is partial in the catalog, but ed set it to no in review" in line
    assert cite(url, "check", str(folder), "--fail-on-conflict").exit_code == 1


def test_check_without_a_database_is_unchanged(tmp_path: Path, catalog: Path) -> None:  # noqa: F811
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    result = CliRunner().invoke(
        cli, ["--db", url, "check", str(catalog), "--fail-on-conflict"], obj={}
    )
    assert result.exit_code == 0 and result.stderr == ""
    assert not (tmp_path / "none.sqlite").exists()  # check creates no database


def test_no_conflict_once_the_catalog_agrees(conflicted: tuple[str, Path]) -> None:
    url, folder = conflicted
    file = folder / "tools" / "tool.yaml"
    file.write_text(file.read_text().replace("rating: partial ", "rating: no "))
    result = cite(url, "check", str(folder), "--fail-on-conflict")
    assert result.exit_code == 0 and result.stderr == ""


def test_reports_show_the_catalog_rating_and_list_the_conflict(
    conflicted: tuple[str, Path], tmp_path: Path
) -> None:
    url, folder = conflicted
    out = tmp_path / "report"
    result = cite(
        url, "report", "--catalog", str(folder), "--out", str(out), "--format", "html,md,json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["tools"][0]["ratings"][0]["rating"] == "partial"  # the catalog's, not the set
    (c,) = data["conflicts"]
    assert (c["catalog_rating"], c["review_rating"], c["set_by"]) == ("partial", "no", "ed")
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## Rating conflicts" in md and "catalog ⚠️" in md.split("## Rating conflicts")[1]
    html = (out / "index.html").read_text(encoding="utf-8")
    assert 'id="conflicts"' in html and "1 rating conflict(s)" in html
