"""What a source URL may be: an absolute http(s) URL that the fetch child can request.

Checked at `check` so that a bad URL is a catalog error naming its file, entry and field, and
not a crawl that stops (a port out of range stopped the Scrapy child's start requests) or a
password printed in reports. IPv6 literals (`http://[2001:db8::1]/`) are valid.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, quote, urlsplit

from crawler.catalog.limits import MAX_URL_CHARS
from crawler.catalog.strict_yaml import preview

__all__ = ["url_problem"]

# Regular expressions, not loops over characters: `check` looks at 100,000 URLs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc
_SPACE = re.compile(r"\s")
# WHATWG URL standard, "forbidden domain code points", and white space.
_FORBIDDEN_IN_HOST = re.compile(r"[#%/:<>?@\[\\\]^|\s]")
_PORT = re.compile(r"^[0-9]+$")
_ASCII_PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a source's URL, in one line; None when it can."""
    if _CONTROL.search(url):
        return f"{preview(url)} contains a control character (a tab, a line break…)"
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # "Invalid IPv6 URL", a bracketed host that is no address
        return f"{preview(url)} is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{preview(url)} is not an absolute http(s) URL"
    if "@" in parts.netloc:
        shown = preview(parts._replace(netloc="…@" + parts.netloc.rpartition("@")[2]).geturl())
        return (
            f"{shown} carries credentials (user:password@), which are not supported:"
            " they would be printed in reports"
        )
    problem = _host_problem(parts) or _port_problem(parts)
    if problem:
        return problem
    if _SPACE.search(url):
        return f"{preview(url)} contains a space; write it as %20"
    length = len(url) if url.isascii() else len(quote(url, safe=_ASCII_PRINTABLE))
    if length > MAX_URL_CHARS:
        return (
            f"the URL is {length:,} characters long (percent-encoded), over the fetcher's"
            f" limit of {MAX_URL_CHARS:,}"
        )
    return None


def _host_problem(parts: SplitResult) -> str | None:
    """What is wrong with the URL's host, if anything."""
    hostinfo = parts.netloc
    if hostinfo.startswith("["):
        return None  # urlsplit checked that the brackets hold an IP address
    host = hostinfo.partition(":")[0]
    if not host:
        return f"{preview(parts.geturl())} has no host"
    bad = sorted(set(_FORBIDDEN_IN_HOST.findall(host)))
    if bad:
        return f"host {preview(host)} is not a host name (it contains {', '.join(map(repr, bad))})"
    labels = host.removesuffix(".").split(".")
    if "" in labels:
        return f"host {preview(host)} has an empty label (two dots, or a leading one)"
    if len(host) > 253 or any(len(label) > 63 for label in labels if label.isascii()):
        return f"host {preview(host)} is too long for a host name (63 per label, 253 in all)"
    return None


def _port_problem(parts: SplitResult) -> str | None:
    """What is wrong with the URL's port, if anything (none given is fine)."""
    hostinfo = parts.netloc
    if hostinfo.startswith("["):
        rest = hostinfo.partition("]")[2]
        if rest and not rest.startswith(":"):
            return f"{preview(parts.geturl())} has {preview(rest)} after its host"
        port = rest[1:]
    else:
        port = hostinfo.partition(":")[2]
    if port == "":
        return None  # no port, or "host:": the scheme's default port
    if not _PORT.match(port):
        return f"port {preview(port)} is not a number"
    if not 1 <= int(port) <= 65535:
        return f"port {int(port)} is out of range (1-65535)"
    return None
