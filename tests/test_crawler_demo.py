"""`citewatch demo` as a new user runs it: flag, review, re-opened flag (real subprocesses)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

CITEWATCH = shutil.which("citewatch") or str(
    Path(__file__).resolve().parents[1] / ".venv/bin/citewatch"
)


def citewatch(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed command line."""
    return subprocess.run(
        [CITEWATCH, *args], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo's output folder and its database URL."""
    out = tmp_path_factory.mktemp("demo")
    done = citewatch("demo", "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Report (open in a browser): {out / 'report' / 'index.html'}" in done.stdout
    return out, f"sqlite:///{out / 'citewatch.db'}"


TIERS = ("substantive", "minor", "noise")


def flags(db: str, status: str = "open") -> list[dict[str, Any]]:
    """`citewatch flags --json` as data."""
    done = citewatch("--db", db, "flags", "--status", status, "--json")
    assert done.returncode == 0, done.stderr
    out: list[dict[str, Any]] = json.loads(done.stdout)
    return out


def test_demo_flags_training_change_and_ignores_noise(demo: tuple[Path, str]) -> None:
    out, db = demo
    changes = json.loads(citewatch("--db", db, "changes", "--all", "--json").stdout)
    tiers = {t: sorted(c["source"] for c in changes if c["tier"] == t) for t in TIERS}
    assert tiers["noise"] == ["dpa", "privacy-policy"]  # v2: noise only
    assert tiers["minor"] == ["help-certifications"]  # v3: a comma
    # v3, v4; and v4's compute page, which speaks about training (a citation gap)
    assert tiers["substantive"] == ["compute", "dpa", "privacy-policy", "privacy-policy"]
    assert all(c["significant"] == (c["tier"] == "substantive") for c in changes)
    # v3's flag, confirmed by the demo's editor between v3 and v4.
    (closed,) = flags(db, "resolved")
    assert (closed["tool"], closed["criterion"]) == ("mistral-api", "no-training")
    sentences = [s for r in closed["reasons"] for s in r["sentences"]]
    assert any(
        s["old"] and "Le Chat Team" in s["old"] and "Le Chat Team" not in (s["new"] or "")
        for s in sentences
    )
    md = (out / "report" / "report.md").read_text(encoding="utf-8")
    assert "No training on customer data" in md and "~~" in md  # struck-out words shown
    assert "2 noise-only change(s) suppressed" in md
    assert "1 minor change(s) listed, not alerted" in md and "### Minor changes" in md
    assert "may concern **No training on customer data** (this source is not cited by it)" in md
    assert "demo-editor · confirm" in md  # the resolution is in the report
    html = (out / "report" / "index.html").read_text(encoding="utf-8")
    assert "<del" in html and "Le Chat Team" in html
    tool_page = (out / "report" / "tools" / "mistral-api.html").read_text(encoding="utf-8")
    evidence = tool_page[tool_page.index('id="evidence"') :]
    assert evidence.count("<strong>altered</strong>") == 1 and "now reads:" in evidence


def test_a_later_change_reopens_review_against_the_accepted_wording(
    demo: tuple[Path, str],
) -> None:
    _, db = demo
    by_criterion = {f["criterion"]: f for f in flags(db)}
    # The DPA changed at v3: its own rating (resting on the DPA as a whole) awaits review too.
    assert sorted(by_criterion) == ["dpa", "no-training"]
    reopened = by_criterion["no-training"]
    assert reopened["severity"] == "evidence"
    (evidence,) = [r for r in reopened["reasons"] if r["kind"] == "evidence-altered"]
    # The anchor was refreshed when the editor confirmed: v4 is compared with v3's wording
    # (without "Le Chat Team"), not with the catalog's original quote.
    assert "Le Chat Team" not in evidence["old_quote"]
    assert "or the paid version of our APIs" in evidence["old_quote"]
    assert "or the paid version" not in evidence["new_quote"]


def test_review_closes_the_flag_and_report_shows_it(demo: tuple[Path, str]) -> None:
    out, db = demo
    done = citewatch(
        "--db",
        db,
        "review",
        "mistral-api",
        "no-training",
        "--set",
        "no",
        "--note",
        "The paid API may now train unless opted out",
        "--by",
        "editor",
    )
    assert done.returncode == 0, done.stderr
    assert [f["criterion"] for f in flags(db)] == ["dpa"]
    assert [f["criterion"] for f in flags(db, "resolved")] == ["no-training", "no-training"]
    report = citewatch("--db", db, "report", "--out", str(out / "after"), "--format", "html")
    assert report.returncode == 0, report.stderr
    tool_page = (out / "after" / "tools" / "mistral-api.html").read_text(encoding="utf-8")
    assert "may now train unless opted out" in tool_page and "editor" in tool_page
    assert "demo-editor" in tool_page  # the earlier resolution stays in the history
    # The review re-anchored the evidence: v4's wording is now the accepted one, found.
    evidence = tool_page[tool_page.index('id="evidence"') :]
    assert "<strong>altered</strong>" not in evidence
    assert "Input and Output of the paid version of our APIs may be used" in evidence


def test_demo_writes_the_email_it_would_send(demo: tuple[Path, str]) -> None:
    from email import message_from_bytes, policy

    out, _ = demo
    mail = message_from_bytes((out / "email.eml").read_bytes(), policy=policy.default)
    assert "Re-review Mistral API: No training on customer data" in str(mail["Subject"])
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    text = (out / "email.txt").read_text(encoding="utf-8")
    # The digest shows what awaits review: v4's re-opened flag, with the struck words.
    assert "Le Chat Enterprise [-or the paid version of our APIs-]." in text
    assert (out / "report" / "index.html").resolve().as_uri() in text  # links to the site
    # The minor edit is one count, never listed; the citation gap is told as a suggestion.
    assert "1 minor change(s) not alerted" in text and "help-certifications" not in text
    assert "May concern No training on customer data (this source is not cited by it)" in text
