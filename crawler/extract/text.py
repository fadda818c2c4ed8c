"""The plain-text extractor: one block per paragraph (blank-line separated)."""

from __future__ import annotations

import re

from crawler.extract.charset import decode
from crawler.extract.extractor import Body, Extractor
from crawler.extract.normalize import has_words, normalize_text

TEXT_RULES = "text/2"  # 2: NULs dropped, charsets no browser knows ignored (charset.py)
CONTENT_TYPES = frozenset({"text/plain"})
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def text_extract(body: Body) -> tuple[str, ...]:
    """Plain text: one block per paragraph (blank-line separated)."""
    paragraphs = (
        normalize_text(p) for p in _PARAGRAPH_BREAK.split(decode(body.raw, body.content_type))
    )
    return tuple(p for p in paragraphs if has_words(p))


EXTRACTOR = Extractor(TEXT_RULES, CONTENT_TYPES, text_extract)
