"""The reviewers' site: timelines, inert snapshot files, severity order, links that resolve."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from test_reports_feeds import make_history
from test_reports_render import at, make_context, make_flag

from reports.history import SiteHistory, Version
from reports.paths import raw_path
from reports.site import render_site, write_site

CSP = (
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:\">"
)
CITEWATCH = shutil.which("citewatch") or str(
    Path(__file__).resolve().parents[1] / ".venv/bin/citewatch"
)


def version(content_type: str | None) -> Version:
    """A version whose raw body has this content type."""
    return Version(
        snapshot_id=1,
        taken_at=at(1),
        technical=False,
        raw_sha="f" * 64,
        text_sha="e" * 64,
        content_type=content_type,
        final_url=None,
        change=None,
    )


@pytest.mark.parametrize(
    ("content_type", "suffix"),
    [
        ("text/html; charset=utf-8", ".html.txt"),
        ("application/xhtml+xml", ".html.txt"),
        ("text/plain", ".txt"),
        (None, ".txt"),
        ("application/pdf", ".bin"),
        ("image/svg+xml", ".bin"),  # SVG can carry script: never served as an image
    ],
)
def test_raw_bodies_get_inert_names(content_type: str | None, suffix: str) -> None:
    assert raw_path(version(content_type)) == f"raw/{'f' * 64}{suffix}"


def test_every_page_forbids_scripts_and_links_its_feeds() -> None:
    site = render_site(make_context(), make_history())
    pages = {p: html for p, html in site.items() if p.endswith(".html")}
    assert "sources/mistral-api/dpa.html" in pages
    for page, html in pages.items():
        assert CSP in html, page
        assert 'rel="alternate" type="application/atom+xml"' in html, page
    tool = pages["tools/mistral-api.html"]
    assert 'href="../feeds/tool-mistral-api.atom"' in tool
    assert 'href="../feeds/criterion-no-training.atom"' in tool
    assert '<a href="../sources/mistral-api/dpa.html">dpa</a>: 2 version(s)' in tool


def test_timeline_lists_versions_newest_first_with_markers() -> None:
    history = make_history()
    dpa = history.timelines[0]
    technical = dataclasses.replace(dpa.versions[1], snapshot_id=52, technical=True, change=None)
    timeline = dataclasses.replace(dpa, versions=(*dpa.versions, technical))
    html = render_site(make_context(), SiteHistory((timeline,), history.changes))[
        "sources/mistral-api/dpa.html"
    ]
    rows = re.findall(r"<tr>\n<th scope=\"row\">.*?</tr>", html, re.S)
    assert len(rows) == 3
    assert "technical upgrade" in rows[0] and ">52 " in rows[0]
    # change 5 has no page in this report: named, not linked; its flag is linked
    assert "Change 5:" in rows[1] and "changes/5.html" not in rows[1]
    assert '#flag-mistral-api-dpa">dpa</a>' in rows[1]
    assert "first version" in rows[2]
    assert f'href="../../raw/{"a" * 64}.html.txt"' in rows[2]
    assert f'href="../../raw/{"c" * 64}.bin"' in rows[1]  # the PDF: downloaded, never shown


def test_timeline_shows_where_a_redirected_fetch_ended() -> None:
    history = make_history()
    dpa = history.timelines[0]
    moved = dataclasses.replace(dpa.versions[1], final_url="https://elsewhere.example/<b>dpa</b>")
    same = dataclasses.replace(dpa.versions[0], final_url=dpa.url)
    timeline = dataclasses.replace(dpa, versions=(same, moved))
    html = render_site(make_context(), SiteHistory((timeline,), history.changes))[
        "sources/mistral-api/dpa.html"
    ]
    rows = re.findall(r"<tr>\n<th scope=\"row\">.*?</tr>", html, re.S)
    assert "fetched from" in rows[0]
    assert "https://elsewhere.example/&lt;b&gt;dpa&lt;/b&gt;" in rows[0]  # escaped, not linked
    assert "fetched from" not in rows[1]  # the source's own URL is not repeated


def test_change_page_shows_evidence_before_and_after_and_snapshot_files() -> None:
    ctx = make_context()
    history = make_history()
    old = dataclasses.replace(history.timelines[0].versions[0], snapshot_id=120)
    timeline = dataclasses.replace(history.timelines[0], versions=(old,))
    html = render_site(ctx, SiteHistory((timeline,), history.changes))["changes/12.html"]
    evidence = html[html.index('id="evidence"') : html.index('id="side"')]
    assert "Before (as catalogued)" in evidence and "After (in the new text)" in evidence
    assert "Le Chat Team or the API" in evidence  # the quote as catalogued
    assert "<del>, Le Chat Team</del>" in evidence
    # the old snapshot is in the history (linked), the new one is not (named only)
    assert f'href="../text/{"b" * 64}.txt"' in html
    assert f'href="../raw/{"a" * 64}.html.txt"' in html
    assert "After: snapshot 121\n" in html


def test_index_puts_the_most_severe_flags_first() -> None:
    ctx = make_context()
    evidence, resolved = ctx.flags
    topic = dataclasses.replace(
        make_flag(evidence.reasons[0]),
        tool_id="other",
        tool_name="Other Tool",
        criterion_id="eu-saas",
        criterion_label="EU SaaS topic",
        severity="topic",
        opened_at=at(1),  # older, but less severe
    )
    index = render_site(dataclasses.replace(ctx, flags=(topic, evidence, resolved)))["index.html"]
    assert index.index("No training on customer data") < index.index("EU SaaS topic")


def test_written_site_links_resolve_and_snapshot_files_are_written_once(tmp_path: Path) -> None:
    calls: list[str] = []

    def blob(sha: str) -> bytes:
        calls.append(sha)
        return b"<script>alert(1)</script>" if sha[0] in "ac" else b"text"

    root = tmp_path / "site"
    write_site(make_context(), root, make_history(), blob)
    assert (root / "raw" / f"{'a' * 64}.html.txt").read_bytes() == b"<script>alert(1)</script>"
    texts = sorted(p.name for p in (root / "text").iterdir())
    assert texts == [f"{'b' * 64}.txt", f"{'d' * 64}.txt"]
    assert len(calls) == 4
    write_site(make_context(), root, make_history(), blob)
    assert len(calls) == 4  # content-addressed: nothing is rewritten
    for page in root.rglob("*.html"):
        for href in re.findall(r'href="([^"]+)"', page.read_text(encoding="utf-8")):
            if href.startswith(("https://", "#")):
                continue
            target = (page.parent / unquote(urlsplit(href).path)).resolve()
            assert target.is_file(), f"{page.relative_to(root)} links to missing {href}"


def test_demo_site_has_timelines_raw_files_and_csv(demo_report: Path, tmp_path: Path) -> None:
    timelines = sorted(p.name for p in (demo_report / "sources" / "mistral-api").iterdir())
    assert len(timelines) == 9 and "privacy-policy.html" in timelines
    policy = (demo_report / "sources/mistral-api/privacy-policy.html").read_text("utf-8")
    assert policy.count('<th scope="row"><time') == 4  # v1, v2 (noise), v3, v4
    assert "noise only" in policy and 'href="../../changes/3.html"' in policy
    raw = list((demo_report / "raw").iterdir())
    assert raw and all(p.name.endswith(".html.txt") for p in raw)
    assert (demo_report / "feeds" / "all.atom").is_file()
    # CSV through both commands, on a copy of the demo database (reports mark changes sent)
    db = tmp_path / "copy.db"
    shutil.copy(demo_report.parent / "citewatch.db", db)
    url = f"sqlite:///{db}"
    done = subprocess.run(
        [CITEWATCH, "--db", url, "changes", "--all", "--csv"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows = list(csv.DictReader(io.StringIO(done.stdout, newline="")))
    # Row 5 is v3's minor edit (a comma), row 7 v4's compute page (a citation gap, no flag).
    significant = ["false", "false", "true", "true", "false", "true", "true"]
    assert [r["significant"] for r in rows] == significant
    assert rows[2]["flagged"] == "no-training" and rows[2]["source"] == "privacy-policy"
    assert rows[3]["flagged"] == "no-training dpa" and rows[3]["source"] == "dpa"
    assert rows[4]["flagged"] == "" and rows[4]["source"] == "help-certifications"
    assert rows[5]["flagged"] == "no-training" and rows[5]["source"] == "privacy-policy"
    assert rows[6]["flagged"] == "" and rows[6]["source"] == "compute"
    out = tmp_path / "export"
    subprocess.run(
        [CITEWATCH, "--db", url, "report", "--format", "csv", "--out", str(out)],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert (out / "changes.csv").read_text("utf-8") == done.stdout
