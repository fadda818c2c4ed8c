"""A source that keeps failing flags the ratings citing it; `flags` and the reports show it;
the flags close themselves when the source recovers, and the rating's other flag stays open."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from conftest import LocalServer, Reply

from crawler.cli import cli

HTML = {"Content-Type": "text/html; charset=utf-8"}
QUOTE = "We do not use your Input and Output to train our models"
POLICY = (
    f"<html><body><main><p>{QUOTE}.</p><p>{'Data stays in the EU. ' * 20}</p></main></body></html>"
)
REWORDED = POLICY.replace(QUOTE, "We may use your Input and Output to train our models")
DOCS = f"<html><body><main><p>{'Read the API reference. ' * 20}</p></main></body></html>"
CATALOG = """id: acme
name: Acme AI
sources:
  - id: policy
    url: {policy}
  - id: docs
    url: {docs}
ratings:
  no-training:
    rating: yes
    sources: [policy]
    evidence:
      - source: policy
        quote: {quote}
  server-location:
    rating: yes
    sources: [policy, docs]
  open-source:
    rating: no
    sources: [docs]
"""
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "BROKEN_AFTER=2"]


def run(db: str, *args: str) -> Result:
    """The CLI, in process."""
    return CliRunner().invoke(cli, ["--db", db, *args], obj={}, catch_exceptions=False)


def page(body: str) -> Reply:
    """A 200 HTML reply."""
    return Reply(200, body.encode(), HTML)


def test_broken_source_flags_and_recovers(http_server: LocalServer, tmp_path: Path) -> None:
    http_server.route(
        "/policy",
        page(POLICY),
        page(REWORDED),  # a real change: an evidence flag on no-training
        Reply(404, b"not found"),
        Reply(404, b"not found"),
        page(REWORDED),
    )
    http_server.route("/docs", page(DOCS))
    (tmp_path / "cat" / "tools").mkdir(parents=True)
    (tmp_path / "cat" / "tools" / "acme.yaml").write_text(
        CATALOG.format(
            policy=http_server.url("/policy"), docs=http_server.url("/docs"), quote=QUOTE
        )
    )
    catalog, db = str(tmp_path / "cat"), f"sqlite:///{tmp_path / 'cw.db'}"
    crawls = [json.loads(run(db, "crawl", catalog, "--json", *FAST).stdout) for _ in range(4)]
    policy = [next(s for s in c["sources"] if s["source"] == "policy") for c in crawls]
    assert [(p["outcome"], p["failure_class"]) for p in policy] == [
        ("new", None),
        ("changed", None),
        ("failed", "gone"),
        ("failed", "gone"),
    ]

    flags = json.loads(run(db, "flags", "--json").stdout)
    by_severity = sorted((f["criterion"], f["severity"]) for f in flags)
    assert by_severity == [
        ("no-training", "broken"),
        ("no-training", "evidence"),
        ("server-location", "broken"),
    ]  # open-source rests on docs only: not flagged
    broken = [f for f in flags if f["severity"] == "broken"]
    for flag in broken:
        (reason,) = flag["reasons"]
        assert (reason["kind"], reason["source"], reason["change"]) == (
            "source-broken",
            "policy",
            None,
        )
        assert reason["failure_class"] == "gone" and reason["broken_since"]
        assert reason["broken_since"][:10] in reason["text"]
    text = run(db, "flags").stdout
    assert "(broken)" in text and "broken source policy" in text and "gone" in text

    out = tmp_path / "report"
    assert run(db, "report", "--format", "html,md,json", "--out", str(out)).exit_code == 0
    report = json.loads((out / "report.json").read_text())
    (failing,) = report["failures"]
    assert failing["source_id"] == "policy" and failing["failure_class"] == "gone"
    assert failing["broken_since"] == broken[0]["reasons"][0]["broken_since"]
    md = (out / "report.md").read_text()
    assert "gone since" in md and "broken since" in md
    html = (out / "index.html").read_text()
    assert "broken since" in html and ">gone<" in html

    recovered = json.loads(run(db, "crawl", catalog, "--json", *FAST).stdout)
    assert next(s for s in recovered["sources"] if s["source"] == "policy")["outcome"] in (
        "unchanged",
        "not-modified",
    )
    still_open = json.loads(run(db, "flags", "--json").stdout)
    assert [(f["criterion"], f["severity"]) for f in still_open] == [("no-training", "evidence")]
    run(db, "report", "--format", "html", "--out", str(out))
    tool_page = (out / "tools" / "acme.html").read_text()
    assert "recovered" in tool_page and "source policy recovered" in tool_page


def test_broken_after_must_be_positive(tmp_path: Path) -> None:
    (tmp_path / "cat" / "tools").mkdir(parents=True)
    (tmp_path / "cat" / "tools" / "acme.yaml").write_text(
        "id: acme\nname: Acme\nsources:\n  - id: p\n    url: http://127.0.0.1:9/p\n"
    )
    result = CliRunner().invoke(
        cli,
        [
            "--db",
            f"sqlite:///{tmp_path / 'cw.db'}",
            "crawl",
            str(tmp_path / "cat"),
            "-s",
            "BROKEN_AFTER=0",
        ],
        obj={},
    )
    assert result.exit_code == 1 and "BROKEN_AFTER" in result.output
