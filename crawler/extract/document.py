"""HTML and PDF bodies to normalized text blocks: what citewatch compares.

Extractor choice, measured with bench/noise_offline.py on the DEV corpus (22 documents, 2241
scored raw page changes, 42 scored substantive real changes), same diff + significance rules
(false alerts without the 8 on changes the corpus recorded only in an upgrade; before the
title rule of diffs.text, 28 and 45):

| extractor                                              | recall | false alerts  | ms/page |
|--------------------------------------------------------|--------|---------------|---------|
| own lxml blocks (this module, html/1)                  | 42/42  | 17 (0.76 %)   | 17-28   |
| trafilatura 2.3 markdown, favor_recall, tables, prune  | 42/42  | 27 (1.20 %)   | 41-61   |

trafilatura's content scoring flips between runs of the same site: on Perplexity's AUP and DPA
it alternately keeps and drops the "Legal Hub" menu, and it can drop a
clause by heuristic. Our extractor keeps every visible block minus chrome, banners, hidden and
volatile markup, so a missed clause can only come from an explicit rule; it is also 2-3x faster.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass

# lxml ships no type stubs (lxml-stubs lags releases); elements are typed as HtmlElement = Any.
import lxml.etree  # type: ignore[import-untyped]
import lxml.html  # type: ignore[import-untyped]
from lxml.cssselect import CSSSelector, SelectorError  # type: ignore[import-untyped]

from crawler.extract.blocks import mark_navigation, tree_blocks
from crawler.extract.chrome import clean
from crawler.extract.normalize import has_words, normalize_text
from crawler.extract.pdf import pdf_blocks

# Version of our extraction rules. Bump it whenever the output for the same body can change:
# the store re-extracts old snapshots with the new rules and records a technical upgrade
# instead of raising alerts.
HTML_RULES = "html/3"  # 2: UTF-8 bodies labelled Latin-1/windows-1252 decode as UTF-8;
# 3: disclosure panels kept, navigation runs marked, content-found cookie banners, icon text
PDF_RULES = "pdf/1"
TEXT_RULES = "text/1"

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/xml", "text/xml"})
_PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
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
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


class ExtractError(Exception):
    """A body could not be turned into text (empty, unparsable, unsupported type)."""


@dataclass(frozen=True, slots=True)
class Extraction:
    """The normalized text of one body: one block (paragraph, heading, list item, row) per entry."""

    blocks: tuple[str, ...]
    method: str  # e.g. "html/1", "pdf/1": changes when extraction rules change

    @property
    def text(self) -> str:
        """The stored form: one block per line."""
        return "\n".join(self.blocks)


def extract(
    body: bytes,
    *,
    content_type: str | None,
    url: str,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Extraction:
    """Extract normalized blocks from a fetched body (HTML or PDF)."""
    if not body.strip():
        raise ExtractError(f"empty body: {url}")
    kind = _kind(body, content_type)
    if kind == "pdf":
        try:
            blocks, method = pdf_blocks(body), PDF_RULES
        except ValueError as exc:
            raise ExtractError(f"{exc}: {url}") from exc
    elif kind == "html":
        root = _parse_html(decode(body, content_type), url)
        blocks, method = html_blocks(_scope(root, select, exclude, url)), HTML_RULES
    else:
        text = decode(body, content_type)
        blocks, method = _plain_blocks(text), TEXT_RULES
    if not blocks:
        raise ExtractError(f"no text extracted: {url}")
    return Extraction(blocks, method)


def _kind(body: bytes, content_type: str | None) -> str:
    """'pdf', 'html' or 'text' from the content type, sniffing the body when it is missing."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in _PDF_TYPES or body.lstrip()[:5] == b"%PDF-":
        return "pdf"
    if mime in _HTML_TYPES:
        return "html"
    if mime == "text/plain":
        return "text"
    # Servers that omit the type serve markup far more often than anything else we track.
    untyped = not mime or mime == "application/octet-stream"
    if untyped and body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "html"
    raise ExtractError(f"unsupported content type {content_type!r}")


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


def _parse_html(text: str, url: str) -> lxml.html.HtmlElement:
    """Parse decoded HTML; lxml refuses str input that still carries an XML declaration."""
    try:
        root = lxml.html.document_fromstring(_XML_DECLARATION.sub("", text, count=1))
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ExtractError(f"unparsable HTML ({exc}): {url}") from exc
    return root


def _scope(
    root: lxml.html.HtmlElement, select: Sequence[str], exclude: Sequence[str], url: str
) -> list[lxml.html.HtmlElement]:
    """Apply per-source CSS: drop `exclude` subtrees, keep the union of `select` in page order."""
    for element in _matches(root, exclude, url):
        element.drop_tree()
    if not select:
        return [root]
    chosen = set(_matches(root, select, url))
    if not chosen:
        raise ExtractError(f"select {list(select)!r} matched nothing: {url}")
    # A match inside another match would be extracted twice; the rest keep document order.
    outermost = [el for el in chosen if not any(a in chosen for a in el.iterancestors())]
    position = {el: i for i, el in enumerate(root.iter())}
    return sorted(outermost, key=position.__getitem__)


def _matches(
    root: lxml.html.HtmlElement, selectors: Sequence[str], url: str
) -> list[lxml.html.HtmlElement]:
    """Every element matching any of the CSS selectors."""
    found: list[lxml.html.HtmlElement] = []
    for selector in selectors:
        try:
            found.extend(CSSSelector(selector, translator="html")(root))
        except SelectorError as exc:
            raise ExtractError(f"bad CSS selector {selector!r}: {exc} ({url})") from exc
    return found


def _plain_blocks(text: str) -> tuple[str, ...]:
    """Plain text: one block per paragraph (blank-line separated)."""
    paragraphs = (normalize_text(p) for p in re.split(r"\n\s*\n", text))
    return tuple(p for p in paragraphs if has_words(p))


def html_blocks(roots: Sequence[lxml.html.HtmlElement]) -> tuple[str, ...]:
    """The normalized blocks of the given (already scoped) subtrees, in order, with the
    navigation runs at the page's edges marked (crawler/extract/blocks.py)."""
    for root in roots:
        clean(root)
    return mark_navigation(tree_blocks(roots))
