"""The reviewers' site in a real browser: Debian's headless Chromium, started by the tests.

- The demo report renders at desktop (1280x800) and phone (390x844) size, the open flag is
  above the fold, nothing overflows sideways on the phone, and the page's own styles are
  not blocked by its Content-Security-Policy. Screenshots go to $CITEWATCH_ARTIFACTS
  (default tests/artifacts/, git-ignored).
- A hostile page, crawled for real, runs no script anywhere in the generated site: its
  payload sets document.title and a data-pwned attribute, and we read both back through
  DevTools after load. A control page with the same payload, unescaped and without CSP,
  shows that this detector does see a script that runs.

Without chromium the tests skip, except under CI (CI=true), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromium import DESKTOP, PHONE, Chromium, Viewport, find_chromium
from conftest import LocalServer, Reply

from storage import Store

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("CITEWATCH_ARTIFACTS") or ROOT / "tests" / "artifacts")
CITEWATCH = shutil.which("citewatch") or str(ROOT / ".venv/bin/citewatch")
MIN_CONTRAST = 4.5  # WCAG 2 AA for body text


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    """One headless Chromium for the module."""
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed, and CI must run the browser tests")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    chromium = Chromium(binary)
    yield chromium
    chromium.close()


# Where the open flag's heading and first line are, and whether they are what one sees there.
FLAG_GEOMETRY = """(() => {
  const card = document.querySelector('main article.flag.open');
  if (!card) return null;
  const heading = card.querySelector('h4'), line = heading.nextElementSibling;
  const box = (el) => { const r = el.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
  const h = box(heading);
  const hit = document.elementFromPoint((h.left + h.right) / 2, (h.top + h.bottom) / 2);
  return {heading: h, line: box(line), text: heading.textContent, onTop: heading.contains(hit),
          innerWidth, innerHeight, scrollWidth: document.documentElement.scrollWidth,
          border: getComputedStyle(card).borderTopStyle};
})()"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=lambda v: v.name)
def test_demo_flag_is_above_the_fold(
    browser: Chromium, demo_report: Path, viewport: Viewport
) -> None:
    browser.open((demo_report / "index.html").as_uri(), viewport)
    browser.screenshot(ARTIFACTS / f"index-{viewport.name}.png")
    geometry = browser.evaluate(FLAG_GEOMETRY)
    assert geometry is not None, "no open flag on the demo index"
    assert geometry["text"] == "No training on customer data"
    assert geometry["heading"]["top"] >= 0 and geometry["line"]["bottom"] <= viewport.height, (
        geometry
    )
    assert geometry["onTop"], "something covers the flag's heading"
    assert geometry["scrollWidth"] <= geometry["innerWidth"], "the page scrolls sideways"
    assert geometry["border"] == "solid", "the page's own CSS did not apply (CSP?)"
    assert browser.console() == []


def site_pages(site: Path) -> list[Path]:
    """Every HTML page of a generated site."""
    return sorted(site.rglob("*.html"))


def test_every_demo_page_renders_on_a_phone(browser: Chromium, demo_report: Path) -> None:
    pages = site_pages(demo_report)
    kinds = {p.parent.name for p in pages}
    assert {"changes", "tools", "mistral-api"} <= kinds  # mistral-api: the source timelines
    for page in pages:
        browser.open(page.as_uri(), PHONE)
        facts = browser.evaluate(
            "({lang: document.documentElement.lang, h1: document.querySelectorAll('h1').length,"
            " scrollWidth: document.documentElement.scrollWidth, innerWidth,"
            " skip: document.querySelector('a.skip').getAttribute('href')})"
        )
        name = page.relative_to(demo_report).as_posix()
        assert facts["lang"] == "en" and facts["h1"] == 1 and facts["skip"] == "#main", name
        assert facts["scrollWidth"] <= facts["innerWidth"], f"{name} scrolls sideways"
        assert browser.console() == [], name
    for name in ("changes/3.html", "sources/mistral-api/privacy-policy.html"):
        for viewport in (DESKTOP, PHONE):
            browser.open((demo_report / name).as_uri(), viewport)
            shot = name.replace("/", "-").removesuffix(".html")
            browser.screenshot(ARTIFACTS / f"{shot}-{viewport.name}.png")


def test_keyboard_focus_starts_at_a_visible_skip_link(browser: Chromium, demo_report: Path) -> None:
    browser.open((demo_report / "index.html").as_uri(), PHONE)
    for kind in ("keyDown", "keyUp"):
        browser.page(
            "Input.dispatchKeyEvent",
            {"type": kind, "key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9},
        )
    focused = browser.evaluate(
        "(() => { const el = document.activeElement, r = el.getBoundingClientRect(),"
        " s = getComputedStyle(el);"
        " return {cls: el.className, left: r.left, top: r.top, outline: s.outlineStyle,"
        " width: parseFloat(s.outlineWidth)}; })()"
    )
    assert focused["cls"] == "skip"
    assert focused["left"] >= 0 and focused["top"] >= 0, "the skip link stays off screen"
    assert focused["outline"] != "none" and focused["width"] >= 2, "no visible focus ring"


COLOURS = """(() => {
  const pick = (sel) => { const el = document.querySelector(sel); if (!el) return null;
    const s = getComputedStyle(el); let bg = s.backgroundColor, up = el;
    while (bg === 'rgba(0, 0, 0, 0)' && up.parentElement) {
      up = up.parentElement; bg = getComputedStyle(up).backgroundColor; }
    return [sel, s.color, bg === 'rgba(0, 0, 0, 0)' ? 'rgb(255, 255, 255)' : bg]; };
  return ['body', 'main p', '.meta', 'footer', 'a', 'del', 'ins', 'th'].map(pick).filter(Boolean);
})()"""


def luminance(css: str) -> float:
    """WCAG relative luminance of an rgb()/rgba() colour."""
    channels = [int(float(v)) / 255 for v in css[css.index("(") + 1 : -1].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_text_contrast_is_at_least_aa(browser: Chromium, demo_report: Path) -> None:
    browser.open((demo_report / "changes" / "3.html").as_uri(), DESKTOP)
    samples = browser.evaluate(COLOURS)
    assert {s[0] for s in samples} >= {"body", "footer", "a", "del", "ins"}
    for selector, fg, bg in samples:
        hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
        ratio = (hi + 0.05) / (lo + 0.05)
        assert ratio >= MIN_CONTRAST, f"{selector}: {fg} on {bg} is {ratio:.2f}:1"


# --- a hostile page --------------------------------------------------------------------------

PAYLOAD = "document.title='PWNED';document.documentElement.setAttribute('data-pwned','1')"
CALM = b"""<html><head><title>Policy</title></head><body><main>
<h1>Privacy Policy</h1><p>We never use your data to train our models.</p>
</main></body></html>"""
HOSTILE = (
    "<html><head><title>Policy</title><script>" + PAYLOAD + "</script></head>"
    f'<body onload="{PAYLOAD}"><main><h1>Privacy Policy</h1>'
    "<p>We may use your data to train our models.</p>"
    f"<p>&lt;script&gt;{PAYLOAD}&lt;/script&gt; stays text.</p>"
    f'<p>&lt;img src=x onerror="{PAYLOAD}"&gt; stays text too.</p>'
    f'<p><img src="x" onerror="{PAYLOAD}"><a href="javascript:{PAYLOAD}">Click here</a> '
    "to opt out of training.</p>"
    "<p>Right-to-left: \u202eexe.txt and \u2066isolated\u2069 text.</p>"
    # speaks about retention, which only the notes page is cited for: a citation gap
    f"<p>We retain your data &lt;script&gt;{PAYLOAD}&lt;/script&gt; for thirty days.</p>"
    f"<p>{'W' * 200_000}</p>"
    "</main></body></html>"
).encode()

CATALOG = """id: hostile
name: Hostile <b>Tool</b>
sources:
  - id: policy
    url: {url}
  - id: notes
    url: {notes}
ratings:
  no-training:
    rating: yes
    sources: [policy]
    evidence:
      - source: policy
        quote: We never use your data to train our models.
  data-retention:
    rating: partial
    sources: [notes]
    evidence:
      - source: notes
        quote: We delete stays text after one day.
"""

# Evidence that a script ran, or that a page still holds something that could run one.
DETECTOR = """(() => ({
  title: document.title,
  pwned: document.querySelectorAll('[data-pwned]').length,
  scripts: document.querySelectorAll('script').length,
  handlers: [...document.querySelectorAll('*')].filter(
    el => [...el.attributes].some(a => a.name.startsWith('on'))).length,
  jsLinks: [...document.querySelectorAll('[href],[src]')].filter(
    el => /^\\s*javascript:/i.test(el.getAttribute('href') || el.getAttribute('src'))).length,
  text: document.body ? document.body.innerText : ''
}))()"""


def run_citewatch(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command line, as a user runs it."""
    done = subprocess.run(
        [CITEWATCH, *args], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_control_detector_sees_a_script_that_runs(browser: Chromium, tmp_path: Path) -> None:
    page = tmp_path / "unsafe.html"
    page.write_bytes(HOSTILE[:4000] + b"</p></main></body></html>")
    browser.open(page.as_uri())
    seen = browser.evaluate(DETECTOR)
    assert seen["title"] == "PWNED" and seen["pwned"] == 1 and seen["scripts"] == 1


def test_hostile_page_runs_no_script_in_the_site(
    browser: Chromium, http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.route(
        "/policy",
        Reply(200, CALM, {"Content-Type": "text/html"}),
        Reply(200, HOSTILE, {"Content-Type": "text/html"}),
    )
    # The notes page is hostile from the start: its quote is never found, and the closest
    # passage shown beside it is the page's own hostile text.
    http_server.route("/notes", Reply(200, HOSTILE, {"Content-Type": "text/html"}))
    tools = tmp_path / "catalog" / "tools"
    tools.mkdir(parents=True)
    urls = {"url": http_server.url("/policy"), "notes": http_server.url("/notes")}
    (tools / "hostile.yaml").write_text(CATALOG.format(**urls))
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    fast = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False")
    for _ in range(2):
        run_citewatch("--db", db, "crawl", str(tmp_path / "catalog"), "--json", *fast)
    (change,) = json.loads(run_citewatch("--db", db, "changes", "--json").stdout)
    (gap,) = Store.open(db).suggestions()  # the retention sentence, in a source not cited
    assert gap.criterion_id == "data-retention" and gap.change_id == change["id"]
    (never,) = Store.open(db).unwatched()
    assert never.passage is not None and "stays text" in never.passage
    site = tmp_path / "site"
    run_citewatch("--db", db, "report", "--out", str(site), "--format", "html")

    inert = sorted((site / "raw").iterdir()) + sorted((site / "text").iterdir())
    # the hostile page's raw body and text are shared by both sources (content-addressed)
    assert [p.name.endswith((".html.txt", ".txt")) for p in inert] == [True] * 4
    change_text = tool_text = index_text = ""
    for target in [*site_pages(site), *inert]:
        browser.open(target.as_uri())
        seen = browser.evaluate(DETECTOR)
        name = target.relative_to(site).as_posix()
        assert "PWNED" not in seen["title"] and seen["pwned"] == 0, f"a script ran in {name}"
        assert (seen["scripts"], seen["handlers"], seen["jsLinks"]) == (0, 0, 0), name
        if target.suffix == ".html":  # raw and text files keep the bytes as fetched, on purpose
            assert "\u202e" not in seen["text"] and "\u2066" not in seen["text"], name
        assert browser.console() == [], name  # a CSP violation would be reported here
        if name == f"changes/{change['id']}.html":
            change_text = seen["text"]
        tool_text = seen["text"] if name == "tools/hostile.html" else tool_text
        index_text = seen["text"] if name == "index.html" else index_text
    # The payload did reach the change page, as visible text.
    assert f"<script>{PAYLOAD}</script> stays text." in change_text
    # ... and the new sections: the citation gap's sentence, the never-found quote's closest
    # passage (on the index and the tool page), all of it text.
    assert "May concern Data retention (this source is not cited by it)" in change_text
    assert f"We retain your data <script>{PAYLOAD}</script> for thirty days." in change_text
    for text in (tool_text, index_text):
        assert "Evidence never found" in text or "Not watched" in text
        assert "We delete stays text after one day." in text
    assert "W" * 200_000 in change_text
    browser.open((site / f"changes/{change['id']}.html").as_uri(), PHONE)
    browser.screenshot(ARTIFACTS / "hostile-change-phone.png")
