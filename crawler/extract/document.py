"""Fetched bodies to normalized text blocks, what citewatch compares: one extractor per kind.

The extractors (html.py, pdf.py, text.py) are listed once in EXTRACTORS; each reads the
content types it declares and stamps its blocks with its rules version (HTML_RULES, …).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crawler.extract import html, pdf, text
from crawler.extract.charset import decode
from crawler.extract.extractor import Body, ExtractError, Extractor
from crawler.extract.html import HTML_RULES
from crawler.extract.pdf import PDF_OCR_RULES, PDF_RULES
from crawler.extract.text import TEXT_RULES

__all__ = [
    "EXTRACTORS",
    "HTML_RULES",
    "PDF_OCR_RULES",
    "PDF_RULES",
    "TEXT_RULES",
    "ExtractError",
    "Extraction",
    "decode",
    "extract",
    "extractor_for",
]

EXTRACTORS: tuple[Extractor, ...] = (html.EXTRACTOR, pdf.EXTRACTOR, text.EXTRACTOR)


@dataclass(frozen=True, slots=True)
class Extraction:
    """The normalized text of one body: one block (paragraph, heading, list item, row) per entry."""

    blocks: tuple[str, ...]
    method: str  # e.g. "html/1", "pdf/1", "pdf-ocr/1": changes when extraction rules change

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
    """Extract normalized blocks from a fetched body (HTML, PDF or plain text)."""
    if not body.strip():
        raise ExtractError(f"empty body: {url}")
    extractor = extractor_for(body, content_type)
    read = Body(body, content_type, url, tuple(select), tuple(exclude))
    try:
        blocks = extractor.blocks(read)
    except pdf.ScannedPDF:  # no text layer: OCR it (or say how to, when it is not installed)
        extractor = pdf.OCR_EXTRACTOR
        blocks = extractor.blocks(read)
    if not blocks:
        raise ExtractError(f"no text extracted: {url}")
    return Extraction(blocks, extractor.rules)


def extractor_for(body: bytes, content_type: str | None) -> Extractor:
    """The extractor for a body's content type, sniffing the body when the type says little."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if body.lstrip()[:5] == b"%PDF-":  # a PDF is one whatever the server calls it
        return pdf.EXTRACTOR
    # No two extractors claim one type (tests/test_crawler_extract.py): the first is the one.
    found = next((e for e in EXTRACTORS if mime in e.content_types), None)
    if found is not None:
        return found
    # Servers that omit the type serve markup far more often than anything else we track.
    untyped = not mime or mime == "application/octet-stream"
    if untyped and body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return html.EXTRACTOR
    raise ExtractError(f"unsupported content type {content_type!r}")
