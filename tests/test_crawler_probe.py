"""`citewatch probe`: the onboarding dry run, on the demo's pages and on scripted local pages
(real fetch child in a subprocess; nothing stored)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.catalog.model import load_catalog
from crawler.demo import DemoSite, site_root, write_catalog
from crawler.probe.checks import shell_verdict, suggest_select
from tests.conftest import LocalServer, Reply

CITEWATCH = shutil.which("citewatch") or str(
    Path(__file__).resolve().parents[1] / ".venv/bin/citewatch"
)
FAST = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False")
# The privacy policy's training clause as the demo's catalog quotes it, and with a typo.
CLAUSE = "we do not use your Input and Output to train our artificial intelligence models"
TYPO = "we do not use your Input and Output to train our artifical intelligence models"


def probe(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`citewatch probe` in `cwd`, with the default database (a file there, if any)."""
    return subprocess.run(
        [CITEWATCH, "probe", *args, *FAST], capture_output=True, text=True, timeout=300,
        cwd=cwd, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo's catalog, its URLs pointing at the demo's pages served on 127.0.0.1."""
    out = tmp_path_factory.mktemp("probe-demo")
    with DemoSite(site_root()).serve() as base:
        yield write_catalog(base, out)


def as_json(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def test_every_quote_of_the_demo_catalog_is_found_and_nothing_is_stored(
    demo_site: Path, tmp_path: Path
) -> None:
    done = probe(tmp_path, str(demo_site), "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    found = as_json(done)
    assert found["ok"] is True
    assert len(found["sources"]) == 9
    quotes = [q for s in found["sources"] for q in s["quotes"]]
    catalog = load_catalog(demo_site)
    assert len(quotes) == sum(len(r.evidence) for t in catalog.tools for r in t.ratings) > 10
    assert all(q["found"] and q["match"] == "exact" and q["score"] == 100 for q in quotes)
    policy = found["sources"][0]
    assert (policy["tool"], policy["source"]) == ("mistral-api", "privacy-policy")
    assert policy["status"] == 200 and policy["final_url"] == policy["url"]
    assert policy["title"] == "Privacy Policy" and policy["method"] == "html/4"
    assert policy["first_lines"][0] == "# Privacy Policy" and policy["chars"] > 2000
    assert not any(s["js_shell"] or s["bot_wall"] or s["error"] for s in found["sources"])
    assert list(tmp_path.iterdir()) == []  # no database file, nothing else either


def test_a_quote_with_a_typo_is_not_found_and_the_closest_passage_is_shown(
    demo_site: Path, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog"
    shutil.copytree(demo_site, catalog)
    entry = catalog / "tools" / "mistral-api.yaml"
    text = entry.read_text("utf-8")
    assert CLAUSE in text
    entry.write_text(text.replace(CLAUSE, TYPO), "utf-8")
    done = probe(tmp_path, str(catalog), "--json", "--source", "privacy-policy")
    assert done.returncode == 3, done.stderr[-2000:]
    (policy,) = as_json(done)["sources"]
    typo = next(q for q in policy["quotes"] if q["criterion"] == "no-training")
    assert typo["found"] is False and typo["match"] == "reworded"
    assert 90 <= typo["score"] < 100
    assert CLAUSE in typo["closest"]  # the page's own sentence, widened to whole sentences
    other = next(q for q in policy["quotes"] if q["criterion"] == "server-location")
    assert other["found"] is True and policy["ok"] is False

    text_out = probe(tmp_path, str(catalog), "--source", "privacy-policy")
    assert text_out.returncode == 3
    assert "mistral-api/privacy-policy: NEEDS ATTENTION" in text_out.stdout
    line = next(x for x in text_out.stdout.splitlines() if "NOT FOUND" in x)
    assert "(no-training, reworded on the page?)" in line and f"{TYPO}" in line
    assert CLAUSE in line.split("closest", 1)[1]


SHELL = (
    b"<!doctype html><html><head><title>Help</title>"
    b'<script src="/static/js/main.3f2a.js" defer></script></head><body>'
    b'<noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div>'
    b"</body></html>"
)
WALL = (
    b"<html><head><title>Just a moment...</title></head><body><h1>Checking your browser</h1>"
    b"<p>Enable JavaScript and cookies to continue</p></body></html>"
)


def _catalog(folder: Path, server: LocalServer) -> Path:
    tools = folder / "catalog" / "tools"
    tools.mkdir(parents=True)
    (tools / "acme.yaml").write_text(
        "id: acme\nname: Acme\nsources:\n"
        f"  - id: help\n    url: {server.url('/help')}\n"
        f"  - id: policy\n    url: {server.url('/policy')}\n"
        "ratings:\n  no-training:\n    rating: yes\n    sources: [help]\n"
        "    evidence:\n      - source: help\n        quote: we never train on your data\n",
        "utf-8",
    )
    return tools.parent


def test_a_javascript_shell_and_a_bot_wall_are_reported(
    http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.route("/robots.txt", Reply(200, b"User-agent: *\nAllow: /\n"))
    http_server.route("/help", Reply(200, SHELL, {"Content-Type": "text/html"}))
    http_server.route("/policy", Reply(200, WALL, {"Content-Type": "text/html"}))
    done = probe(tmp_path, str(_catalog(tmp_path, http_server)), "--json")
    assert done.returncode == 4, done.stderr[-2000:]  # neither page could be read
    help_page, policy = as_json(done)["sources"]
    assert help_page["js_shell"] and "needs rendering" in help_page["js_shell"]
    (quote,) = help_page["quotes"]
    assert quote["found"] is False and quote["match"] == "none"
    assert policy["bot_wall"] and "bot challenge" in policy["bot_wall"]
    assert policy["js_shell"] is None


def test_a_failed_fetch_is_reported_with_its_class(
    http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.route("/robots.txt", Reply(200, b"User-agent: *\nAllow: /\n"))
    page = b"<html><body><p>We never train on your data, ever.</p></body></html>"
    http_server.route("/help", Reply(200, page, {"Content-Type": "text/html"}))
    done = probe(tmp_path, str(_catalog(tmp_path, http_server)))  # /policy: 404
    assert done.returncode == 3, done.stderr[-2000:]
    assert "acme/help: ok" in done.stdout
    assert "acme/policy: NEEDS ATTENTION" in done.stdout
    assert "failed [gone]: HTTP 404" in done.stdout


def test_an_unknown_source_is_a_one_line_error(demo_site: Path, tmp_path: Path) -> None:
    done = probe(tmp_path, str(demo_site), "--source", "nope")
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: no source nope in the selected tools"


def test_shell_verdict_needs_app_markup_not_just_a_short_page() -> None:
    short = b'<html><head><script src="/_static/js/main.b8f3.js"></script></head><body>'
    # A short help article that loads the site's bundle is complete as sent.
    article = "Our certifications: ISO 27001 and SOC 2 Type II, renewed every year. " * 3
    body = short + f"<p>{article}</p></body></html>".encode()
    assert shell_verdict(body, article) is None
    assert shell_verdict(SHELL, "") is not None
    assert shell_verdict(SHELL, "x" * 1000) is None  # a rendered app is a page


def test_select_is_suggested_only_when_most_text_is_navigation() -> None:
    nav = tuple(f"» - Link to another article number {i}" for i in range(30))
    body = ("# Terms", "We keep your data in the EU and delete it after thirty days.")
    pages = {"main": body, "article": None}

    def extract(select: Any) -> tuple[str, ...] | None:
        return pages.get(select[0])

    assert suggest_select((*body, *nav), extract) == "main"
    assert suggest_select((*body, *nav[:1]), extract) is None  # mostly the document already
    pages["main"] = body[:1]  # a main that loses part of the document is no suggestion
    assert suggest_select((*body, *nav), extract) is None
