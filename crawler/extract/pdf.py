"""PDF bodies to paragraph blocks: pypdf's page texts (pdftext.py) joined into paragraphs.

A PDF with no text layer (a scan: every page an image) is ScannedPDF here; document.py then
reads it with OCR_EXTRACTOR (tesseract, ocr.py), whose rules version is `pdf-ocr/N`.
"""

from __future__ import annotations

import re

from crawler.extract.extractor import Body, ExtractError, Extractor
from crawler.extract.normalize import has_words, normalize_text
from crawler.extract.ocr import ocr_page_texts
from crawler.extract.pdftext import page_texts

PDF_RULES = "pdf/1"
PDF_OCR_RULES = "pdf-ocr/1"  # a scan's text, read by tesseract (ocr.py)
CONTENT_TYPES = frozenset({"application/pdf", "application/x-pdf"})

# A blank line, or a line ending a sentence followed by a capitalised/numbered line, ends a
# paragraph; other line breaks in PDF text are layout wrapping inside one paragraph.
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_END = (".", ":", ";", "!", "?")
# A wrapped line fills the text width (70-100 characters in A4/Letter legal PDFs); a shorter
# line followed by a capitalised one ends its paragraph (a heading or a paragraph's last line).
_SHORT_LINE = 60
_NEW_ITEM = re.compile(r"^(?:\d+(?:\.\d+)*[.)]?|[a-zA-Z][.)]|[•▪◦\-–*])\s")


class ScannedPDF(ExtractError):
    """The PDF has pages and no text layer: only OCR can read it."""


def pdf_extract(body: Body) -> tuple[str, ...]:
    """Text of every page of a PDF, one block per paragraph (ExtractError naming the URL when
    pypdf cannot read it, or only beyond a limit; ScannedPDF when it has no text at all)."""
    pages = page_texts(body.raw, body.url)
    blocks = _blocks(pages)
    if pages and not blocks:
        raise ScannedPDF(f"PDF has no text layer: {body.url}")
    return blocks


def ocr_extract(body: Body) -> tuple[str, ...]:
    """Text of every page of a scanned PDF, read by OCR, one block per paragraph."""
    pages = len(page_texts(body.raw, body.url))  # pypdf's limits apply to the scan too
    return _blocks(ocr_page_texts(body.raw, pages, body.url))


def _blocks(pages: list[str]) -> tuple[str, ...]:
    blocks: list[str] = []
    for page in pages:
        for chunk in _PARAGRAPH_BREAK.split(page):
            blocks.extend(_paragraphs(chunk.splitlines()))
    return tuple(b for b in blocks if has_words(b))


def _paragraphs(lines: list[str]) -> list[str]:
    """Join wrapped lines into paragraphs: a new one starts after a sentence end or at an item."""
    out: list[str] = []
    current: list[str] = []
    for raw in lines:
        line = normalize_text(raw)
        if not line:
            continue
        if current and _starts_paragraph(current[-1], line):
            out.append(" ".join(current))
            current = []
        current.append(line)
    if current:
        out.append(" ".join(current))
    return out


def _starts_paragraph(previous: str, line: str) -> bool:
    """Whether `line` begins a new paragraph rather than continuing `previous`."""
    if _NEW_ITEM.match(line) or previous.endswith(_SENTENCE_END):
        return True
    return len(previous) < _SHORT_LINE and line[:1].isupper()


EXTRACTOR = Extractor(PDF_RULES, CONTENT_TYPES, pdf_extract)
# Claims no content type: document.py turns to it only for a ScannedPDF.
OCR_EXTRACTOR = Extractor(PDF_OCR_RULES, frozenset(), ocr_extract)
