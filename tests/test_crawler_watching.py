"""A rating that is not watched is loud, and a change about a criterion in a source its
rating does not cite is suggested: through real crawls of local pages (crawl --json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from storage.store import Store
from tests.conftest import LocalServer, Reply

PRIVACY_V1 = """<html><body><main><h1>Privacy Policy</h1>
<p>We do not use your Input and Output to train our models when you use the paid API.</p>
<p>We store data in the European Union and keep it for thirty days.</p></main></body></html>"""
PRIVACY_V2 = PRIVACY_V1.replace(
    "We do not use your Input and Output to train our models when you use the paid API.",
    "We may use your Input and Output to fine-tune our models unless you opt out.",
)
DPA = """<html><body><main><h1>Data Processing Addendum</h1>
<p>The processor processes personal data only on documented instructions.</p>
</main></body></html>"""
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
TYPO = "We do not use your Imput and Output to train our models"


def catalog(folder: Path, server: LocalServer, quotes: list[str]) -> Path:
    """no-training cites only the DPA; its quotes are taken (or mistyped) from the privacy
    policy, which server-location cites."""
    (folder / "tools").mkdir(parents=True, exist_ok=True)
    evidence = "".join(f"\n      - source: privacy\n        quote: {q}" for q in quotes)
    cited = "dpa, privacy" if quotes else "dpa"
    listed = f"\n    evidence:{evidence}" if quotes else ""
    (folder / "tools" / "acme.yaml").write_text(
        f"""id: acme
name: Acme AI
sources:
  - id: privacy
    url: {server.url("/privacy")}
    kind: privacy-policy
  - id: dpa
    url: {server.url("/dpa")}
    kind: dpa
ratings:
  no-training:
    rating: yes
    sources: [{cited}]{listed}
  server-location:
    rating: partial
    sources: [privacy]
""",
        encoding="utf-8",
    )
    return folder


def crawl(db: str, folder: Path) -> dict[str, dict[str, object]]:
    result = CliRunner().invoke(
        cli, ["--db", db, "crawl", str(folder), "--json", *FAST], obj={}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return {s["source"]: s for s in json.loads(result.stdout)["sources"]}


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cw.db'}"


def html(body: str) -> Reply:
    return Reply(200, body.encode(), {"Content-Type": "text/html; charset=utf-8"})


def test_a_quote_never_found_is_reported_with_the_closest_passage(
    http_server: LocalServer, tmp_path: Path, db: str
) -> None:
    http_server.route("/privacy", html(PRIVACY_V1))
    http_server.route("/dpa", html(DPA))
    folder = catalog(tmp_path / "cat", http_server, [TYPO])
    first = crawl(db, folder)["privacy"]
    (unwatched,) = first["evidence_never_found"]  # type: ignore[misc]
    assert unwatched["criterion"] == "no-training" and unwatched["quote"] == TYPO
    assert "We do not use your Input and Output to train our models" in unwatched["closest"]
    assert unwatched["score"] >= 90
    stored = Store.open(db).unwatched()
    assert [(a.criterion_id, a.status) for a in stored] == [("no-training", "never-found")]
    human = CliRunner().invoke(cli, ["--db", db, "crawl", str(folder), *FAST], obj={})
    assert "evidence never found" not in human.output  # told once, kept in the database


def test_a_quote_added_later_is_checked_at_the_next_fetch(
    http_server: LocalServer, tmp_path: Path, db: str
) -> None:
    http_server.route("/privacy", html(PRIVACY_V1))
    http_server.route("/dpa", html(DPA))
    folder = catalog(tmp_path / "cat", http_server, [])
    assert crawl(db, folder)["privacy"]["evidence_never_found"] == []
    catalog(folder, http_server, [TYPO])  # the editor adds a (mistyped) quote
    again = crawl(db, folder)["privacy"]
    assert again["outcome"] == "unchanged"
    assert [u["quote"] for u in again["evidence_never_found"]] == [TYPO]  # type: ignore[union-attr]


def test_a_change_about_a_criterion_in_a_source_it_does_not_cite_is_suggested(
    http_server: LocalServer, tmp_path: Path, db: str
) -> None:
    http_server.route("/privacy", html(PRIVACY_V1), html(PRIVACY_V2))
    http_server.route("/dpa", html(DPA))
    folder = catalog(tmp_path / "cat", http_server, [])
    crawl(db, folder)
    changed = crawl(db, folder)["privacy"]
    assert changed["significant"] is True
    assert "no-training" not in changed["flags"]  # the rating does not rest on this page
    assert changed["may_concern"] == ["no-training"]
    (gap,) = Store.open(db).suggestions()
    assert gap.criterion_id == "no-training" and gap.change_id == changed["change"]
    assert "not cited by it" in gap.text and "fine-tune" in gap.matched_terms
