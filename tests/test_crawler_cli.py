"""The command line as users and scripts call it: check, crawl --json, flags, review, diff,
changes, report, extract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crawler.cli import cli
from storage import Store
from tests.conftest import LocalServer, Reply

V1 = """<html><head><title>Privacy</title><script>var build="a1";</script></head><body>
<nav><a href="/">Home</a></nav><main><h1>Privacy Policy</h1>
<p>Updated 3 days ago</p>
<p>We do not use your Input and Output to train our models when you use the paid API.</p>
<p>We store data in the European Union.</p></main></body></html>"""
V2_NOISE = V1.replace('build="a1"', 'build="b7"').replace("3 days ago", "4 days ago")
V3_TRAINING = V2_NOISE.replace(
    "We do not use your Input and Output to train our models when you use the paid API.",
    "We may use your Input and Output to train our models unless you opt out.",
)
QUOTE = "We do not use your Input and Output to train our models"
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def html(body: str, etag: str) -> Reply:
    """A 200 HTML reply with an ETag."""
    return Reply(200, body.encode(), {"Content-Type": "text/html; charset=utf-8", "ETag": etag})


def write_catalog(folder: Path, url: str) -> Path:
    """A one-tool catalog citing the page, with an evidence quote."""
    (folder / "tools").mkdir(parents=True)
    (folder / "tools" / "acme.yaml").write_text(
        f"""id: acme
name: Acme AI
sources:
  - id: privacy
    url: {url}
    kind: privacy-policy
ratings:
  no-training:
    rating: yes
    sources: [privacy]
    evidence:
      - source: privacy
        quote: {QUOTE}
  server-location:
    rating: partial
    sources: [privacy]
""",
        encoding="utf-8",
    )
    return folder


def run(runner: CliRunner, db: str, *args: str) -> Result:
    """Invoke the CLI with a database."""
    return runner.invoke(cli, ["--db", db, *args], obj={}, catch_exceptions=False)


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A database URL in the test's folder."""
    return f"sqlite:///{tmp_path / 'cw.db'}"


def test_check_names_file_entry_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    (bad / "tools").mkdir(parents=True)
    (bad / "tools" / "x.yaml").write_text(
        "id: x\nname: X\nsources:\n  - id: p\n    url: ftp://h/p\n"
    )
    result = CliRunner().invoke(cli, ["check", str(bad)], obj={})
    assert result.exit_code == 1
    assert "x.yaml" in result.output and "source p" in result.output and "url" in result.output


def test_check_ok_example_catalog() -> None:
    result = CliRunner().invoke(cli, ["check", "examples/catalog"], obj={})
    assert result.exit_code == 0, result.output
    assert "1 tools, 9 sources, 9 ratings" in result.output


def test_crawl_lifecycle(http_server: LocalServer, tmp_path: Path, db: str) -> None:
    http_server.route(
        "/privacy",
        html(V1, '"1"'),
        Reply(304, b"", {"ETag": '"1"'}),
        html(V2_NOISE, '"2"'),
        html(V3_TRAINING, '"3"'),
        Reply(500, b"oops"),
    )
    catalog = str(write_catalog(tmp_path / "cat", http_server.url("/privacy")))
    runner = CliRunner()
    runs = [json.loads(run(runner, db, "crawl", catalog, "--json", *FAST).stdout) for _ in range(5)]
    outcomes = [r["sources"][0] for r in runs]
    assert set(outcomes[0]) == {
        "tool",
        "source",
        "url",
        "status",
        "outcome",
        "error",
        "change",
        "significant",
        "tier",
        "flags",
        "failure_class",
        "evidence_never_found",
        "may_concern",
    }
    assert [o["outcome"] for o in outcomes] == [
        "new",
        "not-modified",
        "changed",
        "changed",
        "failed",
    ]
    assert http_server.hits("/privacy")[1].headers.get("if-none-match") == '"1"'
    assert outcomes[2]["significant"] is False and outcomes[2]["flags"] == []
    assert outcomes[2]["tier"] == "noise" and outcomes[0]["tier"] is None
    assert outcomes[3]["significant"] is True and outcomes[3]["flags"] == ["no-training"]
    assert outcomes[3]["tier"] == "substantive"
    assert outcomes[4]["status"] == 500 and outcomes[4]["change"] is None

    flags = json.loads(run(runner, db, "flags", "--json").stdout)
    assert [(f["criterion"], f["severity"]) for f in flags] == [("no-training", "evidence")]
    kinds = [r["kind"] for r in flags[0]["reasons"]]
    assert kinds == ["evidence-altered", "topic"]

    diff = run(runner, db, "diff", str(outcomes[3]["change"]), "--no-color").output
    assert "[-do not -]{+may +}" in diff
    assert "[-when you use the paid API-]{+unless you opt out+}" in diff

    listed = run(runner, db, "changes", "--json").stdout
    assert [c["id"] for c in json.loads(listed)] == [outcomes[3]["change"]]  # noise hidden

    review = run(
        runner,
        db,
        "review",
        "acme",
        "no-training",
        "--set",
        "❌",
        "--note",
        "clause gone",
        "--by",
        "ed",
    )
    assert "set no by ed" in review.output
    assert json.loads(run(runner, db, "flags", "--json").stdout) == []

    out = tmp_path / "report"
    run(runner, db, "report", "--out", str(out), "--format", "html,md,json")
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "Acme AI" in md and "Failed fetches" in md and "500" in md
    assert (out / "index.html").exists() and (
        out / f"changes/{outcomes[3]['change']}.html"
    ).exists()
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["tools"][0]["ratings"][0]["rating"] == "no"  # the editor's new rating


def test_failed_fetch_keeps_last_good_snapshot(
    http_server: LocalServer, tmp_path: Path, db: str
) -> None:
    http_server.route("/privacy", html(V1, '"1"'), Reply(404, b"gone"), html(V1, '"1b"'))
    catalog = str(write_catalog(tmp_path / "cat", http_server.url("/privacy")))
    runner = CliRunner()
    outs = [
        json.loads(run(runner, db, "crawl", catalog, "--json", *FAST).stdout)["sources"][0]
        for _ in range(3)
    ]
    assert [o["outcome"] for o in outs] == ["new", "failed", "unchanged"]
    assert outs[1]["error"]


def test_review_usage_errors(db: str) -> None:
    runner = CliRunner()
    both = runner.invoke(
        cli, ["--db", db, "review", "a", "b", "--confirm", "--set", "yes", "--note", "n"], obj={}
    )
    assert both.exit_code == 2
    none_open = runner.invoke(
        cli, ["--db", db, "review", "a", "b", "--confirm", "--note", "n"], obj={}
    )
    assert none_open.exit_code == 1 and "no open flag" in none_open.output


def test_extract_file_and_bad_setting(tmp_path: Path, db: str) -> None:
    page = tmp_path / "p.html"
    page.write_text(V1, encoding="utf-8")
    result = CliRunner().invoke(cli, ["extract", str(page)], obj={})
    assert result.exit_code == 0
    assert "# Privacy Policy" in result.output and "build" not in result.output
    bad = CliRunner().invoke(
        cli, ["--db", db, "crawl", "examples/catalog", "-s", "NOEQUALS"], obj={}
    )
    assert bad.exit_code == 1 and "KEY=VALUE" in bad.output


def test_report_errors_are_messages_not_tracebacks(db: str) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["--db", db, "report"], obj={})
    assert missing.exit_code == 1 and "no database at" in missing.output
    Store.open(db).close()  # a database no crawl has written: it knows no catalog
    no_catalog = runner.invoke(cli, ["--db", db, "report"], obj={})
    assert no_catalog.exit_code == 1 and "no catalog" in no_catalog.output
    bad_format = runner.invoke(
        cli, ["--db", db, "report", "--catalog", "examples/catalog", "--format", "pdf"], obj={}
    )
    assert bad_format.exit_code == 1 and "unknown format pdf" in bad_format.output
