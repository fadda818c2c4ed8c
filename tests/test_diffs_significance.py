"""Significance: volatile noise is recognised, every change of wording or date is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from diffs.significance import Significance, assess, canonical_block, canonical_dates
from diffs.text import diff_texts

# A document long enough for its title to stand near the top.
CLAUSE = (
    "We keep your chats for thirty days to monitor abuse, then delete them. "
    "Customers with legitimate reasons can request zero data retention. " * 2
)

NOISE = [
    # (old, new, noise kind expected): history only, never alerted.
    ("Intro\nUpdated 3 days ago\nBody", "Intro\nUpdated 4 days ago\nBody", "relative-date"),
    ("Mis à jour il y a 2 jours", "Mis à jour il y a 5 jours", "relative-date"),
    ("Aktualisiert vor 3 Tagen", "Aktualisiert vor einem Tag", "relative-date"),
    ("Posted an hour ago", "Posted yesterday", "relative-date"),
    ("Updated this week", "Updated last week", "relative-date"),
    ("Seen in the last 15 minutes", "Seen in the last 2 hours", "relative-date"),
    ("Updated about a month ago", "Updated over a month ago", "relative-date"),
    ("Updated 5 mins ago", "Updated 3h ago", "relative-date"),
    ("Mis à jour il y a plus d'un mois", "Mis à jour il y a environ 2 mois", "relative-date"),
    (
        "Logo https://mistral.ai/img/logo.svg?dpl=dpl_25PSLG8dfhY5eRKv",
        "Logo https://mistral.ai/img/logo.svg?dpl=dpl_9QxT2mZ7aKcL3bNw",
        "tracking-token",
    ),
    ("Build 3f9a2c71d0e4b8aa", "Build 77c0d1e2f3a4b5c6", "tracking-token"),
    (
        "Session a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
        "Session 0f1e2d3c-4b5a-4968-8778-695a4b3c2d1e",
        "tracking-token",
    ),
    ("See https://www.mistral.ai/", "See https://mistral.ai", "tracking-token"),
    ("Last updated: March 25, 2026", "Last updated: 25 March 2026", "date-format"),
    ("Last updated: 2026-03-25", "Last updated: 25/03/2026", "date-format"),
    ("Stand: 25. März 2026", "Stand: 2026-03-25", "date-format"),
    ("September 15, 2025Previous Version", "15 September 2025 Previous Version", "date-format"),
    ("Article read 1,204 views", "Article read 1,377 views", "number"),
    ("Showing 1-10 of 14 results", "Showing 11-14 of 14 results", "number"),
    ("© 2025 Example SAS", "© 2026 Example SAS", "copyright-year"),
    ("Read 1.2K views", "Read 1.4K views", "number"),
    ("27 out of 51 found this helpful", "28 out of 52 found this helpful", "number"),
    ("Last updated 14:32 UTC", "Last updated 09:05 UTC", "timestamp"),
    ("A long sentence that wraps.", "A long sentence\nthat wraps.", "whitespace"),
    ("Text\nAccept all cookies", "Text\nReject all", "ui-text"),
    ("Text", "Text\nBack to top\nShare", "ui-text"),
    ("Text\n## Was this article helpful?", "Text", "ui-text"),
    ("See the form(opens in a new window).", "See the form.", "ui-text"),
    (f"Blog\n# Privacy Policy\n{CLAUSE}", f"Try it\n# Privacy Policy\n{CLAUSE}", "site-chrome"),
    (
        f"# Privacy Policy\n{CLAUSE}",
        f"We recently updated our Privacy Notice.\n# Privacy Policy\n{CLAUSE}",
        "site-chrome",
    ),
    (
        f"# FAQ\n{CLAUSE}\n» ## Related articles\n» - Using credits\n» - MCP servers",
        f"# FAQ\n{CLAUSE}\n» ## Related articles\n» - Rate card\n» - Retiring models",
        "site-chrome",
    ),
]

MINOR = [
    # (old, new, kind expected): a real edit that says nothing new, listed but never alerted.
    ("Clause one.\nClause  two", "Clause one\nclause two.", "punctuation"),
    ("1. Definitions\n2. Scope", "Definitions\nScope", "numbering"),
    ("Section A\nSection B\nSection C", "Section C\nSection A\nSection B", "reorder"),
    (
        "Notice at least 30 days before the end of the term.",
        "Notice at least thirty (30) days before the end of the term.",
        "copy-edit",
    ),
    ("As set out in Section 10, fees apply.", "As set out in Section 13, fees apply.", "copy-edit"),
    (
        "We receive requests by mail.\nWe recieve requests by email.",
        "We receive requests by mail.\nWe receive requests by email.",
        "typo",
    ),
]

SUBSTANTIVE = [
    # (old, new, words expected in the reason)
    (
        "Last updated: March 25, 2026",
        "Last updated: June 11, 2026",
        "March 25, 2026 → June 11, 2026",
    ),
    ("Effective: 2026-03-25", "Effective: 2026-04-08", "2026-03-25 → 2026-04-08"),
    # An ambiguous day/month order swapped may be a new date: shown, not taken for a format flip.
    ("Effective: 03/04/2026", "Effective: 04/03/2026", "03/04/2026 → 04/03/2026"),
    ("September 15, 2025Previous Version", "October 1, 2025Previous Version", "a date changed"),
    ("We keep chats for 30 days.", "We keep chats for 90 days.", "wording changed in 1 place"),
    (
        "Inputs of Le Chat Pro and Le Chat Team are never used for training.",
        "Inputs of Le Chat Pro are never used for training.",
        "wording changed",
    ),
    ("We do not sell your data.", "We do sell your data.", "wording changed"),
    ("Intro", "Intro\nNew clause: data may be stored in the United States.", "wording changed"),
    ("Intro\nSub-processor: CoreWeave, EEA", "Intro", "wording changed"),
    ("Call +1 (510) 270-0840.", "Call us.", "wording changed"),
    (
        "Hosted by Vercel Inc, 650 California St",
        "Hosted by Netlify Inc, 44 Montgomery St",
        "wording changed",
    ),
    ("Report at https://mistral.ai/help", "Report at https://mistral.ai/report", "wording changed"),
    (
        "Updated 3 days ago. Data kept 30 days.",
        "Updated 4 days ago. Data kept 60 days.",
        "wording changed",
    ),
    (f"Blog\n# Privacy Policy\n{CLAUSE}", f"Blog\n# Privacy Notice\n{CLAUSE}", "wording changed"),
    # A dated line above the title is the document's own date, never chrome.
    (
        f"Updated: June 4, 2025\n# Privacy Policy\n{CLAUSE}",
        f"Updated: January 8, 2026\n# Privacy Policy\n{CLAUSE}",
        "June 4, 2025 → January 8, 2026",
    ),
    # Above a heading that is far down there is the document itself, not chrome.
    (f"Data kept 30 days.\n{CLAUSE}\n# Annex", f"Data kept 60 days.\n{CLAUSE}\n# Annex", "wording"),
    # A standalone answer that flips is the answer, not a button.
    ("Is data used for training?\nNo", "Is data used for training?\nYes", "wording changed"),
    # A pager's total is the table's size: a row was added on a page not shown.
    ("Showing 1-10 of 14 results", "Showing 1-10 of 15 results", "wording changed"),
    # Without fetch times a relative date that became absolute may be a new date.
    ("Updated over a month ago", "Updated March 16, 2026", "a date changed"),
    # A word that turns a statement around is never a typo fix.
    (
        "We will not share it.\nWe may share it.",
        "We will now share it.\nWe may share it.",
        "wording",
    ),
]


@pytest.mark.parametrize(("old", "new", "kind"), NOISE)
def test_noise_is_not_significant(old: str, new: str, kind: str) -> None:
    result = assess(diff_texts(old, new))
    assert result.tier == "noise", result
    assert not result.significant
    assert kind in result.noise
    assert result.reason.startswith("only ")


@pytest.mark.parametrize(("old", "new", "kind"), MINOR)
def test_minor_edits_are_listed_not_alerted(old: str, new: str, kind: str) -> None:
    result = assess(diff_texts(old, new))
    assert result.tier == "minor", result
    assert not result.significant
    assert kind in result.noise
    assert "a minor edit" in result.reason


@pytest.mark.parametrize(("old", "new", "reason"), SUBSTANTIVE)
def test_substance_is_significant(old: str, new: str, reason: str) -> None:
    result = assess(diff_texts(old, new))
    assert result.tier == "substantive", result
    assert result.significant
    assert reason in result.reason


FETCHED = datetime(2026, 5, 18, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("old", "new", "days_later", "tier"),
    [
        # The absolute date lies in the span the relative one meant when it was fetched.
        ("Updated over a month ago", "Updated March 16, 2026", 1, "noise"),
        ("Updated: 20 days ago", "Updated: April 28, 2026", 1, "noise"),
        ("Updated: April 28, 2026", "Updated: 21 days ago", 1, "noise"),
        ("Updated yesterday", "Updated May 17, 2026", 0, "noise"),
        # A date the relative one cannot have meant: the page was updated.
        ("Updated over a month ago", "Updated May 18, 2026", 0, "substantive"),
        ("Updated: 20 days ago", "Updated: May 19, 2026", 1, "substantive"),
    ],
)
def test_relative_date_against_absolute_date(
    old: str, new: str, days_later: int, tier: str
) -> None:
    later = FETCHED + timedelta(days=days_later)
    assert assess(diff_texts(old, new), FETCHED, later).tier == tier


def test_highest_tier_wins() -> None:
    old = "Updated 3 days ago\nClause one.\nWe keep chats for 30 days."
    new = "Updated 4 days ago\nClause one\nWe keep chats for 90 days."
    assert assess(diff_texts(old, new)).tier == "substantive"
    assert assess(diff_texts(old, new.replace("90", "30"))).tier == "minor"


def test_unchanged_text() -> None:
    assert assess(diff_texts("Same\nText", "Same\nText")) == Significance(
        "noise", "the text did not change", ()
    )


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("March 25, 2026", " date20260325 "),
        ("Mar. 25 2026", " date20260325 "),
        ("January 23rd, 2026", " date20260123 "),
        ("16 July, 2026", " date20260716 "),
        ("25 mars 2026", " date20260325 "),
        ("1er janvier 2026", " date20260101 "),
        ("25. März 2026", " date20260325 "),
        ("2026-03-25", " date20260325 "),
        ("25/03/2026", " date20260325 "),
        ("03/25/2026", " date20260325 "),
        ("25.03.2026", " date20260325 "),
    ],
)
def test_canonical_dates(written: str, iso: str) -> None:
    assert canonical_dates(written) == iso


@pytest.mark.parametrize(
    ("block", "words"),
    [
        ("## 2.1 Retention", ("retention",)),
        ("- (a) Data We Collect", ("data", "we", "collect")),
        ("Share", ()),
        ("Keep 30 days", ("keep", "30", "days")),  # numbers in text are never masked
    ],
)
def test_canonical_block(block: str, words: tuple[str, ...]) -> None:
    assert canonical_block(block) == words
