"""Failure classes: the pure classification of fetches and bodies, table by table."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import pytest

from crawler.extract.document import ExtractError, extract
from crawler.extract.failures import (
    COLLAPSE_MAX_CHARS,
    COLLAPSE_RATIO,
    NEAR_EMPTY_CHARS,
    WALL_MAX_CHARS,
    collapse_failure,
    fetch_failure,
    page_failure,
    truncation_failure,
    wall_failure,
)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

# (status, error_kind, expected class)
FETCHES = [
    (None, "timeout", "transient"),
    (None, "connection", "transient"),
    (None, "crawl-killed", "transient"),
    (None, "other", "transient"),
    (None, None, "transient"),
    (500, "http", "transient"),
    (502, "http", "transient"),
    (503, "http", "transient"),
    (429, "http", "transient"),
    (408, "http", "transient"),
    (403, "http", "blocked"),
    (401, "http", "blocked"),
    (451, "http", "blocked"),
    (None, "http", "blocked"),  # redirect loop
    (None, "robots", "blocked"),
    (404, "http", "gone"),
    (410, "http", "gone"),
    (None, "dns", "gone"),
    (None, "scheme", "gone"),
    (None, "truncated", "suspicious"),
    (200, "truncated", "suspicious"),
    (None, "too-large", "suspicious"),
    (200, "extract", "suspicious"),
    (404, None, "gone"),  # a status without an error kind still decides
]


@pytest.mark.parametrize(("status", "kind", "expected"), FETCHES)
def test_fetch_failure_classes(status: int | None, kind: str | None, expected: str) -> None:
    failure = fetch_failure(status, kind, None)
    assert failure.failure_class == expected
    assert failure.reason  # always something to show


def test_fetch_failure_keeps_the_error_text() -> None:
    assert fetch_failure(503, "http", "HTTP 503 Service Unavailable").reason.startswith("HTTP 503")


CLOUDFLARE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title>"
    b"<script>window._cf_chl_opt={cvId: '3'};</script></head><body><div class='main-wrapper'>"
    b"<h1>example.com</h1><p>Enable JavaScript and cookies to continue</p></div></body></html>"
)
DATADOME = b"<html><body><script src='https://ct.captcha-delivery.com/c.js'></script></body></html>"
CONSENT = (
    b"<html><body><div class='cookie-wall'><h2>Before you continue</h2>"
    b"<button>Accept all</button><button>Reject all</button></div></body></html>"
)
RECAPTCHA_FORM = b"<html><body><form><div class='g-recaptcha'></div></form></body></html>"
POLICY = "We do not use your data to train our models. " * 40  # a real page: long text

# (raw body, extracted text, expected class or None)
WALLS = [
    (CLOUDFLARE, "# example.com\nEnable JavaScript and cookies to continue", "blocked"),
    (DATADOME, "", "blocked"),
    (CONSENT, "", "blocked"),  # the extractor dropped the banner: nothing left
    (CONSENT, "Before you continue", "blocked"),
    (RECAPTCHA_FORM, "", "blocked"),
    (RECAPTCHA_FORM, "Contact us. " * 40, None),  # a widget on a real page is not a wall
    (CONSENT, "Privacy policy. " * 20, None),  # a banner on a page with text of its own
    (CLOUDFLARE, POLICY, None),  # a marker in a long page: never
    (b"<html><body><p>Short imprint</p></body></html>", "Short imprint", None),
    (b"", "", None),
]


@pytest.mark.parametrize(("raw", "text", "expected"), WALLS)
def test_walls_are_blocked_only_when_the_page_says_little(
    raw: bytes, text: str, expected: str | None
) -> None:
    failure = wall_failure(raw, text)
    assert (failure.failure_class if failure else None) == expected


def test_wall_bounds_are_ordered() -> None:
    assert NEAR_EMPTY_CHARS < WALL_MAX_CHARS < COLLAPSE_MAX_CHARS


# (characters now, last good characters, suspicious?)
COLLAPSES = [
    (31, 130_000, True),  # a "Redirecting..." stub where the policy was
    (0, 5000, True),
    (int(COLLAPSE_RATIO * 5000) - 1, 5000, True),
    (int(COLLAPSE_RATIO * 5000) + 1, 5000, False),
    (4000, 5000, False),  # an ordinary edit
    (COLLAPSE_MAX_CHARS, 130_000, False),  # a document moved to a page of its own: real text
    (10, None, False),  # first fetch: nothing to compare with
    (10, 0, False),
    (9000, 5000, False),  # growth
]


@pytest.mark.parametrize(("chars", "last_good", "suspicious"), COLLAPSES)
def test_collapse(chars: int, last_good: int | None, suspicious: bool) -> None:
    failure = collapse_failure(chars, last_good)
    assert (failure is not None) == suspicious
    if failure is not None:
        assert failure.failure_class == "suspicious" and str(chars) in failure.reason


PAGE = b"<!DOCTYPE html><html><body><p>" + b"We keep your data. " * 300 + b"</p></body></html>\n"
# (body, last good body, suspicious?)
CUTS = [
    (PAGE[: len(PAGE) // 2], PAGE, True),
    (PAGE, PAGE, False),
    (PAGE.upper(), PAGE, False),  # </HTML> closes too
    (PAGE[: len(PAGE) // 2], None, False),  # first fetch: nothing says it should close
    (PAGE[: len(PAGE) // 2], PAGE[: len(PAGE) // 2], False),  # a site that never closes
    (b"%PDF-1.7 ...", PAGE, False),  # not HTML
    (PAGE + b"<!-- " + b"x" * 8000 + b" -->", PAGE, True),  # nothing closes near the end
]


@pytest.mark.parametrize(("raw", "last_good", "suspicious"), CUTS)
def test_truncated_html(raw: bytes, last_good: bytes | None, suspicious: bool) -> None:
    failure = truncation_failure(raw, lambda: last_good)
    assert (failure is not None) == suspicious
    assert failure is None or failure.failure_class == "suspicious"


def test_page_failure_prefers_the_wall() -> None:
    failure = page_failure(CLOUDFLARE, "Enable JavaScript and cookies to continue", 50_000)
    assert failure is not None and failure.failure_class == "blocked"


# Small archives of the real corpus, with the pages that carry markers or the smallest texts:
# every capture is a good page, so none may come out blocked or suspicious.
CORPUS_PAGES = [
    "le-chat/data-processor-agreement/captures-subprocessors.tar.xz",  # loads Turnstile
    "le-chat/imprint/captures-main.tar.xz",  # the smallest good text
    *(f"vibe/{d}/captures-main.tar.xz" for d in ("privacy-policy", "acceptable-use-policy")),
    *(f"deepseek/{d}/captures-main.tar.xz" for d in ("privacy-policy", "terms-of-service")),
]


@pytest.mark.slow
@pytest.mark.parametrize("archive", CORPUS_PAGES)
def test_real_captures_are_not_failures(archive: str) -> None:
    path = CORPUS / archive
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail("../shared is missing; CI runs with it beside the checkout")
        pytest.skip("../shared/corpus is not beside this checkout")
    manifest = json.loads((path.parent / "manifest.json").read_text())
    assert any(p["captures_archive"] == path.name for p in manifest["pages"])
    last_good: int | None = None
    last_good_raw: bytes | None = None
    seen = 0
    with tarfile.open(path, "r|xz") as tf:
        for member in tf:
            fh = tf.extractfile(member)
            if fh is None:
                continue
            raw = fh.read()
            try:
                text = extract(raw, content_type="text/html", url="https://x/").text
            except ExtractError as exc:
                pytest.fail(f"{archive} {member.name}: {exc}")
            failure = page_failure(raw, text, last_good, last_good_raw)
            assert failure is None, f"{archive} {member.name}: {failure}"
            last_good, last_good_raw, seen = len(text), raw, seen + 1
    assert seen > 0


def test_closed_body_never_loads_the_last_good_one() -> None:
    def load() -> bytes:
        raise AssertionError("a closed body needs no comparison")

    assert truncation_failure(PAGE, load) is None
