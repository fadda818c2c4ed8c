"""Locating an evidence quote in a text: exact, fuzzy (altered) or lost."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

from diffs.topics import fold

AnchorStatus = Literal["found", "altered", "lost"]

# partial_ratio of the quote against its best-aligned window of the text. 80 keeps a clause
# with a word or two changed ("do not use" -> "may use") as "altered" with both wordings,
# while an unrelated sentence sharing vocabulary scores 50-70 and counts as lost.
ALTERED_MIN_SCORE = 80.0

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where a quote stands in a text."""

    status: AnchorStatus
    score: float  # 100 for an exact match
    passage: str | None  # the text's wording at the best match (None when lost)


def canonical(text: str) -> str:
    """Fold case and whitespace so that re-flowed text still matches exactly."""
    return _SPACE.sub(" ", fold(text)).strip()


def locate(quote: str, text: str) -> Anchor:
    """Find the quote in the text: exactly (modulo case and spacing), fuzzily, or not at all."""
    q, t = canonical(quote), canonical(text)
    if not q:
        return Anchor("lost", 0.0, None)
    if q in t:
        return Anchor("found", 100.0, quote)
    best = fuzz.partial_ratio_alignment(q, t, score_cutoff=ALTERED_MIN_SCORE)
    if best is None:
        return Anchor("lost", 0.0, None)
    # Show the page's own wording when folding kept offsets (it does for nearly all text).
    spaced = _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    shown = spaced if len(spaced) == len(t) else t
    passage = _trim_to_sentence(_widen_to_words(shown, best.dest_start, best.dest_end))
    return Anchor("altered", round(best.score, 1), passage)


def _widen_to_words(text: str, start: int, end: int) -> str:
    """Extend a character window to whole words so the editor reads real wording."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[start:end].strip()


def _trim_to_sentence(passage: str) -> str:
    """Drop the tail of a previous sentence that the alignment window caught at its start."""
    cut = passage.find(". ")
    if 0 <= cut < len(passage) // 5:
        return passage[cut + 2 :]
    return passage
