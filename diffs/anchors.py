"""Evidence anchors: a quote with the words around it, followed from one version to the next.

A quote is re-located in four steps: exactly where it was (same words, same context:
*found*), the same words elsewhere (*moved*: needs no editor), a fuzzy match with a score and
the page's best candidate passage (*altered*), or nothing close enough (*lost*). A quote that
is not on the page the first time it is looked for (a typo in the catalog, a quote from
another page) is *never-found*: the rating is not watched by it, and the page's closest
passage is kept to show the editor what the quote may have meant.
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rapidfuzz import fuzz

from diffs.topics import fold

AnchorStatus = Literal["found", "moved", "altered", "lost", "never-found"]

# partial_ratio of the quote against its best-aligned window of the text. 80 keeps a clause
# with a word or two changed ("do not use" -> "may use") as "altered" with both wordings,
# while an unrelated sentence sharing vocabulary scores 50-70 and counts as lost.
ALTERED_MIN_SCORE = 80.0
# Characters of context kept on each side: about ten words, enough to tell two occurrences
# of a repeated phrase apart ("as described below" appears in many sections of a policy).
CONTEXT_CHARS = 80
# Context similarity (Indel ratio of the surrounding words, 0-100) at or above which the
# quote is where it was. A reflowed heading or one edited neighbouring word keeps 80+; a
# different section shares only common words and scores 30-55.
SAME_PLACE_MIN_SCORE = 60.0

_SPACE = re.compile(r"\s+")
# A sentence ends at . ! ? ; followed by a space (or the end); a heading's "#" starts one.
_SENTENCE_END = re.compile(r"[.!?;](?=\s|$)")
_SENTENCE_START = re.compile(r"[.!?;]\s+")
_RUN = re.compile(r"\s+|\S+")
_WORD = re.compile(r"\w+")
# At most this much wording is added on each side of the match to complete its sentences.
MAX_WIDEN_CHARS = 240


@dataclass(frozen=True, slots=True)
class Anchor:
    """A quote as it stands in one version: its wording and the context on each side."""

    quote: str  # the catalog's quote (the anchor's name)
    wording: str  # the wording the editor last accepted (the quote itself at first)
    prefix: str = ""  # canonical text just before the wording
    suffix: str = ""  # canonical text just after it


@dataclass(frozen=True, slots=True)
class Tracked:
    """An anchor and what became of it at the last version compared: stored between crawls."""

    anchor: Anchor
    status: AnchorStatus
    score: float
    passage: str | None  # the page's current wording (the best candidate when altered)


@dataclass(frozen=True, slots=True)
class Located:
    """Where an anchor stands in a new version."""

    status: AnchorStatus
    score: float  # 100 for the same words
    passage: str | None  # the page's wording at the match (None when lost)
    anchor: Anchor | None  # the anchor re-taken in the new text (None unless found/moved)


def canonical(text: str) -> str:
    """Fold case and whitespace so that re-flowed text still matches exactly."""
    return _SPACE.sub(" ", fold(text)).strip()


# Each quote of a source is looked for in the same two page texts: fold each page once
# (a 20 MB page takes about half a second), not once per quote.
_page = lru_cache(maxsize=2)(canonical)


def _context(text: str, start: int, end: int) -> tuple[str, str]:
    return text[max(0, start - CONTEXT_CHARS) : start].strip(), text[
        end : end + CONTEXT_CHARS
    ].strip()


def anchor_in(quote: str, text: str, wording: str | None = None) -> Anchor | None:
    """Anchor a quote (or its accepted wording) at its first place in a text (same words)."""
    words = wording or quote
    w, t = canonical(words), _page(text)
    spans = _occurrences(w, t) if w else []
    if not spans:
        return None
    prefix, suffix = _context(t, *spans[0])
    return Anchor(quote, words, prefix, suffix)


def _context_score(anchor: Anchor, prefix: str, suffix: str) -> float:
    """How alike the surroundings are; a side the anchor has no context for is neutral."""
    scores = [fuzz.ratio(a, b) for a, b in ((anchor.prefix, prefix), (anchor.suffix, suffix)) if a]
    return sum(scores) / len(scores) if scores else 100.0


def relocate(anchor: Anchor, text: str) -> Located:
    """Follow an anchor into a new version of its page."""
    w, t = canonical(anchor.wording), _page(text)
    if not w:
        return Located("lost", 0.0, None, None)
    best: tuple[float, int, int] | None = None
    # A repeated phrase: the occurrence whose surroundings match best wins.
    for start, end in _occurrences(w, t):
        score = _context_score(anchor, *_context(t, start, end))
        if best is None or score > best[0]:
            best = (score, start, end)
    if best is not None:
        score, start, end = best
        prefix, suffix = _context(t, start, end)
        status: AnchorStatus = "found" if score >= SAME_PLACE_MIN_SCORE else "moved"
        moved = Anchor(anchor.quote, anchor.wording, prefix, suffix)
        return Located(status, 100.0, anchor.wording, moved)
    return _fuzzy(w, t, text)


def _occurrences(w: str, t: str) -> list[tuple[int, int]]:
    """Where the wording stands in the text: exactly, else the same words with other
    punctuation or list marks between them ("- “SCC” means" -> "“SCC” means")."""
    spans = []
    at = t.find(w)
    while at >= 0:
        spans.append((at, at + len(w)))
        at = t.find(w, at + 1)
    if spans:
        return spans
    words = _WORD.findall(w)
    if not words or len(words) > MAX_QUOTE_WORDS:
        return []
    pattern = re.compile(r"(?<!\w)" + r"\W+".join(map(re.escape, words)) + r"(?!\w)")
    return [(m.start(), m.end()) for m in pattern.finditer(t)]


# Quote characters x page characters one partial-ratio search may compare: about 0.3 s (a
# 2,000-character quote on a 2 MB page). rapidfuzz's partial ratio slows down sharply with
# the quote's length (19,000 characters on 1 MB: 91 s), so a quote longer than
# LONG_QUOTE_CHARS, or a search over the budget, compares the quote whole (fuzz.ratio) with
# the few page windows that share the most words with it. Either way the work is bounded.
MAX_FUZZY_CELLS = 4_000_000_000
LONG_QUOTE_CHARS = 1000
# Words of a quote looked for beyond its exact wording (other punctuation between its words, a
# fuzzy match). An evidence quote is a statement, a sentence or two (the example catalog's
# longest has 14 words); a longer one is found exactly (found or moved) or not at all (lost;
# never-found without a closest passage). A 20,000-word quote on an 11 MB page took 8-10 s
# to compare with page windows, 1.1 s to match punctuation-blind. A reworded long quote is
# still flagged: as lost instead of altered.
MAX_QUOTE_WORDS = 200
# Windows compared when the search is windowed.
FUZZY_WINDOWS = 3


@dataclass(frozen=True, slots=True)
class _Match:
    score: float
    start: int
    end: int


def _best_alignment(w: str, t: str, cutoff: float) -> _Match | None:
    """Where the quote aligns best in the text (within the work budget), or None."""
    if len(_WORD.findall(w)) > MAX_QUOTE_WORDS:
        return None  # matched exactly or not at all
    if len(w) <= LONG_QUOTE_CHARS and len(w) * len(t) <= MAX_FUZZY_CELLS:
        found = fuzz.partial_ratio_alignment(w, t, score_cutoff=cutoff)
        return None if found is None else _Match(found.score, found.dest_start, found.dest_end)
    best: _Match | None = None
    for start, end in _windows(w, t):
        if len(w) <= LONG_QUOTE_CHARS:
            found = fuzz.partial_ratio_alignment(w, t[start:end], score_cutoff=cutoff)
            match = None if found is None else _Match(
                found.score, start + found.dest_start, start + found.dest_end)  # fmt: skip
        else:
            score = fuzz.ratio(w, t[start:end], score_cutoff=cutoff)
            match = _Match(score, start, end) if score else None
        if match is not None and (best is None or match.score > best.score):
            best = match
    return best


def _windows(w: str, t: str) -> list[tuple[int, int]]:
    """The spans of the text, as many words long as the quote, that hold the most of its
    words (best first, not overlapping)."""
    wanted = set(_WORD.findall(w))
    size = max(len(_WORD.findall(w)), 1)
    spans = [(m.start(), m.end(), m.group(0) in wanted) for m in _WORD.finditer(t)]
    if not spans:
        return []
    counts = [0]
    for _, _, hit in spans:
        counts.append(counts[-1] + hit)
    last = max(len(spans) - size, 0)
    ranked = heapq.nsmallest(
        50 * FUZZY_WINDOWS,
        range(last + 1),
        key=lambda i: counts[i] - counts[min(i + size, len(spans))],
    )
    chosen: list[int] = []
    for i in ranked:
        if all(abs(i - j) >= size for j in chosen):
            chosen.append(i)
            if len(chosen) == FUZZY_WINDOWS:
                break
    return [(spans[i][0], spans[min(i + size, len(spans)) - 1][1]) for i in chosen]


def _in_page_words(text: str, t: str, match: _Match) -> str:
    """The page's own wording around a match, widened to whole sentences."""
    # Show the page's own wording when folding kept offsets (it does for nearly all text).
    spaced, breaks = _spaced(unicodedata.normalize("NFKC", text))
    shown, breaks = (spaced, breaks) if len(spaced) == len(t) else (t, [])
    return _widen_to_sentences(shown, breaks, match.start, match.end)


def _fuzzy(w: str, t: str, text: str) -> Located:
    """The best reworded candidate, in the page's own wording, or lost."""
    best = _best_alignment(w, t, ALTERED_MIN_SCORE)
    if best is None:
        return Located("lost", 0.0, None, None)
    return Located("altered", round(best.score, 1), _in_page_words(text, t, best), None)


def track(anchor: Anchor, text: str) -> Tracked:
    """Relocate an anchor and keep what to store: the new context when the words are there,
    the accepted wording and context otherwise (so a reworded quote stays comparable)."""
    loc = relocate(anchor, text)
    return Tracked(loc.anchor or anchor, loc.status, loc.score, loc.passage)


def accept(tracked: Tracked, text: str) -> Tracked:
    """After an editor's review: the page's current wording becomes the anchored wording."""
    if tracked.passage is None:
        return tracked  # lost: nothing on the page to anchor to
    fresh = anchor_in(tracked.anchor.quote, text, wording=tracked.passage)
    if fresh is None:
        return tracked
    return Tracked(fresh, "found", 100.0, tracked.passage)


def closest(quote: str, text: str) -> tuple[float, str | None]:
    """The page's passage most like the quote, whatever the score (0 and None: no text)."""
    w, t = canonical(quote), _page(text)
    best = _best_alignment(w, t, 0.0) if w and t else None
    if best is None or best.score == 0:
        return 0.0, None
    return round(best.score, 1), _in_page_words(text, t, best)


def locate(quote: str, text: str) -> Located:
    """Find a quote in a text without prior context: found (exactly), altered, or lost."""
    return relocate(Anchor(quote, quote), text)


def _spaced(text: str) -> tuple[str, list[int]]:
    """Whitespace collapsed as `canonical` does, and where the line (block) breaks were."""
    out: list[str] = []
    breaks: list[int] = []
    size = 0
    for m in _RUN.finditer(text.strip()):
        run = m.group(0)
        if run.isspace():
            if "\n" in run:
                breaks.append(size + 1)
            run = " "
        out.append(run)
        size += len(run)
    return "".join(out), breaks


def _widen_to_sentences(text: str, breaks: list[int], start: int, end: int) -> str:
    """Extend the aligned window to whole sentences of its block, so the editor reads the
    page's own statement(s) rather than a window cut mid-word ("note that we do…")."""
    starts = [m.end() for m in _SENTENCE_START.finditer(text, 0, start + 1)]
    starts += [b for b in breaks if b <= start]
    start = max([0, *starts, start - MAX_WIDEN_CHARS])
    # Where the window's last sentence ends, within the block holding the window's middle.
    middle = (start + end) // 2
    limit = min([len(text), end + MAX_WIDEN_CHARS, *(b - 1 for b in breaks if b > middle)])
    after = _SENTENCE_END.search(text, max(start, end - 1), limit)
    return text[start : after.end() if after else limit].strip()
