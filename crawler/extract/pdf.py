"""PDF bodies to paragraph blocks, with pypdf."""

from __future__ import annotations

import io
import logging
import re

from crawler.extract.extractor import Body, ExtractError, Extractor
from crawler.extract.normalize import has_words, normalize_text

PDF_RULES = "pdf/1"
CONTENT_TYPES = frozenset({"application/pdf", "application/x-pdf"})

# A blank line, or a line ending a sentence followed by a capitalised/numbered line, ends a
# paragraph; other line breaks in PDF text are layout wrapping inside one paragraph.
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_END = (".", ":", ";", "!", "?")
# A wrapped line fills the text width (70-100 characters in A4/Letter legal PDFs); a shorter
# line followed by a capitalised one ends its paragraph (a heading or a paragraph's last line).
_SHORT_LINE = 60
_NEW_ITEM = re.compile(r"^(?:\d+(?:\.\d+)*[.)]?|[a-zA-Z][.)]|[•▪◦\-–*])\s")


def pdf_extract(body: Body) -> tuple[str, ...]:
    """The paragraphs of a PDF (ExtractError naming the URL when pypdf cannot read it)."""
    try:
        return pdf_blocks(body.raw)
    except ValueError as exc:
        raise ExtractError(f"{exc}: {body.url}") from exc


def pdf_blocks(body: bytes) -> tuple[str, ...]:
    """Text of every page of a PDF, one block per paragraph; raises ValueError if unreadable."""
    from pypdf import PdfReader  # imported lazily: most sources are HTML
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-but-readable files warn a lot
    try:
        reader = PdfReader(io.BytesIO(body))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable PDF: {exc}") from exc
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
