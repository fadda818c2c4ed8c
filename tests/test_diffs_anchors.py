"""Following evidence quotes across versions: found, moved, altered, lost (table-driven)."""

from __future__ import annotations

import pytest

from diffs.anchors import Anchor, accept, anchor_in, relocate, track
from diffs.flags import Quote, RatingRef, follow_evidence
from diffs.sentences import SentenceChange, changed_sentences
from diffs.text import diff_texts

QUOTE = "we do not use your Input and Output to train our models"
INTRO = "# Privacy Policy\nThis policy explains how Mistral AI handles personal data."
TRAINING = f"## Training\nFor the API, {QUOTE}, except where you opt in."
BILLING = "## Billing\nInvoices are kept for ten years as the law requires."
OLD = "\n".join([INTRO, TRAINING, BILLING])

CASES = [
    # (name, new text, expected status, a word the passage must show)
    ("unchanged", OLD, "found", None),
    ("reflowed", OLD.replace("to train our", "to\n  TRAIN   our"), "found", None),
    ("neighbour-edited", OLD.replace("except where", "unless"), "found", None),
    ("moved", "\n".join([INTRO, BILLING, f"## Your choices\nSo: {QUOTE} — ever."]), "moved", None),
    (
        "reworded",
        OLD.replace("we do not use", "we may use"),
        "altered",
        "may use",
    ),
    ("deleted", "\n".join([INTRO, BILLING]), "lost", None),
    (
        "split-across-blocks",
        OLD.replace("Input and Output to train", "Input and Output\n\nto train"),
        "found",
        None,
    ),
    # The same words with other punctuation or list marks: nothing for an editor to read.
    (
        "repunctuated",
        OLD.replace("your Input and Output to", "your “Input” and “Output” to"),
        "found",
        None,
    ),
]


@pytest.mark.parametrize(
    ("new", "status", "shown"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_relocate(new: str, status: str, shown: str | None) -> None:
    anchor = anchor_in(QUOTE, OLD)
    assert anchor is not None
    located = relocate(anchor, new)
    assert located.status == status
    if shown is not None:
        assert located.passage is not None and shown in located.passage
    if status in ("found", "moved"):
        assert located.anchor is not None and located.passage == QUOTE
    else:
        assert located.anchor is None


def test_repeated_phrase_follows_its_own_occurrence() -> None:
    phrase = "as described in section 4"
    old = f"Retention: logs are kept {phrase} below.\nTraining: inputs are used {phrase} below."
    anchor = anchor_in(phrase, old)
    assert anchor is not None and "retention" in anchor.prefix
    # Another section gains the phrase first: the anchor stays with "Retention".
    new = f"Billing: fees apply {phrase} here.\n" + old
    located = relocate(anchor, new)
    assert located.status == "found"
    assert located.anchor is not None and "retention" in located.anchor.prefix
    # Its own section drops it while an unrelated one keeps it: the words moved.
    gone = f"Retention: logs are kept for 30 days.\nTraining: inputs are used {phrase} below."
    moved = relocate(anchor, gone)
    assert moved.status == "moved"
    assert moved.anchor is not None and "training" in moved.anchor.prefix


def test_accept_makes_the_new_wording_the_reference() -> None:
    anchor = anchor_in(QUOTE, OLD)
    assert anchor is not None
    reworded = OLD.replace("we do not use", "we may use")
    after = track(anchor, reworded)
    assert after.status == "altered"
    refreshed = accept(after, reworded)
    assert refreshed.status == "found" and "may use" in refreshed.anchor.wording
    assert refreshed.anchor.quote == QUOTE  # still the catalog's quote by name
    assert track(refreshed.anchor, reworded).status == "found"
    assert track(refreshed.anchor, reworded.replace("may use", "will use")).status == "altered"


def changed(old: str, new: str) -> tuple[SentenceChange, ...]:
    return changed_sentences(diff_texts(old, new))


RATING = RatingRef(
    tool="t",
    criterion="no-training",
    rating="partial",
    sources=("pp",),
    quotes=(Quote("pp", QUOTE),),
)


@pytest.mark.parametrize(
    ("new", "kinds"),
    [
        (OLD.replace("we do not use", "we may use"), ["evidence-altered"]),
        ("\n".join([INTRO, BILLING]), ["evidence-lost"]),
        ("\n".join([INTRO, BILLING, f"## Choices\n{QUOTE}."]), []),  # moved: no editor needed
    ],
    ids=["altered", "lost", "moved"],
)
def test_follow_evidence_reasons(new: str, kinds: list[str]) -> None:
    states, reasons = follow_evidence(RATING, "pp", OLD, new, changed(OLD, new))
    assert [r.kind for r in reasons] == kinds
    assert len(states) == 1
    if kinds:
        assert reasons[0].old_quote == QUOTE and reasons[0].sentences


NOTICE = "you must inform us of your new provider at least 30 days before the end of the period"
NOTICE_OLD = f"## Switching\nPlease note: {NOTICE}. Then we delete your data."


@pytest.mark.parametrize(
    ("old", "new", "status"),
    [
        ("30 days", "thirty (30) days", "found"),  # a number spelled out next to its digits
        ("the end of the period", "end of the period", "found"),  # an article
        ("30 days", "90 days", "altered"),  # a new number says something new
        ("new provider", "new hosting provider", "altered"),  # new words
        ("inform us", "not inform us", "altered"),
    ],
    ids=["spelled-number", "article", "new-number", "new-words", "negated"],
)
def test_a_copy_edited_quote_is_found(old: str, new: str, status: str) -> None:
    rating = RatingRef(
        tool="t", criterion="on-prem", rating="yes", sources=("pp",), quotes=(Quote("pp", NOTICE),)
    )
    after = NOTICE_OLD.replace(old, new)
    (state,), reasons = follow_evidence(rating, "pp", NOTICE_OLD, after, changed(NOTICE_OLD, after))
    assert state.tracked.status == status
    assert [r.kind for r in reasons] == ([] if status == "found" else ["evidence-altered"])
    assert state.tracked.passage is not None and new in state.tracked.passage


def test_an_altered_quote_is_not_a_new_reason_until_it_changes_again() -> None:
    v2 = OLD.replace("we do not use", "we may use")
    (state,), first = follow_evidence(RATING, "pp", OLD, v2, changed(OLD, v2))
    stored = {("no-training", QUOTE): state.tracked}
    v3 = v2.replace("ten years", "eleven years")  # elsewhere on the page
    _, again = follow_evidence(RATING, "pp", v2, v3, changed(v2, v3), stored)
    v4 = v3.replace("we may use", "we will use")
    _, newer = follow_evidence(RATING, "pp", v3, v4, changed(v3, v4), stored)
    assert [r.kind for r in first] == ["evidence-altered"]
    assert again == ()
    assert [r.kind for r in newer] == ["evidence-altered"]
    assert newer[0].new_quote is not None and "will use" in newer[0].new_quote


def test_quote_never_on_the_page_is_not_this_changes_doing() -> None:
    rating = RatingRef(
        tool="t",
        criterion="no-training",
        rating="partial",
        sources=("pp",),
        quotes=(Quote("pp", "not on the page"),),
    )
    states, reasons = follow_evidence(rating, "pp", OLD, OLD + "\nMore.")
    assert reasons == ()
    assert [s.tracked.status for s in states] == ["never-found"]  # not watched: told to editors


@pytest.mark.parametrize(
    ("text", "passage"),
    [
        (
            "# Training\nFor the API, we may use your Input and Output to train our models, "
            "except where you opt in.\n## Billing\nInvoices.",
            "For the API, we may use your Input and Output to train our models, "
            "except where you opt in.",
        ),
        (
            "- Item one\n- we may use your Input and Output to train our models\n- third",
            "- we may use your Input and Output to train our models",
        ),
    ],
    ids=["whole-sentence-not-heading", "own-list-item"],
)
def test_altered_passage_is_the_pages_whole_statement(text: str, passage: str) -> None:
    located = relocate(Anchor(QUOTE, QUOTE), text)
    assert (located.status, located.passage) == ("altered", passage)
