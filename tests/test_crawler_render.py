"""Rendering: render: auto / true in real crawls with Debian's Chromium on local pages."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from chromium import find_chromium
from conftest import LocalServer, Reply

from crawler.catalog.model import load_catalog
from crawler.catalog.strict_yaml import CatalogError
from crawler.extract.shell import looks_like_js_shell
from crawler.ingest.crawl import SourceOutcome, run_crawl
from storage import Store
from storage.models import Blob, Fetch, Snapshot

HTML = {"Content-Type": "text/html; charset=utf-8"}
# No delay between two requests to the local server (the rendered request is a second one).
FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "CITEWATCH_RENDER_SETTLE_S": "4"}
TIMEOUT_S = 120.0  # an upper bound: a hang fails the test, never slows it

if find_chromium() is None:
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed, and CI must run the render tests")
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

FRANKFURT = "Customer data is stored in Frankfurt, Germany, in data centres we operate."
VIRGINIA = "Customer data is stored in Virginia, United States, in data centres we operate."


def injected(sentence: str, delay_ms: int = 500) -> bytes:
    """A page whose text a script puts in after `delay_ms`."""
    return (
        '<!doctype html><html><head><title>Privacy</title></head><body><div id="root"></div>'
        "<script>setTimeout(function () { document.getElementById('root').innerHTML ="
        f" '<h1>Privacy policy</h1><p>{sentence}</p>'; }}, {delay_ms});</script></body></html>"
    ).encode()


def next_shell(sentence: str) -> bytes:
    """A Next.js-style shell: the text travels in __NEXT_DATA__, a script renders it."""
    return (
        '<!doctype html><html><head><title>Terms</title></head><body><div id="__next"></div>'
        '<script id="__NEXT_DATA__" type="application/json">'
        f'{{"props":{{"pageProps":{{"title":"Terms","body":"{sentence}"}}}}}}</script>'
        "<script>var d = JSON.parse(document.getElementById('__NEXT_DATA__').textContent)"
        ".props.pageProps; document.getElementById('__next').innerHTML = '<h1>' + d.title +"
        " '</h1><p>' + d.body + '</p>';</script></body></html>"
    ).encode()


def loading(sentence: str) -> bytes:
    """A "Loading…" placeholder that a script replaces with the page's text."""
    return (
        "<!doctype html><html><body><main><p>Loading…</p></main><script>"
        "setTimeout(function () { document.querySelector('main').innerHTML ="
        f" '<h1>Where we host</h1><p>{sentence}</p>'; }}, 300);</script></body></html>"
    ).encode()


NEVER_SETTLES = (
    b"<!doctype html><html><body><div id='app'></div><script>var n = 0;"
    b"setInterval(function () { document.getElementById('app').textContent ="
    b" 'Tick ' + (n++); }, 100);</script></body></html>"
)
CHALLENGE = (
    b"<!doctype html><html><head><title>Just a moment...</title></head><body>"
    b"<div id='root'></div><noscript>Enable JavaScript and cookies to continue</noscript>"
    b"<script>window._cf_chl_opt = {cvId: '3'};</script></body></html>"
)


def catalog(folder: Path, server: LocalServer, sources: dict[str, str]) -> Path:
    """One tool citing /<id> for each source, with the given render value."""
    (folder / "tools").mkdir(parents=True)
    lines = "".join(
        f"  - id: {sid}\n    url: {server.url('/' + sid)}\n    render: {render}\n"
        for sid, render in sources.items()
    )
    (folder / "tools" / "t.yaml").write_text(
        f"id: t\nname: T\nsources:\n{lines}ratings:\n"
        "  server-location:\n    rating: yes\n"
        f"    sources: [{', '.join(sources)}]\n",
        encoding="utf-8",
    )
    return folder


def crawl(tmp_path: Path, folder: Path, **settings: str) -> dict[str, SourceOutcome]:
    """One crawl of the catalog into tmp_path's database; each source's outcome by id."""
    store = Store.open(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        report = run_crawl(
            store, load_catalog(folder), settings={**FAST, **settings}, timeout=TIMEOUT_S
        )
    finally:
        store.close()
    return {s.source: s for s in report.sources}


def stored(tmp_path: Path) -> list[tuple[str, bool, bytes | None]]:
    """Each snapshot's text, whether its fetch rendered, and its screenshot's stored bytes."""
    store = Store.open(f"sqlite:///{tmp_path / 'c.db'}", create=False)
    try:
        with store.sessions() as s:
            rows = s.execute(
                sa.select(Snapshot.text_sha, Fetch.rendered, Snapshot.screenshot_sha)
                .join(Fetch, Fetch.id == Snapshot.fetch_id)
                .order_by(Snapshot.id)
            ).all()
            out = []
            for text_sha, rendered, shot_sha in rows:
                text = store.blob(text_sha).decode()
                shot = store.blob(shot_sha) if shot_sha else None
                out.append((text, rendered, shot))
            return out
    finally:
        store.close()


def test_script_injected_text_and_next_shell_are_rendered_with_screenshots(
    tmp_path: Path, http_server: LocalServer
) -> None:
    http_server.route("/late", Reply(body=injected(FRANKFURT), headers=HTML))
    http_server.route("/next", Reply(body=next_shell("You own your content."), headers=HTML))
    folder = catalog(tmp_path / "cat", http_server, {"late": "auto", "next": "true"})
    outcomes = crawl(tmp_path, folder)
    assert {k: o.outcome for k, o in outcomes.items()} == {"late": "new", "next": "new"}
    texts = stored(tmp_path)
    assert len(texts) == 2
    assert any(FRANKFURT in t and "Privacy policy" in t for t, _, _ in texts)
    assert any("You own your content." in t and "Terms" in t for t, _, _ in texts)
    assert all(rendered for _, rendered, _ in texts)
    for _, _, shot in texts:
        assert shot is not None and shot[:3] == b"\xff\xd8\xff"  # a JPEG


def test_loading_placeholder_then_frankfurt_to_virginia_flags_server_location(
    tmp_path: Path, http_server: LocalServer
) -> None:
    http_server.route(
        "/hosting",
        Reply(body=loading(FRANKFURT), headers=HTML),
        Reply(body=loading(FRANKFURT), headers=HTML),  # the rendered request of crawl 1
        Reply(body=loading(VIRGINIA), headers=HTML),
    )
    folder = catalog(tmp_path / "cat", http_server, {"hosting": "auto"})
    first = crawl(tmp_path, folder)["hosting"]
    assert first.outcome == "new", first
    second = crawl(tmp_path, folder)["hosting"]
    assert second.outcome == "changed", second
    assert second.tier == "substantive"
    assert "server-location" in second.flags
    texts = [t for t, _, _ in stored(tmp_path)]
    assert "Frankfurt" in texts[0] and "Virginia" in texts[-1]
    assert not any("Loading" in t for t in texts)
    # The change page shows both screenshots, copied in as files, the changed sentence marked.
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "crawler.cli", "--db", f"sqlite:///{tmp_path / 'c.db'}",
         "report", "--format", "html", "--out", str(site)],
        check=True, capture_output=True, timeout=TIMEOUT_S,
    )  # fmt: skip
    page = (site / "changes" / f"{second.change}.html").read_text(encoding="utf-8")
    shots = re.findall(r'<img src="\.\./(shots/[0-9a-f]{64}\.jpg)"', page)
    assert len(shots) == 2 and shots[0] != shots[1]
    assert all((site / rel).read_bytes()[:3] == b"\xff\xd8\xff" for rel in shots)
    assert page.count('class="shot-mark"') == 2  # the Frankfurt and the Virginia sentence
    assert "data:image" not in page


def test_unsettled_page_and_bot_challenge_end_in_their_failure_classes(
    tmp_path: Path, http_server: LocalServer
) -> None:
    http_server.route("/ticker", Reply(body=NEVER_SETTLES, headers=HTML))
    http_server.route("/challenge", Reply(body=CHALLENGE, headers=HTML))
    folder = catalog(tmp_path / "cat", http_server, {"ticker": "true", "challenge": "auto"})
    outcomes = crawl(tmp_path, folder)
    ticker, challenge = outcomes["ticker"], outcomes["challenge"]
    assert (ticker.outcome, ticker.failure_class) == ("failed", "suspicious")
    assert "did not settle within 4 s" in (ticker.error or "")
    assert (challenge.outcome, challenge.failure_class) == ("failed", "blocked")
    assert stored(tmp_path) == []  # neither left a version


def test_without_chromium_a_shell_is_suspicious_and_render_true_names_the_package(
    tmp_path: Path, http_server: LocalServer
) -> None:
    http_server.route("/shell", Reply(body=injected(FRANKFURT), headers=HTML))
    http_server.route("/forced", Reply(body=b"<html><body><p>Static.</p></body></html>"))
    folder = catalog(tmp_path / "cat", http_server, {"shell": "auto", "forced": "true"})
    outcomes = crawl(tmp_path, folder, CITEWATCH_CHROMIUM=str(tmp_path / "no-chromium"))
    shell, forced = outcomes["shell"], outcomes["forced"]
    assert (shell.outcome, shell.failure_class) == ("failed", "suspicious")
    assert (shell.error or "").startswith("looks like a JavaScript shell: set render: true")
    assert forced.outcome == "failed"
    assert "Debian package `chromium`" in (forced.error or "")
    assert stored(tmp_path) == []  # never a near-empty version


def test_render_false_never_starts_a_browser_and_plain_pages_are_not_rendered(
    tmp_path: Path, http_server: LocalServer
) -> None:
    body = b"<html><body><main><h1>Imprint</h1><p>Acme GmbH, Berlin.</p></main></body></html>"
    http_server.route("/imprint", Reply(body=body, headers=HTML))
    http_server.route("/static", Reply(body=body, headers=HTML))
    folder = catalog(tmp_path / "cat", http_server, {"imprint": "auto", "static": "false"})
    outcomes = crawl(tmp_path, folder)
    assert {k: o.outcome for k, o in outcomes.items()} == {"imprint": "new", "static": "new"}
    assert [(r, s) for _, r, s in stored(tmp_path)] == [(False, None), (False, None)]
    assert [h.path for h in http_server.hits()].count("/imprint") == 1  # fetched once


def test_robots_txt_disallow_holds_for_rendered_sources(
    tmp_path: Path, http_server: LocalServer
) -> None:
    http_server.route("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /private\n"))
    http_server.route("/private", Reply(body=injected(FRANKFURT), headers=HTML))
    folder = catalog(tmp_path / "cat", http_server, {"private": "true"})
    outcome = crawl(tmp_path, folder)["private"]
    assert (outcome.outcome, outcome.failure_class) == ("failed", "blocked")
    assert not [h for h in http_server.hits() if h.path == "/private"]


def reason(html: bytes | str, text: str) -> str:
    """The shell verdict's reason; fails when the body is not read as a shell."""
    verdict = looks_like_js_shell(html, text)
    assert verdict is not None, "expected a shell verdict"
    return verdict.reason


def test_shell_verdicts_on_bodies() -> None:
    assert "empty app root" in reason(injected(FRANKFURT), "")
    assert "__NEXT_DATA__" in reason(next_shell("x"), "")
    assert "placeholder" in reason(loading("x"), "Loading…")
    assert "bytes of script" in reason(b"<p>Hi</p><script src=/app.js></script>", "Hi")
    assert looks_like_js_shell(CHALLENGE, "Just a moment...") is None  # blocked, not a shell
    page = f"<html><body><p>{FRANKFURT * 10}</p><script>{'x' * 90000}</script></body></html>"
    assert looks_like_js_shell(page, FRANKFURT * 10) is None  # text of its own: read as sent
    assert looks_like_js_shell("<html><body><p>Short.</p></body></html>", "Short.") is None


def test_blobs_are_content_addressed(tmp_path: Path, http_server: LocalServer) -> None:
    http_server.route("/a", Reply(body=injected(FRANKFURT), headers=HTML))
    http_server.route("/b", Reply(body=injected(FRANKFURT), headers=HTML))
    folder = catalog(tmp_path / "cat", http_server, {"a": "auto", "b": "auto"})
    crawl(tmp_path, folder)
    store = Store.open(f"sqlite:///{tmp_path / 'c.db'}", create=False)
    try:
        with store.sessions() as s:
            shots = s.scalars(sa.select(Snapshot.screenshot_sha)).all()
            assert len(shots) == 2 and shots[0] == shots[1]  # the same page: one blob
            assert s.scalar(sa.select(Blob.codec).where(Blob.sha256 == shots[0])) == "zstd"
    finally:
        store.close()


@pytest.mark.parametrize(
    ("value", "mode"), [("true", "always"), ("false", "never"), ("auto", "auto"), (None, "auto")]
)
def test_catalog_render_values_and_default(tmp_path: Path, value: str | None, mode: str) -> None:
    (tmp_path / "tools").mkdir()
    line = f"    render: {value}\n" if value is not None else ""
    (tmp_path / "tools" / "t.yaml").write_text(
        f"id: t\nname: T\nsources:\n  - id: s\n    url: https://example.org/\n{line}"
    )
    [tool] = load_catalog(tmp_path).tools
    assert tool.sources[0].render == mode


@pytest.mark.parametrize("value", ["1", "yes-please", "Auto", "[auto]"])
def test_catalog_render_rejects_other_values(tmp_path: Path, value: str) -> None:
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "t.yaml").write_text(
        f"id: t\nname: T\nsources:\n  - id: s\n    url: https://example.org/\n    render: {value}\n"
    )
    with pytest.raises(CatalogError, match=r"render: expected true or false \(or auto\)"):
        load_catalog(tmp_path)
