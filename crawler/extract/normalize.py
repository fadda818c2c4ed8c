"""Text normalization applied to every extracted block, so equal text compares equal."""

from __future__ import annotations

import re
import unicodedata

# Invisible characters that pages insert or drop between fetches without any visible change:
# zero-width space/joiners, word joiner, BOM, soft hyphen, bidi marks.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u202a\u202b\u202c\u202d\u202e"),
    None,
)
# Every Unicode space separator (NBSP, thin space, ideographic space...) and control whitespace.
_SPACES = re.compile(r"[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")


def normalize_text(text: str) -> str:
    """NFC, invisible characters removed, every run of whitespace made one space, trimmed."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return _SPACES.sub(" ", text).strip()


def has_words(text: str) -> bool:
    """True when a block carries at least one letter or digit (not just bullets or rules)."""
    return any(ch.isalnum() for ch in text)
