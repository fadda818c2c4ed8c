"""OCR noise: two readings of the same scanned page differ in a few garbled characters.

Tesseract reads each scan of a page a little differently (a speck read as "|", "opt in" read
as "optin", "hébergées" as "hlbergies"), so the text of a scanned PDF (extraction method
`pdf-ocr`) changes at every new scan. Such a change is noise, recorded with the reason "OCR
noise", when every edit between the two word sequences is OCR-shaped:

- words merged or split, or equal once OCR's usual confusions are folded (0/o, 1/l/I, rn/m…);
- a garbled word: a small edit of a word of 4+ characters where one side is not a word the
  other version uses anywhere (an edit that swaps one real word for another is a change);
- a stray reading of a speck: at most OCR_MAX_JUNK_CHARS letter, no digit;

and never touches a word that turns a statement around ("not", "may", "unless"…) nor a number.
Anything else is left to diffs.significance: a missed change is worse than a false alert.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

from rapidfuzz.distance import Levenshtein

from diffs.significance import Significance
from diffs.text import TextDiff

OCR_REASON = "only OCR noise changed (the scan was read a little differently)"
# Characters one garbled word may differ by (after folding): tesseract's misreadings of one
# word are one or two characters ("thirty" -> "thity", "data" -> "dais").
OCR_MAX_WORD_EDIT = 2
# Shorter words may differ by one character only, and words shorter than OCR_MIN_WORD not at
# all ("EU" -> "UK" is a change): the same bounds as a typo fix (diffs.significance).
OCR_LONG_WORD = 8
OCR_MIN_WORD = 4
# A stray reading of a speck of dust or a stain: one letter ("|" and "_" are no word). Two
# would let an inserted "EU" or "UK" pass.
OCR_MAX_JUNK_CHARS = 1
# Share of the document's characters that may be garbled: two scans with different speckles,
# rotation and blur differ in at most 0.5 % (measured: 10 pairs of the tests' scans); more
# than this and the page is either badly scanned or changed, and is judged as a change.
OCR_MAX_EDIT_SHARE = 0.03

_WORD = re.compile(r"[^\W_]+")  # "_" is a speck, not a letter
# Tesseract's usual confusions, folded to one spelling before words are compared.
# ("and" read as "arid": seen in the tests' scans.)
_CONFUSIONS = (("rn", "m"), ("ri", "n"), ("vv", "w"), ("cl", "d"), ("0", "o"), ("1", "l"),
               ("i", "l"), ("5", "s"), ("8", "b"))  # fmt: skip
# Words that turn a statement around: never OCR noise, whatever their spelling.
PROTECTED = frozenset(
    {
        *("not", "no", "nor", "never", "none", "may", "must", "shall", "will", "would"),
        *("can", "cannot", "could", "should", "only", "all", "any", "each", "every", "some"),
        *("without", "unless", "except", "within", "outside"),
        *("nicht", "kein", "keine", "nie", "ne", "pas", "jamais", "sans", "sauf"),
    }
)


def ocr_noise(diff: TextDiff) -> Significance | None:
    """Noise with the reason OCR_REASON when the diff between two OCR readings holds only
    OCR-shaped edits (module docstring), else None (judge it as any other change)."""
    hunks = diff.document_hunks()
    old = _words(b for h in hunks for b in h.old)
    new = _words(b for h in hunks for b in h.new)
    if Counter(w for w in old if w in PROTECTED) != Counter(w for w in new if w in PROTECTED):
        return None
    old_doc, new_doc = set(_words(diff.old_blocks)), set(_words(diff.new_blocks))
    garbled = 0
    for a_words, b_words in _regions(old, new):
        a, b = "".join(a_words), "".join(b_words)
        real = a in new_doc or b in old_doc
        edit = _ocr_edit(a, b, real, max(a_words, b_words, key=len))
        if edit is None:
            return None
        garbled += edit
    size = sum(len(b) for b in diff.new_blocks) or 1
    if garbled > OCR_MAX_EDIT_SHARE * size:
        return None
    return Significance("noise", OCR_REASON, ("ocr",))


def _regions(old: list[str], new: list[str]) -> list[tuple[list[str], list[str]]]:
    """The runs of words that differ, each run whole ("opt in" read as "optin" is one run)."""
    out: list[tuple[list[str], list[str]]] = []
    joined = False  # whether the previous opcode was an edit (adjacent edits form one run)
    for op in Levenshtein.opcodes(old, new):
        if op.tag == "equal":
            joined = False
            continue
        a, b = old[op.src_start : op.src_end], new[op.dest_start : op.dest_end]
        if joined:
            out[-1] = (out[-1][0] + a, out[-1][1] + b)
        else:
            out.append((a, b))
        joined = True
    return out


def _ocr_edit(a: str, b: str, real_words: bool, words: list[str]) -> int | None:
    """Characters garbled when `a` (old words joined) was read as `b`, or None when the edit
    is not OCR-shaped. `real_words`: one side is a word the other version uses elsewhere;
    `words`: the longer side's words (each may be misread by OCR_MAX_WORD_EDIT characters
    when long, one when short)."""
    fa, fb = fold(a), fold(b)
    if fa == fb:
        return max(len(a), len(b)) - min(len(a), len(b))  # merged/split words, a confusion
    if any(c.isdigit() for c in a + b):
        return None  # a number changed
    if not a or not b:
        junk = a or b
        return len(junk) if len(junk) <= OCR_MAX_JUNK_CHARS else None
    distance = Levenshtein.distance(fa, fb)
    allowed = sum(OCR_MAX_WORD_EDIT if len(w) >= OCR_LONG_WORD else 1 for w in words)
    if real_words or min(len(fa), len(fb)) < OCR_MIN_WORD or distance > allowed:
        return None
    return distance


def fold(word: str) -> str:
    """A word with accents dropped and OCR's usual confusions folded to one spelling."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    for seen, meant in _CONFUSIONS:
        plain = plain.replace(seen, meant)
    return plain


def _words(blocks: Iterable[str]) -> list[str]:
    # lower(), not casefold(): "ß" stays one letter, as OCR reads it
    return [w.lower() for block in blocks for w in _WORD.findall(block)]
