"""Which ratings a significant change puts in doubt, and why, in the changed sentences' words."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from rapidfuzz import fuzz

from diffs.anchors import (
    ALTERED_MIN_SCORE,
    Anchor,
    Tracked,
    anchor_in,
    canonical,
    closest,
    track,
)
from diffs.reasons import Reason, ReasonKind
from diffs.scale import too_much_changed
from diffs.sentences import (
    REPLACED_BELOW,
    SentenceChange,
    changed_sentences,
    kept_share,
    new_document,
)
from diffs.significance import substance
from diffs.text import TextDiff
from diffs.topics import Criterion, SourceKind, match_terms, without_references


@dataclass(frozen=True, slots=True)
class Quote:
    """An evidence quote of a rating and the source it was taken from."""

    source: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RatingRef:
    """What flagging needs to know about one rating of a tool."""

    tool: str
    criterion: str
    rating: str
    sources: tuple[str, ...]
    quotes: tuple[Quote, ...] = ()


# A fragment this short ("or", "a.", a list item's connective) is contained in any quote; it
# says nothing about which sentence held it.
_TOUCH_MIN_CHARS = 40


class _Touching:
    """The changed sentences whose old wording held (part of) a quote, for one change's
    sentences, each folded once and each quote matched once:
    the quotes of every rating are matched with the same sentences, and a page rewritten
    whole has a thousand of them (bench/analyze_speed.py)."""

    def __init__(self, changed: Sequence[SentenceChange]) -> None:
        self._olds = [(c, canonical(c.old)) for c in changed if c.old]
        self._found: dict[str, tuple[SentenceChange, ...]] = {}

    def __call__(self, quote: str) -> tuple[SentenceChange, ...]:
        """The changed sentences whose old wording held (part of) the quote."""
        if quote not in self._found:
            q = canonical(quote)
            least = min(len(q) // 2, _TOUCH_MIN_CHARS)
            self._found[quote] = tuple(
                c
                for c, old in self._olds
                if len(old) >= least
                # The cutoff lets rapidfuzz give up early on a sentence that cannot reach it.
                and fuzz.partial_ratio(q, old, score_cutoff=ALTERED_MIN_SCORE) >= ALTERED_MIN_SCORE
            )
        return self._found[quote]


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where one evidence quote of one rating stands after a version: stored between crawls."""

    tool: str
    criterion: str
    source: str
    tracked: Tracked


@dataclass(frozen=True, slots=True, kw_only=True)
class Suggestion:
    """A change that speaks about a criterion in a source its rating does not cite: a
    suggestion to look (and perhaps to cite the source), not a flag."""

    tool: str
    criterion: str
    source: str
    text: str
    sentences: tuple[SentenceChange, ...]
    matched_terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Flagging:
    """What a change means for the ratings citing the source: reasons, and the quotes followed;
    and for the ratings that do not cite it, suggestions."""

    reasons: tuple[Reason, ...]
    evidence: tuple[Evidence, ...]
    suggestions: tuple[Suggestion, ...] = ()


# One source's anchors of one tool: (criterion, quote) -> what the last version left.
StoredAnchors = Mapping[tuple[str, str], Tracked]


def _first_tracked(quote: str, text: str) -> Tracked:
    """A quote anchored in the first text it is seen in; never-found (with the page's closest
    passage) when it is not on the page."""
    anchor = anchor_in(quote, text)
    if anchor is None:
        score, passage = closest(quote, text)
        return Tracked(Anchor(quote, quote), "never-found", score, passage)
    return Tracked(anchor, "found", 100.0, quote)


def first_evidence(
    rating: RatingRef, source: str, text: str, known: StoredAnchors | None = None
) -> tuple[Evidence, ...]:
    """Anchor a rating's quotes of this source that have no anchor yet (all of them in a
    source's first version; a quote added to the catalog later, at the next fetch)."""
    return tuple(
        Evidence(rating.tool, rating.criterion, source, _first_tracked(q.text, text))
        for q in rating.quotes
        if q.source == source and (rating.criterion, q.text) not in (known or {})
    )


def follow_evidence(
    rating: RatingRef,
    source: str,
    old_text: str,
    new_text: str,
    changed: Sequence[SentenceChange] = (),
    stored: StoredAnchors | None = None,
    *,
    touching: _Touching | None = None,
) -> tuple[tuple[Evidence, ...], tuple[Reason, ...]]:
    """Follow each quote of this source into the new text; a reason when it newly altered or lost.

    A quote that merely moved needs no editor. A quote already altered (or lost) at the last
    version is a new reason only when this change touches its current wording again. The
    sentences shown are the page's own before/after wording around the quote, so the word
    diff marks what the page changed. ``touching`` (flag_change's) shares the look-up of the
    changed sentences that held a quote among the ratings.
    """
    states: list[Evidence] = []
    reasons: list[Reason] = []
    touching = touching or _Touching(changed)
    for quote in rating.quotes:
        if quote.source != source:
            continue
        before = (stored or {}).get((rating.criterion, quote.text))
        if before is None or before.status == "never-found":
            before = _first_tracked(quote.text, old_text)
            if before.status == "never-found":  # never on the page: not this change's doing
                first = _first_tracked(quote.text, new_text)
                states.append(Evidence(rating.tool, rating.criterion, source, first))
                continue
        after = _unless_copy_edited(before.anchor.wording, track(before.anchor, new_text))
        states.append(Evidence(rating.tool, rating.criterion, source, after))
        if after.status in ("found", "moved"):
            continue
        if after.status == before.status and not touching(before.passage or ""):
            continue  # already flagged as it stands; this change was elsewhere on the page
        reasons.append(_evidence_reason(rating, source, before, after, touching))
    return tuple(states), tuple(reasons)


def _unless_copy_edited(wording: str, after: Tracked) -> Tracked:
    """An altered quote whose words all still stand in the page's wording, up to a copy edit
    ("at least 30 days" -> "at least thirty (30) days"), still says what it said: found."""
    if after.status != "altered" or after.passage is None:
        return after
    quote, passage = substance(wording), substance(after.passage)
    if not quote or not _within(quote, passage):
        return after
    return replace(after, status="found")


def _within(part: tuple[str, ...], whole: tuple[str, ...]) -> bool:
    """Whether the words of ``part`` stand, in order and together, in ``whole``."""
    size = len(part)
    return any(whole[i : i + size] == part for i in range(len(whole) - size + 1))


def _evidence_reason(
    rating: RatingRef,
    source: str,
    before: Tracked,
    after: Tracked,
    touching: _Touching,
) -> Reason:
    wording = before.anchor.wording
    shown = touching(wording) or (SentenceChange(wording, after.passage),)
    if after.status == "altered":
        kind: ReasonKind = "evidence-altered"
        text = f"Evidence quote reworded ({after.score:.0f}% similar)."
    else:
        kind, text = "evidence-lost", "Evidence quote no longer found in the source."
    return Reason(
        tool=rating.tool,
        criterion=rating.criterion,
        source=source,
        severity="evidence",
        kind=kind,
        text=text,
        sentences=shown,
        old_quote=wording,
        new_quote=after.passage,
    )


# Sentences shown for a change that concerns a criterion by the kind of its source: enough
# to read what moved; the full diff is one click away.
KIND_SENTENCES = 6
# A change concerns a whole-document criterion only when it changes a statement, not a
# label: in the dev corpus, the menu items, buttons, icon names, footer lines and chat-widget
# lines that changed on DPA pages have 1-5 words; the shortest substantive DPA change is a
# 6-word subprocessor row ("CoreWeave Inference provider EEA Cloud infrastructure"). Words
# have letters: "© Copyright 2025 Perplexity — Where Knowledge Begins" is 5 words, not 7.
MIN_STATEMENT_WORDS = 6
_LETTERED = re.compile(r"\w*[^\W\d_]\w*")


def _statements(changed: Sequence[SentenceChange]) -> tuple[SentenceChange, ...]:
    """The changed sentences that state something (long enough not to be a label)."""
    return tuple(
        c
        for c in changed
        if any(len(_LETTERED.findall(t)) >= MIN_STATEMENT_WORDS for t in c.texts())
    )


def topic_reason(
    rating: RatingRef,
    source: str,
    criterion: Criterion,
    changed: Sequence[SentenceChange],
    kind: SourceKind = "other",
    kept: float | None = None,
) -> Reason | None:
    """A reason when changed sentences (old or new wording) speak about the criterion, or when
    the source is of a kind the criterion rests on as a whole (a DPA for "dpa").

    ``kept`` is set when the page now holds another document (the share of the old text it
    kept); ``changed`` is then every sentence of the new document.
    """
    terms = criterion.terms()
    hits: list[SentenceChange] = []
    words: list[str] = []
    for change in changed:
        found_words = [
            w for text in change.texts() for w in match_terms(without_references(text), terms)[1]
        ]
        if found_words:
            hits.append(change)
            words.extend(w for w in found_words if w not in words)
    if hits and kept is not None:
        hits = hits[:KIND_SENTENCES]
        text = (
            f"The page now holds another document ({kept:.0%} of the old text is left), and it "
            f"speaks about {criterion.label}: " + ", ".join(words) + "."
        )
    elif hits:
        text = f"Changed text speaks about {criterion.label}: " + ", ".join(words) + "."
    elif kind in criterion.kinds and (statements := _statements(changed)):
        hits = list(statements[:KIND_SENTENCES])
        text = f"The {kind} itself changed, and {criterion.label} rests on it as a whole."
    else:
        return None
    return Reason(
        tool=rating.tool,
        criterion=rating.criterion,
        source=source,
        severity="topic",
        kind="topic",
        text=text,
        sentences=tuple(hits),
        matched_terms=tuple(words),
    )


def flag_change(
    source: str,
    old_text: str,
    new_text: str,
    diff: TextDiff,
    ratings: Sequence[RatingRef],
    criteria: Mapping[str, Criterion],
    stored: StoredAnchors | None = None,
    kind: SourceKind = "other",
) -> Flagging:
    """Reasons to re-review every rating that cites the changed source (none: no doubt).

    Severity: an evidence quote altered or lost, then a changed passage on the criterion's
    topic. A change that touches neither is reported as a change, not flagged. When the page
    now holds another document, what counts for topics is the whole new document, not the
    sentences of the old one that are gone.
    ``stored`` holds this source's anchors as the last version left them; ``kind`` is the
    source's kind (catalog `kind:`).
    """
    if (size := too_much_changed(diff.document_hunks())) is not None:
        return _read_whole(source, old_text, new_text, ratings, criteria, stored, size)
    changed = changed_sentences(diff)
    share = kept_share(old_text, new_text)
    replaced = share < REPLACED_BELOW  # the page now holds another document
    on_topic = new_document(new_text) if replaced else changed
    kept = share if replaced else None
    reasons: list[Reason] = []
    evidence: list[Evidence] = []
    suggestions: list[Suggestion] = []
    touching = _Touching(changed)
    for rating in ratings:
        if source not in rating.sources:
            gap = _citation_gap(rating, source, criteria.get(rating.criterion), on_topic)
            suggestions.extend(gap)
            continue
        states, found = follow_evidence(
            rating, source, old_text, new_text, changed, stored, touching=touching
        )
        evidence.extend(states)
        reasons.extend(found)
        criterion = criteria.get(rating.criterion)
        if criterion is not None:
            reason = topic_reason(rating, source, criterion, on_topic, kind, kept)
            if reason is not None:
                reasons.append(reason)
    return Flagging(tuple(reasons), tuple(evidence), tuple(suggestions))


def _read_whole(
    source: str,
    old_text: str,
    new_text: str,
    ratings: Sequence[RatingRef],
    criteria: Mapping[str, Criterion],
    stored: StoredAnchors | None,
    size: str,
) -> Flagging:
    """A page changed throughout (diffs.scale): evidence quotes are followed as always, and
    every rating citing the page is flagged to be reviewed against it as a whole."""
    reasons: list[Reason] = []
    evidence: list[Evidence] = []
    for rating in ratings:
        if source not in rating.sources:
            continue
        states, found = follow_evidence(rating, source, old_text, new_text, (), stored)
        evidence.extend(states)
        reasons.extend(found)
        criterion = criteria.get(rating.criterion)
        label = criterion.label if criterion is not None else rating.criterion
        text = f"The page changed throughout ({size}): review {label} against it as a whole."
        reasons.append(
            Reason(
                tool=rating.tool,
                criterion=rating.criterion,
                source=source,
                severity="topic",
                kind="topic",
                text=text,
                sentences=(),
            )
        )
    return Flagging(tuple(reasons), tuple(evidence))


def _citation_gap(
    rating: RatingRef, source: str, criterion: Criterion | None, changed: Sequence[SentenceChange]
) -> tuple[Suggestion, ...]:
    """A suggestion when changed sentences of a source the rating does not cite speak about
    its criterion (a privacy policy that now may train on inputs, while no-training cites
    only the DPA)."""
    if criterion is None:
        return ()
    probe = RatingRef(
        tool=rating.tool, criterion=rating.criterion, rating=rating.rating, sources=(source,)
    )
    reason = topic_reason(probe, source, criterion, changed)
    if reason is None:
        return ()
    text = (
        f"May concern {criterion.label} (this source is not cited by it): "
        + ", ".join(reason.matched_terms)
        + "."
    )
    return (
        Suggestion(
            tool=rating.tool,
            criterion=rating.criterion,
            source=source,
            text=text,
            sentences=reason.sentences,
            matched_terms=reason.matched_terms,
        ),
    )
