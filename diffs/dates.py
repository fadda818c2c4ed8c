"""Dates in page text: absolute dates in any written format, relative ones, and dated lines.

An absolute date becomes one word-like token (``date20260325``), so a format flip of the same
date compares equal and a new date does not. A day/month order that cannot be told apart
(``03/04/2026``: both numbers are 12 or less) keeps its written order: a swap may be a new
date, and when unsure a change is shown. A relative date ("3 days ago", "over a month ago")
is volatile by nature; given the time a page was fetched it also denotes a span of days, so
it can be compared with an absolute date that replaced it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

# Month names (en, fr, de; full and common abbreviations) -> month number.
MONTHS = {
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
_MONTH = r"(?P<month>" + "|".join(sorted(map(re.escape, MONTHS), key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th|er|\.)?"
# No word boundary after the year: inline elements glue it to the next word on some pages
# ("September 15, 2025Previous Version").
_YEAR = r"(?P<year>(?:19|20)\d\d)(?!\d)"
DATE_PATTERNS = (
    re.compile(rf"(?<!\w){_MONTH}\s+{_DAY},?\s+{_YEAR}", re.IGNORECASE),  # March 25, 2026
    re.compile(rf"(?<!\w){_DAY}\s+(?:de\s+)?{_MONTH},?\s+{_YEAR}", re.IGNORECASE),  # 25 mars 2026
    re.compile(rf"(?<!\w){_YEAR}-(?P<month>[01]?\d)-(?P<day>[0-3]?\d)(?!\d)"),  # 2026-03-25
    # 25/03/2026, 03/25/2026, 25.03.2026: day and month told apart only when one is > 12.
    re.compile(rf"(?<!\w)(?P<a>[0-3]?\d)[/.](?P<b>[0-3]?\d)[/.]{_YEAR}"),
)
ISO_TOKEN = re.compile(r"\bdate\d{8}(?:x\d{4})?\b")


def iso_token(match: re.Match[str]) -> str:
    """A date match as one word-like token; an ambiguous d/m order keeps its written order."""
    groups = match.groupdict()
    year = groups["year"]
    if groups.get("a"):
        a, b = int(groups["a"]), int(groups["b"])
        if a <= 12 and b <= 12 and a != b:
            return f" date{year}0000x{a:02d}{b:02d} "
        month, day = (a, b) if a <= 12 else (b, a)
    else:
        raw = groups["month"].lower().rstrip(".")
        month = int(raw) if raw.isdigit() else MONTHS[raw]
        day = int(groups["day"])
    return f" date{year}{month:02d}{day:02d} "


def dates(text: str) -> list[tuple[str, str]]:
    """Every absolute date of a text as (as written, token)."""
    return [(m.group(0), iso_token(m)) for p in DATE_PATTERNS for m in p.finditer(text)]


def canonical_dates(text: str) -> str:
    """Rewrite every absolute date as a token, whatever its written format."""
    for pattern in DATE_PATTERNS:
        text = pattern.sub(iso_token, text)
    return text


def token_date(token: str) -> date | None:
    """The calendar date of an unambiguous token (None for an ambiguous d/m order)."""
    digits = token.strip()[4:]
    if "x" in digits:
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


# --- relative dates --------------------------------------------------------------------

_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "un": 1, "une": 1, "einem": 1, "einer": 1}
_COUNTED = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven")
_NUMBER_WORDS.update({word: n for n, word in enumerate((*_COUNTED, "twelve"), start=2)})
_FEW = ("a few", "a couple of", "several", "quelques", "wenigen")
_QUALIFIER = (
    r"(?P<q>(?:just |a little )?(?:over|about|around|almost|nearly|roughly|more than|less than"
    r"|under)\s+|plus d['’]\s*|environ\s+|moins d['’]\s*|près d['’]\s*|über\s+|etwa\s+"
    r"|mehr als\s+|weniger als\s+|knapp\s+)?"
)
_NUMBER = r"(?P<n>\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_NUMBER += r"|a few|a couple of|several|une?|quelques|einem|einer|wenigen)"
_UNIT_EN = r"(?P<u>second|sec|minute|min|hour|hr|day|week|wk|month|mo|year|yr)s?"
_UNIT_FR = r"(?P<u>seconde|minute|heure|jour|semaine|mois|an|année)s?"
_UNIT_DE = r"(?P<u>Sekunde|Minute|Stunde|Tag|Woche|Monat|Jahr)(?:en|n|e)?"
_SINCE = r"(?:updated|modified|edited|posted|published|revised|changed|mis à jour|aktualisiert)"
RELATIVE_PATTERNS = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        rf"(?<!\w){_QUALIFIER}{_NUMBER}\s*{_UNIT_EN}\s+ago(?!\w)",
        r"(?<!\w)(?P<n>\d+)\s*(?P<u>s|m|h|d|w|mo|y)\s+ago(?!\w)",
        rf"(?<!\w)in the (?:last|past)\s+(?:(?P<n>\d+|a few|several)\s+)?{_UNIT_EN}(?!\w)",
        rf"(?<!\w)il\s+y\s+a\s+{_QUALIFIER}{_NUMBER}\s+{_UNIT_FR}(?!\w)",
        rf"(?<!\w)vor\s+{_QUALIFIER}{_NUMBER}\s+{_UNIT_DE}(?!\w)",
        rf"(?<!\w){_SINCE}:?\s+(?P<w>this|last|past|previous|cette|la|diese|letzte)\s+"
        r"(?P<u>week|month|year|semaine|mois|année|Woche|Monat|Jahr)(?: dernière)?(?!\w)",
        r"(?<!\w)(?P<d>just now|moments? ago|a moment ago|yesterday|today|à l['’]instant"
        r"|hier|aujourd['’]hui|gerade eben|gestern|heute)(?!\w)",
    )
)
_UNIT_DAYS = {
    **dict.fromkeys(("s", "sec", "second", "seconde", "sekunde"), 0),
    **dict.fromkeys(("m", "min", "minute", "h", "hr", "hour", "heure", "stunde"), 0),
    **dict.fromkeys(("d", "day", "jour", "tag"), 1),
    **dict.fromkeys(("w", "wk", "week", "semaine", "woche"), 7),
    **dict.fromkeys(("mo", "month", "mois", "monat"), 30),
    **dict.fromkeys(("y", "yr", "year", "an", "année", "jahr"), 365),
}
_LONG_AGO = date.min


# What every relative date holds (a part of each pattern above, same flags): a text without
# it has none, and is not searched with the seven patterns (4 times faster on policy text,
# where relative dates are rare; bench/analyze_speed.py). Keep in step with the patterns.
_RELATIVE_HINT = re.compile(
    rf"ago(?!\w)|(?<!\w)(?:in the (?:last|past)|il\s+y\s+a|vor\s|{_SINCE}|just now|yesterday"
    r"|today|à l['’]instant|hier|aujourd['’]hui|gerade eben|gestern|heute)",
    re.IGNORECASE,
)


def relative_spans(text: str) -> list[str]:
    """Every relative date of a text, as written, in order."""
    if not _RELATIVE_HINT.search(text):
        return []
    found = sorted((m.start(), m.group(0)) for p in RELATIVE_PATTERNS for m in p.finditer(text))
    return [written for _, written in found]


def mask_relative(text: str, token: str = " reldate ") -> str:
    """The text with every relative date replaced by a token."""
    if not _RELATIVE_HINT.search(text):
        return text
    for pattern in RELATIVE_PATTERNS:
        text = pattern.sub(token, text)
    return text


def relative_range(written: str, at: datetime) -> tuple[date, date] | None:
    """The calendar days a relative date can mean, seen at ``at`` (a day of slack each side)."""
    for pattern in RELATIVE_PATTERNS:
        m = pattern.fullmatch(written.strip())
        if m is not None:
            lo, hi = _range(m.groupdict(), at.date())
            return lo - timedelta(days=1) if lo != _LONG_AGO else lo, hi + timedelta(days=1)
    return None


def _range(groups: dict[str, str | None], today: date) -> tuple[date, date]:
    """The days a parsed relative date can mean, before slack."""
    day = timedelta(days=1)
    word = (groups.get("d") or "").lower()
    if word:
        back = 1 if word in ("yesterday", "hier", "gestern") else 0
        return today - (back + 1) * day, today
    unit = _UNIT_DAYS.get((groups.get("u") or "day").lower(), 1)
    if unit == 0:  # seconds, minutes, hours: today or yesterday
        return today - day, today
    which = groups.get("w")
    if which:
        if which.lower() in ("last", "previous", "la", "letzte"):
            return today - 2 * unit * day, today - unit * day
        return today - unit * day, today
    raw = (groups.get("n") or "1").lower()
    if raw in _FEW:
        low, high = 2, 9
    else:
        low = high = int(raw) if raw.isdigit() else _NUMBER_WORDS.get(raw, 1)
    lo, hi = today - (high + 1) * unit * day, today - max(low - 1, 0) * unit * day
    qualifier = (groups.get("q") or "").strip().lower()
    if qualifier.startswith(("over", "more", "plus", "über", "mehr", "just over")):
        lo, hi = _LONG_AGO, today - low * unit * day
    elif qualifier.startswith(("less", "under", "moins", "weniger", "knapp")):
        hi = today
    return lo, hi


# --- dated lines ---------------------------------------------------------------------

_DATED_START = re.compile(
    r"^(?:[-#]+\s+)?(?:last\s+)?(?:updated|modified|revised|amended|effective|date|version"
    r"|published|posted|dernière\s+mise\s+à\s+jour|mise?\s+à\s+jour|en\s+vigueur|date\s+d['’]effet"
    r"|stand|zuletzt\s+(?:aktualisiert|geändert)|aktualisiert|gültig\s+ab|letzte\s+änderung"
    r"|inkrafttreten)\b",
    re.IGNORECASE,
)
# A line this short that holds a date is the page's date line, wherever it stands.
DATED_LINE_WORDS = 12


def is_dated_line(block: str) -> bool:
    """An "Updated/Effective/Last modified" line, or a short line holding a date."""
    if _DATED_START.match(block):
        return True
    if len(block.split()) > DATED_LINE_WORDS:
        return False
    return bool(dates(block) or relative_spans(block))
