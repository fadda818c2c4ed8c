"""Whether a text change is substantive (alert) or volatile noise (kept, not alerted).

Both sides of every changed passage are canonicalized: volatile patterns (relative dates,
rotating tokens, URL query strings, counters, copyright years, list numbering) are masked,
absolute dates are rewritten as ISO dates (so a format flip of the same date compares equal
and a new effective date does not), UI-text blocks are dropped, and only the case-folded
words are kept. The change is significant iff the canonical words differ. Passages that lie
wholly above the document's title (site menus, breadcrumbs, banners) are not the document's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from diffs.text import Hunk, TextDiff
from diffs.topics import REFERENCE

_WORDS = re.compile(r"\w+")

# Relative dates in the languages of the directory (en, fr, de).
_RELATIVE_DATE = re.compile(
    r"\b(?:(?:\d+|an?|one)\s+(?:second|minute|hour|day|week|month|year)s?\s+ago"
    r"|il\s+y\s+a\s+(?:\d+|une?)\s+(?:seconde|minute|heure|jour|semaine|mois|an|année)s?"
    r"|vor\s+(?:\d+|einem|einer)\s+(?:Sekunde|Minute|Stunde|Tag|Woche|Monat|Jahr)(?:en|n|e)?"
    r"|just\s+now|yesterday|today|aujourd['’]hui|gestern|heute)\b",
    re.IGNORECASE,
)
# Query strings and fragments carry session/tracking/build tokens (?dpl=, utm_*, ...): a URL
# is compared by host and path only, without scheme, "www." or trailing slash.
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
# Build ids, nonces, hashes, UUIDs: a run of 12+ letters/digits mixing both, or 8+ hex digits
# mixing both. Words of legal text never mix digits and letters that long.
_TOKEN = re.compile(
    r"\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[A-Za-z0-9_-]{12,}\b"
    r"|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b",
    re.IGNORECASE,
)
_COUNTER = re.compile(
    r"\b\d[\d,. ]*\s*(?:views?|likes?|comments?|shares?|downloads?|reviews?|ratings?"
    r"|followers?|stars?|results?|vues|aufrufe)\b",
    re.IGNORECASE,
)
_COPYRIGHT = re.compile(r"(?:©|\(c\)|copyright)\s*(?:\d{4}\s*[-–]\s*)?\d{4}", re.IGNORECASE)
# "1.", "2.3", "(a)", "iv." at the start of a block: list/section numbering, which pages
# switch between auto-numbered lists and typed numbers without changing the text.
_ENUMERATOR = re.compile(r"^(?:[-#]+\s+)?(?:\(?\d+(?:\.\d+)*[.)]?|\(?[a-z]\)|[ivx]+[.)])\s+")
# Whole blocks of site chrome that leak into extractions: consent buttons, share/print links,
# feedback widgets, skip links. Short on purpose: a policy sentence never matches as a whole.
_UI_BLOCK = re.compile(
    r"(?:accept|reject|allow|refuse|deny)(?: all)?(?: cookies)?|cookie (?:settings|preferences)"
    r"|manage (?:cookies|preferences|consent)|skip to (?:main )?content|back to top|copy link"
    r"|share|print|menu|close|log ?in|sign ?(?:in|up)|read more|show (?:more|less)|loading"
    r"|was this (?:page |article )?helpful|yes|no|thanks for your feedback|table of contents"
    r"|on this page|tout accepter|tout refuser|alle akzeptieren|alle ablehnen",
    re.IGNORECASE,
)

# Month names (en, fr, de; full and common abbreviations) -> month number.
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "january jan janvier janv januar jän",
            "february feb février fév fevrier februar",
            "march mar mars märz maerz",
            "april apr avril avr",
            "may mai",
            "june jun juin juni",
            "july jul juillet juil juli",
            "august aug août aout",
            "september sep sept septembre",
            "october oct octobre oktober okt",
            "november nov novembre",
            "december dec décembre déc decembre dezember dez",
        ),
        start=1,
    )
    for name in names.split()
}
_MONTH = r"(?P<month>" + "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th|er|\.)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DATE_PATTERNS = (
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE),  # March 25, 2026
    re.compile(rf"\b{_DAY}\s+(?:de\s+)?{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE),  # 25 mars 2026
    re.compile(rf"\b{_YEAR}-(?P<month>[01]?\d)-(?P<day>[0-3]?\d)\b"),  # 2026-03-25
    # 25/03/2026, 03/25/2026, 25.03.2026: day and month told apart only when one is > 12.
    re.compile(rf"\b(?P<a>[0-3]?\d)[/.](?P<b>[0-3]?\d)[/.]{_YEAR}\b"),
)


def _iso(match: re.Match[str]) -> str:
    """A date match as a word-like ISO token; ambiguous d/m orders give the same token."""
    groups = match.groupdict()
    if groups.get("a"):
        a, b = sorted((int(groups["a"]), int(groups["b"])))
        month, day = (a, b) if a <= 12 else (b, a)
    else:
        raw = groups["month"].lower().rstrip(".")
        month = int(raw) if raw.isdigit() else _MONTHS[raw]
        day = int(groups["day"])
    return f" date {groups['year']} {month:02d} {day:02d} "


_ISO_DATE = re.compile(r" date \d{4} \d\d \d\d ")


def _dates(text: str) -> list[tuple[str, str]]:
    """Every absolute date of a text as (as written, ISO token)."""
    return [(m.group(0), _iso(m)) for p in _DATE_PATTERNS for m in p.finditer(text)]


def canonical_dates(text: str) -> str:
    """Rewrite every absolute date as an ISO-like token, whatever its written format."""
    for pattern in _DATE_PATTERNS:
        text = pattern.sub(_iso, text)
    return text


_PHRASES = {
    "relative-date": "a relative date",
    "tracking-token": "a rotating token or link parameter",
    "date-format": "the format of a date",
    "number": "a counter",
    "copyright-year": "a copyright year",
    "numbering": "list numbering",
    "ui-text": "page chrome (UI text)",
    "reorder": "the order of passages",
    "whitespace": "whitespace, punctuation or letter case",
    "above-title": "the page chrome above the document's title",
}


@dataclass(frozen=True, slots=True)
class Significance:
    """Whether a text change is substantive, and why."""

    significant: bool
    reason: str  # one short sentence for editors, e.g. "only a relative date changed"
    noise: tuple[str, ...]  # kinds of noise seen: "relative-date", "tracking-token", ...


def _url_key(match: re.Match[str]) -> str:
    url = re.sub(r"^(?:https?://)?(?:www\.)?", "", match.group(0), flags=re.IGNORECASE)
    return " " + re.split(r"[?#]", url, maxsplit=1)[0].rstrip("/.,;:") + " "


# Masks in application order: (noise kind, pattern, replacement). Dates go before tokens so
# an ISO date is never taken for a token; URLs before tokens so a path keeps its words.
_MASKS: tuple[tuple[str, re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    ("relative-date", _RELATIVE_DATE, " reldate "),
    ("tracking-token", _URL, _url_key),
    ("tracking-token", _TOKEN, " token "),
    ("number", _COUNTER, " counter "),
    ("copyright-year", _COPYRIGHT, " copyright "),
)


def canonical_block(block: str) -> tuple[str, ...]:
    """The words of a block that matter: volatile parts masked, dates in ISO, case folded."""
    if _is_ui(block):
        return ()
    return tuple(word.casefold() for word in _WORDS.findall(_mask(block)))


def _mask(block: str) -> str:
    """The block with numbering stripped, volatile patterns masked and dates made ISO."""
    text = _ENUMERATOR.sub("", block.strip())
    for _kind, pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return canonical_dates(text)  # after the masks: its output must not look like a token


def _canonical(blocks: Iterable[str]) -> tuple[str, ...]:
    """Canonical words of a run of blocks, block boundaries ignored (re-wrapping is noise)."""
    return tuple(word for block in blocks for word in canonical_block(block))


def _matches(pattern: re.Pattern[str], blocks: Iterable[str]) -> Counter[str]:
    return Counter(m.group(0) for block in blocks for m in pattern.finditer(block))


def _noise_seen(old: list[str], new: list[str]) -> tuple[str, ...]:
    """Kinds of volatile pattern whose occurrences differ between the two sides."""
    kinds: list[str] = []
    for kind, pattern, _ in _MASKS:
        if kind not in kinds and _matches(pattern, old) != _matches(pattern, new):
            kinds.append(kind)
    old_dates = [d for block in old for d in _dates(block)]
    new_dates = [d for block in new for d in _dates(block)]
    written = Counter(w for w, _ in old_dates) != Counter(w for w, _ in new_dates)
    if written and Counter(i for _, i in old_dates) == Counter(i for _, i in new_dates):
        kinds.append("date-format")
    if _matches(_ENUMERATOR, old) != _matches(_ENUMERATOR, new):
        kinds.append("numbering")
    ui_old = [b for b in old if _is_ui(b)]
    ui_new = [b for b in new if _is_ui(b)]
    if Counter(ui_old) != Counter(ui_new):
        kinds.append("ui-text")
    return tuple(kinds)


def _is_ui(block: str) -> bool:
    """A whole block of page chrome (button, share link, feedback widget)."""
    return bool(_UI_BLOCK.fullmatch(_ENUMERATOR.sub("", block.strip()).strip(" .!?:|")))


def assess(diff: TextDiff) -> Significance:
    """Decide whether a diff changes the substance of the text, and explain it in one line."""
    if not diff.changed:
        return Significance(False, "the text did not change", ())
    hunks = diff.document_hunks()
    if not hunks:
        return _noise_only(("above-title",))
    olds = [b for h in hunks for b in h.old]
    news = [b for h in hunks for b in h.new]
    noise = _noise_seen(olds, news)
    changed = [h for h in hunks if _canonical(h.old) != _canonical(h.new)]
    if not changed:
        return _noise_only(noise or ("whitespace",))
    old_c = Counter(c for b in olds if (c := canonical_block(b)))
    new_c = Counter(c for b in news if (c := canonical_block(b)))
    if old_c == new_c:
        return _noise_only((*noise, "reorder"))
    return Significance(True, _substance_reason(changed), noise)


def _substance_reason(hunks: list[Hunk]) -> str:
    """One sentence: a date change is named with both dates, other changes are counted."""
    old = [b for h in hunks for b in h.old]
    new = [b for h in hunks for b in h.new]

    def without_dates(blocks: list[str]) -> tuple[str, ...]:
        masked = (_ISO_DATE.sub(" date ", _mask(b)) for b in blocks if not _is_ui(b))
        return tuple(w.casefold() for text in masked for w in _WORDS.findall(text))

    if without_dates(old) == without_dates(new):
        gone = [w for b in old for w, _ in _dates(b)]
        came = [w for b in new for w, _ in _dates(b)]
        return f"a date changed: {', '.join(gone) or '-'} → {', '.join(came) or '-'}"
    count = len(hunks)
    return f"the wording changed in {count} place{'s' if count > 1 else ''}"


def _noise_only(noise: tuple[str, ...]) -> Significance:
    phrases = [_PHRASES.get(kind, kind) for kind in noise]
    joined = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
    return Significance(False, f"only {joined} changed", noise)


# Copy edits a sentence can undergo without saying anything new, on top of the noise above:
# a renumbered cross-reference ("Section 10" -> "Section 13" after a section was inserted),
# a number spelled out next to its digits ("30" -> "thirty (30)"), an English article
# ("a" -> "an", "the Mistral AI" -> "Mistral AI"). Measured on the dev corpus
# (bench/flags_offline.py): such edits inside sentences that also hold topic words raised
# 3 flags on ratings the labels do not touch, and were the only evidence of none.
_REFERENCE = re.compile(REFERENCE, re.IGNORECASE)
_NUMBER_WORD = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
    r"|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy"
    r"|eighty|ninety|hundred|thousand)"
)
_SPELLED_NUMBER = re.compile(
    rf"\b{_NUMBER_WORD}(?:[- ](?:and[- ])?{_NUMBER_WORD})*\s*\((\d+)\)", re.IGNORECASE
)
_ARTICLES = frozenset({"a", "an", "the"})


def substance(text: str) -> tuple[str, ...]:
    """What a sentence says, as words: two wordings that differ only by noise or a copy edit
    have the same substance."""
    text = _REFERENCE.sub(lambda m: f" {m.group(1)} ", text)
    text = _SPELLED_NUMBER.sub(lambda m: f" {m.group(1)} ", text)
    return tuple(w for w in canonical_block(text) if w not in _ARTICLES)
