"""Bytes to text the way browsers do: BOM, then HTTP charset, then <meta>, then sniffing."""

from __future__ import annotations

import codecs
import re

from crawler.extract.extractor import ExtractError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
# The HTML standard's encoding sniffing looks at the first 1024 bytes; pages with long inline
# heads put <meta charset> later, so we scan a bit more.
_META_SCAN_BYTES = 4096
# WHATWG maps these labels to windows-1252; Python's latin-1 differs on 0x80-0x9F (quotes, €).
_WINDOWS_1252_ALIASES = frozenset(
    {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "ascii", "us-ascii"}
)


def decode(body: bytes, content_type: str | None) -> str:
    """Decode a body the way browsers do: BOM, then HTTP charset, then <meta>, then sniffing."""
    for bom, bom_encoding in _BOMS:
        if body.startswith(bom):
            return _checked(body[len(bom) :].decode(bom_encoding, errors="replace"))
    header = _HEADER_CHARSET.search(content_type or "")
    meta = _META_CHARSET.search(body[:_META_SCAN_BYTES])
    for label in (header.group(1) if header else None, meta.group(1) if meta else None):
        encoding = _codec(label) if label else None
        if encoding:
            return _checked(_labelled(body, encoding))
    try:
        return _checked(body.decode("utf-8"))
    except UnicodeDecodeError:
        return _checked(body.decode("windows-1252", errors="replace"))


def _labelled(body: bytes, encoding: str) -> str:
    """Decode with the declared encoding, unless the bytes prove a windows-1252 label wrong.

    Non-ASCII bytes that form valid UTF-8 are UTF-8: windows-1252 text essentially never reads
    as valid multi-byte UTF-8 ("Ã©" for "é"). A server that flips its charset header between
    fetches would otherwise turn every accented word into a false change.
    """
    if encoding == "windows-1252" and not body.isascii():
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return body.decode(encoding, errors="replace")


def _codec(label: str | bytes) -> str | None:
    """A Python codec name for a charset label, or None when the label is unknown."""
    name = (label.decode("ascii", "replace") if isinstance(label, bytes) else label).lower()
    if name in _WINDOWS_1252_ALIASES:
        return "windows-1252"
    try:
        found = codecs.lookup(name).name
    except LookupError:
        return None
    # A <meta> claiming UTF-16 in a body we could read as ASCII is wrong by definition.
    return "utf-8" if found.startswith("utf-16") else found


def _checked(text: str) -> str:
    """Reject binary bodies that decoded to control-character soup."""
    sample = text[:4096]
    if "\x00" in sample or sample.count("\ufffd") > len(sample) // 10:
        raise ExtractError("body is not text in any known encoding")
    return text
