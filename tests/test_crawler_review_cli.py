"""`citewatch review` (confirm, set with write-back, dismiss, reopen; contradictions refused)
and `flags --status resolved` saying who resolved each flag, how, when and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crawler.cli.commands import cli
from storage import Store
from tests.test_crawler_review import TOOL, flag


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A database whose rating tool / no-training has an open flag."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    store = Store.open(url)
    flag(store)
    store.close()
    return url


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    (tmp_path / "catalog" / "tools").mkdir(parents=True)
    (tmp_path / "catalog" / "tools" / "tool.yaml").write_text(TOOL)
    return tmp_path / "catalog"


def cite(db: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", db, *args], obj={})


def review(db: str, *args: str) -> Result:
    return cite(db, "review", "tool", "no-training", "--by", "ed", *args)


@pytest.mark.parametrize(
    "options",
    [
        ["--confirm", "--dismiss"],
        ["--confirm", "--set", "yes"],
        ["--set", "no", "--dismiss"],
        ["--reopen", "--confirm"],
        ["--reopen", "--set", "no"],
        [],
        ["--confirm", "--no-write-back"],
    ],
)
def test_contradictory_options_are_refused_and_nothing_is_recorded(
    db: str, options: list[str]
) -> None:
    result = review(db, *options, "--note", "n")
    assert result.exit_code == 2, result.output
    assert "exactly one of" in result.output or "goes with --set" in result.output
    assert json.loads(cite(db, "flags", "--json").output)[0]["status"] == "open"


def test_set_writes_back_and_flags_say_who_resolved_how(db: str, catalog: Path) -> None:
    result = review(db, "--set", "❌", "--note", "paid API may train", "--catalog", str(catalog))
    assert result.exit_code == 0, result.output
    assert "set no by ed" in result.output and "wrote " in result.output
    assert "rating: no      # checked" in (catalog / "tools" / "tool.yaml").read_text()
    (f,) = json.loads(cite(db, "flags", "--status", "resolved", "--json").output)
    assert f["resolution"]["action"] == "set" and f["resolution"]["rating"] == "no"
    assert (f["resolution"]["by"], f["resolution"]["note"]) == ("ed", "paid API may train")
    assert f["resolution"]["at"] == f["resolved_at"]
    text = cite(db, "flags", "--status", "resolved").output
    assert "by ed: set no — paid API may train" in text


def test_no_write_back_prints_the_patch_and_leaves_the_catalog(db: str, catalog: Path) -> None:
    result = review(db, "--set", "yes", "--note", "n", "--catalog", str(catalog), "--no-write-back")
    assert result.exit_code == 0, result.output
    assert "-    rating: partial" in result.output and "+    rating: yes" in result.output
    assert (catalog / "tools" / "tool.yaml").read_text() == TOOL


def test_reopen_then_resolve_again(db: str) -> None:
    assert review(db, "--reopen", "--note", "n").exit_code == 1  # nothing resolved yet
    assert review(db, "--dismiss", "--note", "noise").exit_code == 0
    reopened = review(db, "--reopen", "--note", "it was not noise")
    assert reopened.exit_code == 0 and "reopen by ed" in reopened.output
    (f,) = json.loads(cite(db, "flags", "--json").output)
    assert f["status"] == "open" and f["resolution"] is None
    assert review(db, "--confirm", "--note", "still partial").exit_code == 0
    text = cite(db, "flags", "--status", "resolved").output
    assert "by ed: confirm — still partial" in text
    again = review(db, "--reopen", "--note", "x")
    assert again.exit_code == 0
    assert review(db, "--reopen", "--note", "x").exit_code == 1  # already open
