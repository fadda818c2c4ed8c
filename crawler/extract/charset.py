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
# The Python codecs of the encodings browsers know (the WHATWG Encoding Standard), by the
# name codecs.lookup gives them. Any other label is ignored like an unknown one: Python also
# registers "codecs" that are no text encoding at all (hex, base64, rot13, zlib, bz2, uu: a
# traceback), or that no browser applies and that turn text into markup or cut the page
# (UTF-7 "+ADw-" is "<"; unicode_escape makes lone surrogates, where lxml stops reading).
_BROWSER_CODECS = frozenset(
    {
        *("utf-8", "utf-16", "utf-16-le", "utf-16-be", "ascii", "cp866", "koi8-r", "koi8-u"),
        *(f"iso8859-{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16)),
        *(f"cp{n}" for n in range(1250, 1259)),
        *("mac-roman", "mac-cyrillic", "cp874", "tis-620", "gbk", "gb2312", "gb18030"),
        *("big5", "big5hkscs", "euc_jp", "iso2022_jp", "shift_jis", "cp932", "euc_kr", "cp949"),
    }
)
# A body is binary, not text, when more than this share of its first characters are control
# characters or bytes no encoding could read (U+FFFD). A stray NUL in an HTML page is not
# enough: browsers drop it, and so do we.
_SNIFF_CHARS = 4096
_BINARY_SHARE = 0.1
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\ufffd]")


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
    if found not in _BROWSER_CODECS:
        return None
    # A <meta> claiming UTF-16 in a body we could read as ASCII is wrong by definition.
    return "utf-8" if found.startswith("utf-16") else found


def _checked(text: str) -> str:
    """Reject binary bodies that decoded to control-character soup; drop stray NULs."""
    sample = text[:_SNIFF_CHARS]
    if len(_NOT_TEXT.findall(sample)) > len(sample) * _BINARY_SHARE:
        raise ExtractError("body is not text in any known encoding")
    return text.replace("\x00", "")
