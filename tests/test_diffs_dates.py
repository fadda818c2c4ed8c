"""diffs.dates: relative dates are found in every written form (the quick pre-test included)."""

from __future__ import annotations

import pytest

from diffs.dates import mask_relative, relative_spans

# One phrase per relative-date pattern (and case variants): the pre-test that spares policy
# text the seven searches must never hide one of them.
PHRASES = (
    "about 3 days ago",
    "5d AGO",
    "In the past 3 weeks",
    "Il y a 2 jours",
    "vor einem Tag",
    "updated: this week",
    "Published last month",
    "Just now",
    "a moment ago",
    "à l’instant",
    "aujourd'hui",
    "Gestern",
)


@pytest.mark.parametrize("phrase", PHRASES)
def test_every_relative_form_is_found(phrase: str) -> None:
    """Each form is found as written and masked, inside a sentence."""
    text = f"Terms. {phrase}. We keep chats for 30 days."
    assert relative_spans(text) == [phrase]
    assert "reldate" in mask_relative(text)
    assert phrase not in mask_relative(text)


def test_text_without_relative_dates_is_unchanged() -> None:
    """Policy text with no relative date (though 'ago' and 'vor' stand inside words)."""
    text = "Chicago data under the favorable agreement of 2025 is kept for 30 days."
    assert relative_spans(text) == []
    assert mask_relative(text) == text
