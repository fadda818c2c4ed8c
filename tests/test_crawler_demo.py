"""`citewatch demo` as a new user runs it, then a review closes the flag (real subprocesses)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

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


def test_demo_flags_training_change_and_ignores_noise(demo: tuple[Path, str]) -> None:
    out, db = demo
    changes = json.loads(citewatch("--db", db, "changes", "--all", "--json").stdout)
    noise = [c for c in changes if not c["significant"]]
    significant = [c for c in changes if c["significant"]]
    assert {c["source"] for c in noise} == {"privacy-policy", "dpa"}  # v2: noise only
    assert {c["source"] for c in significant} == {"privacy-policy", "dpa"}  # v3
    (flag,) = json.loads(citewatch("--db", db, "flags", "--json").stdout)
    assert (flag["tool"], flag["criterion"]) == ("mistral-api", "no-training")
    sentences = [s for r in flag["reasons"] for s in r["sentences"]]
    assert any(
        s["old"] and "Le Chat Team" in s["old"] and "Le Chat Team" not in (s["new"] or "")
        for s in sentences
    )
    md = (out / "report" / "report.md").read_text(encoding="utf-8")
    assert "No training on customer data" in md and "~~" in md  # struck-out words shown
    assert "2 noise-only change(s) suppressed" in md
    html = (out / "report" / "index.html").read_text(encoding="utf-8")
    assert "<del" in html and "Le Chat Team" in html


def test_review_closes_the_flag_and_report_shows_it(demo: tuple[Path, str]) -> None:
    out, db = demo
    done = citewatch(
        "--db",
        db,
        "review",
        "mistral-api",
        "no-training",
        "--confirm",
        "--note",
        "API path unchanged",
        "--by",
        "editor",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(citewatch("--db", db, "flags", "--json").stdout) == []
    resolved = json.loads(citewatch("--db", db, "flags", "--status", "resolved", "--json").stdout)
    assert [f["criterion"] for f in resolved] == ["no-training"]
    report = citewatch("--db", db, "report", "--out", str(out / "after"), "--format", "html")
    assert report.returncode == 0, report.stderr
    tool_page = (out / "after" / "tools" / "mistral-api.html").read_text(encoding="utf-8")
    assert "API path unchanged" in tool_page and "editor" in tool_page


def test_demo_writes_the_email_it_would_send(demo: tuple[Path, str]) -> None:
    from email import message_from_bytes, policy

    out, _ = demo
    mail = message_from_bytes((out / "email.eml").read_bytes(), policy=policy.default)
    assert "Re-review Mistral API: No training on customer data" in str(mail["Subject"])
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    text = (out / "email.txt").read_text(encoding="utf-8")
    assert "Le Chat Enterprise[-, Le Chat Team-] or the paid version" in text
    assert (out / "report" / "index.html").resolve().as_uri() in text  # links to the site
