"""Failure classes: why a fetch is not a good version of its page (pure, table-driven).

- transient: the server or the network hiccuped (timeout, 5xx, reset, 429/503): try again later;
- blocked: we were refused (403, robots.txt, a bot challenge or consent wall served as 200), or
  we refuse to go where the page leads (a non-public address, a redirect to a non-http(s) URL);
- gone: the citation is dead (404, 410, the host no longer resolves, a URL no request can be
  built for);
- suspicious: a body arrived but cannot be trusted as the page (truncated, over the size cap
  even once decompressed, unreadable in its declared charset, or its text collapsed to a small
  fraction of the last good version).

Every class is recorded as a failed fetch: never a snapshot, never diffed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from storage.values import FailureClass


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed fetch's class and the one-line reason shown to editors."""

    failure_class: FailureClass
    reason: str


# error_kind (crawler/fetch/parent.py, spiders/sources.py, ingest's "extract") -> class.
ERROR_KIND_CLASSES: Final[dict[str, FailureClass]] = {
    "timeout": "transient",
    "connection": "transient",
    "crawl-killed": "transient",  # our own hard time limit: the page may be fine next run
    "other": "transient",
    "robots": "blocked",  # the site owner asks us not to fetch it
    # A loopback, private, link-local… address, reached directly or by a redirect: we refuse
    # to fetch the machine's own network as the cited page (crawler/fetch/destinations.py).
    "destination": "blocked",
    # A redirect to a file:, ftp:, javascript:… URL or one with a password or a bad port: the
    # site sends us where a crawl never goes, which says nothing of the page itself.
    "redirect": "blocked",
    "dns": "gone",  # the host no longer exists
    "scheme": "gone",  # not an http(s) URL: nothing we can ever fetch
    "url": "gone",  # a port out of range, no host, credentials: nothing we can ever fetch
    "truncated": "suspicious",
    "too-large": "suspicious",  # over DOWNLOAD_MAXSIZE, on the wire or once decompressed
    "charset": "suspicious",  # the body cannot be decoded with its declared charset: unreadable
    "extract": "suspicious",  # a 2xx body with no readable text (empty, binary, bad markup)
    # render: auto on a JavaScript shell with no browser (crawler/extract/shell.py), and a
    # rendered page whose text never settled: what we have is not the page's text.
    "js-shell": "suspicious",
    "unsettled": "suspicious",
    # render: true (or auto on a shell) with no Chromium installed: the page may be fine.
    "no-browser": "transient",
    "render": "transient",  # the browser failed on the page (crashed tab, navigation error)
}

# HTTP statuses that decide the class by themselves; other 4xx are blocked, 5xx transient.
STATUS_CLASSES: Final[dict[int, FailureClass]] = {
    404: "gone",
    410: "gone",
    408: "transient",
    425: "transient",
    429: "transient",
}


def fetch_failure(status: int | None, error_kind: str | None, error: str | None) -> Failure:
    """The class of a fetch that produced no usable body (an error or a non-2xx status)."""
    if error_kind == "http" or (error_kind is None and status is not None):
        return _status_failure(status, error)
    failure_class = ERROR_KIND_CLASSES.get(error_kind or "other", "transient")
    return Failure(failure_class, error or error_kind or "failed")


def _status_failure(status: int | None, error: str | None) -> Failure:
    text = error or f"HTTP {status}"
    if status is None:
        # "max redirections reached": with cookies off, a cookie-setting redirect loops forever;
        # sites do that to visitors they refuse, so a loop reads as a block.
        return Failure("blocked", text)
    if status in STATUS_CLASSES:
        return Failure(STATUS_CLASSES[status], text)
    if 400 <= status < 500:
        return Failure("blocked", text)  # 401, 403, 406, 451...: the server refuses us
    return Failure("transient", text)  # 5xx, and an odd 3xx without Location


# --- 2xx bodies that are not the page ------------------------------------------------------

# A challenge interstitial says a few hundred characters ("Just a moment... Enable JavaScript
# and cookies to continue ... Ray ID"). The smallest good text in the corpus is 760 characters
# and no good capture carries a challenge marker (bench/failure_corpus.py), so a marker counts
# only on a page this small.
WALL_MAX_CHARS: Final = 1000
# Captcha widgets and consent-manager scripts also sit on good pages (a trust center's
# subprocessor list loads Turnstile: 1,760 characters of text; Perplexity's policy names
# "accept cookies"), so they count only on a page with almost no text of its own: a consent
# wall is a banner, and the extractor drops banners.
NEAR_EMPTY_CHARS: Final = 200
# The markers sit in the <head> or the first screen of a challenge page.
SCAN_BYTES: Final = 256 * 1024

# Bot-protection interstitials (Cloudflare, DataDome, PerimeterX, Imperva), lower case: only
# challenge pages say these.
CHALLENGE_MARKERS: Final = (
    "just a moment...",
    "_cf_chl_opt",
    "cf-chl-",
    "enable javascript and cookies to continue",
    "checking your browser before accessing",
    "checking if the site connection is secure",
    "verify you are human",
    "verifying you are human",
    "attention required! | cloudflare",
    "captcha-delivery.com",
    "px-captcha",
    "_incapsula_resource",
    "please complete the security check",
    "are you a robot",
)
# Captcha widgets and the buttons every consent wall has (en, de, fr). Not consent-manager
# names or the bare word "consent": 1,808 good captures carry those in scripts, so a nearly
# empty JavaScript shell would read as a wall when it is a page we cannot render.
WIDGET_MARKERS: Final = (
    "g-recaptcha",
    "h-captcha",
    "challenges.cloudflare.com/turnstile",
    "consent-wall",
    "cookie-wall",
    "cookiewall",
    "before you continue",
    "accept all",
    "reject all",
    "accept cookies",
    "alle akzeptieren",
    "alle ablehnen",
    "tout accepter",
    "tout refuser",
)


def wall_failure(raw: bytes, text: str) -> Failure | None:
    """A 2xx body that is a bot challenge or a consent wall rather than the page, else None."""
    if len(text) > WALL_MAX_CHARS:
        return None
    haystack = raw[:SCAN_BYTES].decode("utf-8", "replace").lower() + "\n" + text.lower()
    found = next((m for m in CHALLENGE_MARKERS if m in haystack), None)
    if found is not None:
        return Failure("blocked", f"bot challenge instead of the page ({found!r})")
    if len(text) <= NEAR_EMPTY_CHARS:
        found = next((m for m in WIDGET_MARKERS if m in haystack), None)
        if found is not None:
            return Failure("blocked", f"captcha or consent wall instead of the page ({found!r})")
    return None


# A text below this share of the last good version's, and short in absolute terms, is a broken
# page, not an edit. Measured on the corpus (bench/failure_corpus.py, 2,278 captures of 27
# pages): consecutive good captures of one URL never shrink below 0.86 of the previous text.
# Every capture below 0.3 is either legal.mistral.ai's 31-character "Redirecting to
# legal.mistral.ai" stub (suspicious: right) or the archive moving a document from the combined
# /terms page to its own page (5,222+ characters: a real new text, hence the size cap).
COLLAPSE_RATIO: Final = 0.3
COLLAPSE_MAX_CHARS: Final = 2000


def collapse_failure(chars: int, last_good_chars: int | None) -> Failure | None:
    """Suspicious when a short text fell below COLLAPSE_RATIO of the last good one, else None."""
    if not last_good_chars or chars >= COLLAPSE_MAX_CHARS:
        return None
    if chars >= COLLAPSE_RATIO * last_good_chars:
        return None
    return Failure(
        "suspicious",
        f"text collapsed to {chars / last_good_chars:.0%} of the last good version "
        f"({chars} of {last_good_chars} characters)",
    )


# A server can send half a page with a matching Content-Length (a crashed renderer, a proxy
# cutting the stream): the transport sees nothing wrong. Every one of the corpus's 2,278
# captures ends with </html> within its last 4 KiB, so an HTML body whose last good version
# closed its document and which does not is cut short.
TAIL_BYTES: Final = 4096


def _closed(raw: bytes) -> bool:
    return b"</html>" in raw[-TAIL_BYTES:].lower()


def truncation_failure(raw: bytes, load_last_good: Callable[[], bytes | None]) -> Failure | None:
    """Suspicious when an HTML body stops before </html> although its last good one did not.

    The last good body (a blob to decompress) is loaded only for a body that does not close:
    nearly every fetch closes, and this runs on every 200 of a crawl.
    """
    if _closed(raw):
        return None
    last_good_raw = load_last_good()
    if last_good_raw is None or not _closed(last_good_raw):
        return None
    if b"<html" not in raw[:SCAN_BYTES].lower():
        return None  # not an HTML document (a PDF, plain text): nothing to close
    return Failure("suspicious", "the HTML ends before </html>: the body was cut short")


def page_failure(
    raw: bytes, text: str, last_good_chars: int | None, last_good_raw: bytes | None = None
) -> Failure | None:
    """Why an extracted 2xx body is not a good version (wall, collapse, cut), or None."""
    return (
        wall_failure(raw, text)
        or collapse_failure(len(text), last_good_chars)
        or truncation_failure(raw, lambda: last_good_raw)
    )
