"""Significance: volatile noise is recognised, every change of wording or date is not."""

from __future__ import annotations

import pytest

from diffs.significance import Significance, assess, canonical_block, canonical_dates
from diffs.text import diff_texts

# A document long enough for its title to stand near the top.
CLAUSE = (
    "We keep your chats for thirty days to monitor abuse, then delete them. "
    "Customers with legitimate reasons can request zero data retention. " * 2
)

NOISE = [
    # (old, new, noise kind expected)
    ("Intro\nUpdated 3 days ago\nBody", "Intro\nUpdated 4 days ago\nBody", "relative-date"),
    ("Mis à jour il y a 2 jours", "Mis à jour il y a 5 jours", "relative-date"),
    ("Aktualisiert vor 3 Tagen", "Aktualisiert vor einem Tag", "relative-date"),
    ("Posted an hour ago", "Posted yesterday", "relative-date"),
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
    ("Article read 1,204 views", "Article read 1,377 views", "number"),
    ("© 2025 Example SAS", "© 2026 Example SAS", "copyright-year"),
    ("Clause one.\nClause  two", "Clause one\nclause two.", "whitespace"),
    ("A long sentence that wraps.", "A long sentence\nthat wraps.", "whitespace"),
    ("1. Definitions\n2. Scope", "Definitions\nScope", "numbering"),
    ("Text\nAccept all cookies", "Text\nReject all", "ui-text"),
    ("Text", "Text\nBack to top\nShare", "ui-text"),
    ("Section A\nSection B\nSection C", "Section C\nSection A\nSection B", "reorder"),
    (f"Blog\n# Privacy Policy\n{CLAUSE}", f"Try it\n# Privacy Policy\n{CLAUSE}", "above-title"),
    (
        f"# Privacy Policy\n{CLAUSE}",
        f"We recently updated our Privacy Notice.\n# Privacy Policy\n{CLAUSE}",
        "above-title",
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
    # Above a heading that is far down there is the document itself, not chrome.
    (f"Data kept 30 days.\n{CLAUSE}\n# Annex", f"Data kept 60 days.\n{CLAUSE}\n# Annex", "wording"),
]


@pytest.mark.parametrize(("old", "new", "kind"), NOISE)
def test_noise_is_not_significant(old: str, new: str, kind: str) -> None:
    result = assess(diff_texts(old, new))
    assert not result.significant, result
    assert kind in result.noise
    assert result.reason.startswith("only ")


@pytest.mark.parametrize(("old", "new", "reason"), SUBSTANTIVE)
def test_substance_is_significant(old: str, new: str, reason: str) -> None:
    result = assess(diff_texts(old, new))
    assert result.significant, result
    assert reason in result.reason


def test_unchanged_text() -> None:
    assert assess(diff_texts("Same\nText", "Same\nText")) == Significance(
        False, "the text did not change", ()
    )


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("March 25, 2026", " date 2026 03 25 "),
        ("Mar. 25 2026", " date 2026 03 25 "),
        ("January 23rd, 2026", " date 2026 01 23 "),
        ("16 July, 2026", " date 2026 07 16 "),
        ("25 mars 2026", " date 2026 03 25 "),
        ("1er janvier 2026", " date 2026 01 01 "),
        ("25. März 2026", " date 2026 03 25 "),
        ("2026-03-25", " date 2026 03 25 "),
        ("25/03/2026", " date 2026 03 25 "),
        ("03/25/2026", " date 2026 03 25 "),
        ("25.03.2026", " date 2026 03 25 "),
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
