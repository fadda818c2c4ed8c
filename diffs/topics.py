"""Criteria and their topic vocabulary: does a passage speak about a criterion, in which words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final, Literal, get_args

# The kinds a cited source can be (catalog `kind:`; taxonomy `source_kinds:`).
SourceKind = Literal["privacy-policy", "dpa", "terms", "docs", "help", "other"]
SOURCE_KINDS: Final[tuple[SourceKind, ...]] = get_args(SourceKind)


def source_kind(value: str) -> SourceKind | None:
    """The source kind this text names, or None when it names none."""
    return next((k for k in SOURCE_KINDS if k == value), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Criterion:
    """A rating criterion of the taxonomy, with topic terms per language code.

    A term is a word or phrase matched case-insensitively on whole words. A ``*`` at the end
    of a word admits word forms: ``train*`` matches "training" and "trained" but not
    "retrain"; ``Trainingsdaten`` matches only itself.
    """

    id: str
    label: str
    description: str = ""
    topics: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Source kinds whose every significant change concerns the criterion (the DPA for "dpa").
    kinds: tuple[SourceKind, ...] = ()

    def terms(self) -> tuple[str, ...]:
        """Every topic term of every language, in a stable order."""
        return tuple(t for lang in sorted(self.topics) for t in self.topics[lang])


@dataclass(frozen=True, slots=True)
class TopicMatch:
    """Terms of one criterion found in one passage."""

    criterion: str
    passage: str
    terms: tuple[str, ...]  # the vocabulary entries that matched
    words: tuple[str, ...]  # the words of the passage that matched them


def fold(text: str) -> str:
    """Case- and compatibility-fold text for matching (keeps accents: 'données' != 'donnees')."""
    return unicodedata.normalize("NFKC", text).casefold()


@lru_cache(maxsize=4096)
def term_pattern(term: str) -> re.Pattern[str]:
    """Compile a topic term into a whole-word pattern; ``*`` admits word forms."""
    parts = []
    for word in fold(term).split():
        if word.endswith("*"):
            parts.append(re.escape(word[:-1]) + r"\w*")
        else:
            parts.append(re.escape(word))
    body = r"[\s\-]+".join(parts)  # "opt out" also matches "opt-out"
    return re.compile(rf"(?<!\w){body}(?!\w)")


@lru_cache(maxsize=4096)  # as term_pattern: one entry per vocabulary term
def term_literal(term: str) -> str:
    """The longest literal part of a term's pattern: any match of the term holds it."""
    return max((word.removesuffix("*") for word in fold(term).split()), key=len, default="")


# A numbered reference to another part of the text ("Section 4.2", "§ 5", "Annex 2"); the
# keyword is group 1. Also used by diffs.significance: a renumbered reference is a copy edit.
REFERENCE = (
    r"(?<!\w)(sections?|articles?|clauses?|paragraphs?|annex(?:es)?|schedules?|abschnitt"
    r"|ziffer|artikel|§)\s*\d+(?:\.\d+)*[a-z]?\b"
)
# A cross-reference names a section by its title ("Section 1.1 (Customer Infrastructure)"):
# it says nothing about the topic. A survival clause listing twenty such titles changed in
# two releases of the dev corpus and matched on-prem and private-cloud through the titles.
_TITLED_REFERENCE = re.compile(REFERENCE + r"\s*\([^()]{1,80}\)", re.IGNORECASE)


def without_references(passage: str) -> str:
    """The passage without titled cross-references to other sections."""
    return _TITLED_REFERENCE.sub(" ", passage)


def match_terms(passage: str, terms: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The terms found in a passage and the passage words that matched them."""
    folded = fold(passage)
    hit_terms: list[str] = []
    hit_words: list[str] = []
    for term in terms:
        # A term matches only where its longest word stands (as folded text): a substring
        # test rules out most terms of most passages far faster than the pattern's search.
        if term_literal(term) not in folded:
            continue
        found = term_pattern(term).search(folded)
        if found:
            hit_terms.append(term)
            if found.group(0) not in hit_words:
                hit_words.append(found.group(0))
    return tuple(hit_terms), tuple(hit_words)


def match_criterion(criterion: Criterion, passages: Iterable[str]) -> tuple[TopicMatch, ...]:
    """Every passage that speaks about the criterion, with the words that say so."""
    terms = criterion.terms()
    out = []
    for passage in passages:
        hit_terms, hit_words = match_terms(passage, terms)
        if hit_terms:
            out.append(TopicMatch(criterion.id, passage, hit_terms, hit_words))
    return tuple(out)
