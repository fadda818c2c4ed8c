"""Which URLs a crawl may request, and how a URL appears in results: never with a password.

Pure functions (no Scrapy): the parent checks every catalog URL before the child starts, the
spider checks job files written by hand and every redirect target, and every URL or error
text a result carries goes through `redact` first.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

FETCHABLE_SCHEMES = ("http", "https")  # Scrapy could do ftp/file/data; cited pages are web pages
# A URL quoted in an error stays short: a hostile Location header can be kilobytes long, and an
# error is one line of a report.
ERROR_URL_CHARS = 300
# `scheme://userinfo@`: what a password in a URL looks like, inside any text (error messages
# quote URLs). Greedy up to the netloc's last "@", as urlsplit splits it ("u:p@ss@host").
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s\"'<>]*@")
REDACTED = "***"


def _parts(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:  # "Invalid IPv6 URL" and friends
        return None


def scheme_of(url: str) -> str:
    """The URL's scheme, lower case ("" when it has none), even when the rest cannot be parsed."""
    parts = _parts(url)
    if parts is not None:
        return parts.scheme.lower()
    head, colon, _ = url.strip().partition(":")
    return head.lower() if colon else ""


def is_fetchable(url: str) -> bool:
    """Whether the URL's scheme is one we fetch (its other parts may still be unusable)."""
    return scheme_of(url) in FETCHABLE_SCHEMES


def url_problem(url: str) -> str | None:
    """Why a URL with an http(s) scheme cannot be requested, or None when it can.

    Checked before Scrapy sees it: a URL that Scrapy's Request() rejects (a port out of range)
    used to end the spider's start requests, losing every later source of the crawl.
    """
    parts = _parts(url)
    if parts is None:
        return "the URL cannot be parsed"
    if parts.username is not None or parts.password is not None:
        # Twisted cannot send them, and a password must never reach a result or a log.
        return "the URL carries a user name or password (credentials are never sent)"
    if not parts.hostname:
        return "the URL has no host"
    try:
        port = parts.port
    except ValueError:
        return "the URL's port is not a number from 1 to 65535"
    if port == 0:
        return "the URL's port is not a number from 1 to 65535"
    return None


def redact(text: str) -> str:
    """A URL, or any text quoting URLs, with every user name and password replaced by ***."""
    return _USERINFO.sub(rf"\1{REDACTED}@", text)


def quoted(url: str) -> str:
    """A URL as an error quotes it: redacted, and cut to ERROR_URL_CHARS."""
    safe = redact(url)
    return safe if len(safe) <= ERROR_URL_CHARS else safe[: ERROR_URL_CHARS - 1] + "…"
