"""What a change did, sentence by sentence: added, removed and rewritten sentences."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from diffs.significance import substance
from diffs.text import PAIR_CUTOFF, TextDiff, chrome_blocks, split_blocks

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")


@dataclass(frozen=True, slots=True)
class SentenceChange:
    """A changed sentence: old wording (None when added) and new wording (None when removed)."""

    old: str | None
    new: str | None

    def texts(self) -> tuple[str, ...]:
        """The wordings present, new first."""
        return tuple(t for t in (self.new, self.old) if t)


def sentences(block: str) -> tuple[str, ...]:
    """Split a block into sentences (good enough for legal prose in en/de/fr)."""
    return tuple(s.strip() for s in _SENTENCE_END.split(block) if s.strip())


# Pairs of sentences compared to pair rewritten ones (each a fuzzy ratio): a rewrite larger
# than 500 x 500 sentences reads as removed and added sentences (the same topics and the same
# moved-sentence test apply), so a 20 MB page rewritten whole stays bounded.
MAX_SENTENCE_PAIRS = 250_000


def _pair_sentences(old: Sequence[str], new: Sequence[str]) -> list[SentenceChange]:
    """Pair each rewritten sentence with its most similar old wording; the rest stand alone."""
    if len(old) * len(new) > MAX_SENTENCE_PAIRS:
        return [SentenceChange(None, s) for s in new] + [SentenceChange(s, None) for s in old]
    out: list[SentenceChange] = []
    unpaired_old = list(old)
    for sentence in new:
        best = process.extractOne(
            sentence, unpaired_old, scorer=fuzz.ratio, score_cutoff=PAIR_CUTOFF
        )
        if best is None:
            out.append(SentenceChange(None, sentence))
        else:
            unpaired_old.remove(best[0])
            out.append(SentenceChange(best[0], sentence))
    out.extend(SentenceChange(s, None) for s in unpaired_old)
    return out


def changed_sentences(diff: TextDiff) -> tuple[SentenceChange, ...]:
    """Sentences added, removed or rewritten by the change, with old and new wording.

    What does not change what a sentence says is left out: a rewording that is only noise or
    a copy edit (punctuation, numbering, an article, a renumbered cross-reference), and a
    sentence that only moved (removed in one place, the same words added in another).
    """
    changes = _sentence_changes(diff)
    said = {t: substance(t) for c in changes for t in c.texts()}
    added = {said[c.new] for c in changes if c.old is None and c.new}
    removed = {said[c.old] for c in changes if c.new is None and c.old}
    return tuple(
        c
        for c in changes
        if not (c.old and c.new and said[c.old] == said[c.new])
        and not (c.old is None and c.new and said[c.new] in removed)
        and not (c.new is None and c.old and said[c.old] in added)
    )


def _sentence_changes(diff: TextDiff) -> tuple[SentenceChange, ...]:
    out: list[SentenceChange] = []
    for hunk in diff.document_hunks():
        for pair in hunk.pairs:
            old, new = sentences(pair.old), sentences(pair.new)
            old_set, new_set = set(old), set(new)
            out.extend(
                _pair_sentences(
                    [s for s in old if s not in new_set], [s for s in new if s not in old_set]
                )
            )
        out.extend(SentenceChange(None, s) for block in hunk.added for s in sentences(block))
        out.extend(SentenceChange(s, None) for block in hunk.removed for s in sentences(block))
    return tuple(dict.fromkeys(out))  # de-duplicate, keep order


# A page that keeps less than this share of its old text now holds another document: a site
# split into pages, a page moved, a policy rewritten from scratch. Its removed sentences say
# only that the old document is gone; what a rating needs is what the new one says. Measured
# on the dev corpus (bench/flags_offline.py, 75 text changes): the five such changes keep
# 1-13 % (Mistral's December 2025 split of one terms page into five, Perplexity's new privacy
# policy of May 2026), every other change keeps 44 % or more; any cut-off in between gives
# the same flags.
REPLACED_BELOW = 0.25


def _sentences_of(blocks: Sequence[str]) -> list[str]:
    return [s for block in blocks for s in sentences(block)]


def kept_share(old_text: str, new_text: str) -> float:
    """The share of the old text (characters of its sentences) that still stands in the new."""
    old = _sentences_of(split_blocks(old_text))
    new = set(_sentences_of(split_blocks(new_text)))
    total = sum(len(s) for s in old)
    return sum(len(s) for s in old if s in new) / total if total else 1.0


def new_document(new_text: str) -> tuple[SentenceChange, ...]:
    """Every sentence of a page that now holds another document, as added (the site's blocks
    left out)."""
    blocks = split_blocks(new_text)
    site = chrome_blocks(blocks)
    body = [b for i, b in enumerate(blocks) if i not in site]
    return tuple(dict.fromkeys(SentenceChange(None, s) for s in _sentences_of(body)))
