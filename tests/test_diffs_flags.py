"""Anchoring evidence, matching topics and raising reasons: table-driven cases in en/de/fr."""

from __future__ import annotations

import pytest

from diffs.anchors import locate
from diffs.flags import Quote, RatingRef, flag_change
from diffs.sentences import changed_sentences, kept_share
from diffs.text import diff_texts
from diffs.topics import Criterion, match_terms

QUOTE = "we do not use your Input and Output to train our artificial intelligence models"
TRAINING = Criterion(
    id="no-training",
    label="No training on customer data",
    topics={
        "en": ("train*", "opt out", "model improvement"),
        "de": ("Training", "trainier*"),
        "fr": ("entraîn*",),
    },
)
RETENTION = Criterion(
    id="data-retention", label="Data retention", topics={"en": ("retain*", "delet*")}
)
CRITERIA = {c.id: c for c in (TRAINING, RETENTION)}


@pytest.mark.parametrize(
    ("text", "status"),
    [
        (f"Intro. We {QUOTE[3:]}. Outro.", "found"),
        (f"Intro.\n{QUOTE.upper()}   here.", "found"),  # case and re-flowed spacing
        (
            "Intro. We may use your Input and Output to train our artificial intelligence models.",
            "altered",
        ),
        ("Billing happens monthly; invoices are sent by email to the account owner.", "lost"),
    ],
    ids=["exact", "case-and-space", "reworded", "deleted"],
)
def test_locate(text: str, status: str) -> None:
    anchor = locate(QUOTE, text)
    assert anchor.status == status
    if status == "altered":
        assert anchor.passage is not None and "may use" in anchor.passage


@pytest.mark.parametrize(
    ("passage", "terms", "expected"),
    [
        ("We may retrain our systems.", ("train*",), ()),
        ("We use prompts for training.", ("train*",), ("training",)),
        ("Wir verwenden Ihre Daten nicht für das Training.", ("Training",), ("training",)),
        (
            "Les données ne sont pas utilisées pour entraîner nos modèles.",
            ("entraîn*",),
            ("entraîner",),
        ),
        ("You can opt-out at any time.", ("opt out",), ("opt-out",)),
        ("Trainingsdaten werden gelöscht.", ("Training",), ()),
    ],
    ids=[
        "not-retrain",
        "en-form",
        "de-noun",
        "fr-verb",
        "hyphen-phrase",
        "de-compound-needs-own-term",
    ],
)
def test_match_terms(passage: str, terms: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert match_terms(passage, terms)[1] == expected


RATING = RatingRef(
    tool="mistral-api",
    criterion="no-training",
    rating="partial",
    sources=("privacy-policy",),
    quotes=(Quote("privacy-policy", QUOTE),),
)
RETAIN = RatingRef(
    tool="mistral-api", criterion="data-retention", rating="partial", sources=("privacy-policy",)
)
OLD = f"# Privacy\nWe {QUOTE[3:]}, except for Le Chat Team.\nWe keep invoices for ten years."


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (OLD.replace("Le Chat Team", "Le Chat Pro"), [("no-training", "topic")]),
        (
            OLD.replace("we do not use", "we may use").replace("We do not use", "We may use"),
            [("no-training", "evidence-altered"), ("no-training", "topic")],
        ),
        (OLD + "\nWe delete your account data after 30 days.", [("data-retention", "topic")]),
        (OLD.replace("invoices", "receipts"), []),
    ],
    ids=["topic-only", "evidence-altered", "other-criterion", "off-topic"],
)
def test_flag_change(new: str, expected: list[tuple[str, str]]) -> None:
    reasons = flag_change(
        "privacy-policy", OLD, new, diff_texts(OLD, new), [RATING, RETAIN], CRITERIA
    ).reasons
    assert [(r.criterion, r.kind) for r in reasons] == expected
    for r in reasons:
        assert r.sentences, "every reason carries the sentences that changed"


def test_lost_quote_and_uncited_source() -> None:
    new = "# Privacy\nWe keep invoices for ten years."
    reasons = flag_change(
        "privacy-policy", OLD, new, diff_texts(OLD, new), [RATING], CRITERIA
    ).reasons
    assert [r.kind for r in reasons] == ["evidence-lost", "topic"]
    assert reasons[0].old_quote == QUOTE and reasons[0].new_quote is None
    assert flag_change("dpa", OLD, new, diff_texts(OLD, new), [RATING], CRITERIA).reasons == ()


BASE = (
    "# Terms\n4.2 You grant us a license as permitted in Section 10 (Assignment), but "
    "excluding model training.\nSubmit a switching request at least 30 days before.\n"
    "We keep logs for a short time.\n## Contact\nYou may opt out of text messages."
)


@pytest.mark.parametrize(
    ("new", "kept"),
    [
        (BASE.replace("Section 10", "Section 13"), 0),  # a renumbered cross-reference
        (BASE.replace("4.2 You", "5.2 You"), 0),  # section numbering
        (BASE.replace("30 days", "thirty (30) days"), 0),  # a number spelled out
        (BASE.replace("a short time", "the short time"), 0),  # an article
        (BASE.replace("short time.", "short time!"), 0),  # punctuation
        (BASE.replace("## Contact\nYou may opt out", "## Contact\n\nYou may opt out"), 0),
        (  # the sentence moved to another section
            BASE.replace("\nYou may opt out of text messages.", "")
            .replace("# Terms\n", "# Terms\nYou may opt out of text messages.\n"),
            0,
        ),
        (BASE.replace("30 days", "90 days"), 1),  # a different number says something new
        (BASE.replace("but excluding", "including"), 1),
        (BASE.replace("Section 10 (Assignment)", "Section 10 (Training)"), 1),
    ],
    ids=[
        "cross-reference", "numbering", "spelled-number", "article", "punctuation",
        "reflowed", "moved", "new-number", "new-words", "new-reference",
    ],
)  # fmt: skip
def test_changed_sentences_leave_out_copy_edits(new: str, kept: int) -> None:
    assert len(changed_sentences(diff_texts(BASE, new))) == kept


SURVIVAL = (
    "The following Sections survive: Section 1.1 (Customer Infrastructure), Section 4 "
    "(Use of Customer Content), Section 5 (Confidentiality)."
)
ON_PREM = Criterion(id="on-prem", label="On-prem", topics={"en": ("customer infrastructure",)})


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (SURVIVAL.replace("Customer Content", "Customer Data and Outputs"), []),
        (SURVIVAL + "\nCustomer Infrastructure means servers the Customer owns.", ["on-prem"]),
    ],
    ids=["section-title-in-reference", "the-topic-itself"],
)
def test_cross_references_are_not_topic_mentions(new: str, expected: list[str]) -> None:
    rating = RatingRef(tool="t", criterion="on-prem", rating="no", sources=("terms",))
    reasons = flag_change(
        "terms", SURVIVAL, new, diff_texts(SURVIVAL, new), [rating], {"on-prem": ON_PREM}
    ).reasons
    assert [r.criterion for r in reasons] == expected


def test_changed_sentences_pair_old_and_new_wording() -> None:
    old = "Intro. We never train on API data. Outro."
    new = "Intro. We may train on API data. Outro."
    (change,) = changed_sentences(diff_texts(old, new))
    assert (change.old, change.new) == ("We never train on API data.", "We may train on API data.")


DPA = Criterion(id="dpa", label="DPA", topics={"en": ("processor",)}, kinds=("dpa",))
DPA_RATING = RatingRef(
    tool="mistral-api", criterion="dpa", rating="yes", sources=("dpa", "privacy-policy")
)
SUBPROCESSORS = "# Subprocessors\n- Azure - Hosting - EEA"


# The shortest substantive DPA change of the dev corpus: a 6-word subprocessor row.
NEW_ROW = "\n- CoreWeave - Inference provider - EEA - Cloud infrastructure"
# A footer line is no statement: 5 words once the symbol and the year are not counted.
FOOTER = "\n© Copyright 2025 Perplexity — Where Knowledge Begins"


@pytest.mark.parametrize(
    ("source", "kind", "added", "expected"),
    [
        ("dpa", "dpa", NEW_ROW, ["dpa"]),  # the DPA itself changed: the criterion rests on it
        ("privacy-policy", "privacy-policy", NEW_ROW, []),  # no topic word, not the DPA
        ("dpa", "dpa", FOOTER, []),  # the DPA page changed, but no statement of it
    ],
    ids=["dpa-kind", "other-kind", "dpa-footer"],
)
def test_source_kind_puts_the_whole_document_on_topic(
    source: str, kind: str, added: str, expected: list[str]
) -> None:
    new = SUBPROCESSORS + added
    flagging = flag_change(
        source, SUBPROCESSORS, new, diff_texts(SUBPROCESSORS, new), [DPA_RATING], {"dpa": DPA},
        kind=kind,
    )  # fmt: skip
    assert [r.criterion for r in flagging.reasons] == expected
    for r in flagging.reasons:
        assert r.sentences and "CoreWeave" in (r.sentences[0].new or "")


# Perplexity's site-wide callout, added above the title of every legal page in August 2026.
CALLOUT = "We recently updated our consumer Privacy Notice. We added more detail about cookies."
BODY = "We act as processor of your data. " * 20
DPA_PAGE = "Legal overview\n# Data Processing Addendum\n" + BODY


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (CALLOUT + "\n" + DPA_PAGE, []),  # above the title: the site's, not the DPA's
        (DPA_PAGE + "\n" + CALLOUT, ["dpa"]),  # inside the document: the DPA itself changed
    ],
    ids=["above-title", "in-document"],
)
def test_chrome_above_the_title_is_not_the_document(new: str, expected: list[str]) -> None:
    diff = diff_texts(DPA_PAGE, new)
    flagging = flag_change("dpa", DPA_PAGE, new, diff, [DPA_RATING], {"dpa": DPA}, kind="dpa")
    assert [r.criterion for r in flagging.reasons] == expected


# Mistral's December 2025 split: one page held all legal documents, then only the cookie
# policy (4 % of the old text left); the training terms went to a page of their own.
TERMS = [
    "# Legal terms",
    "We do not train our models on the content of paying customers.",
    "You may terminate these terms at any time by closing your account.",
    "These terms are governed by French law and the courts of Paris.",
    "We may suspend the service if you breach the acceptable use policy.",
]
COOKIE_POLICY = (
    "# Cookie Policy\nWe use cookies to remember your preferences.\n"
    "Analytics cookies are deleted after thirteen months."
)
TRAIN_CITED = RatingRef(tool="mistral", criterion="no-training", rating="no", sources=("terms",))
RETAIN_CITED = RatingRef(
    tool="mistral", criterion="data-retention", rating="partial", sources=("terms",)
)


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        # Another document now: what it says counts (deletion), not what the old one said.
        (COOKIE_POLICY, [("data-retention", "another document")]),
        # The same sentence removed from a page that stays itself is a change to re-review.
        ("\n".join(TERMS[:1] + TERMS[2:]), [("no-training", "Changed text")]),
    ],
    ids=["page-replaced", "sentence-removed"],
)
def test_a_replaced_page_is_read_as_a_new_document(
    new: str, expected: list[tuple[str, str]]
) -> None:
    old = "\n".join(TERMS)
    flagging = flag_change(
        "terms", old, new, diff_texts(old, new), [TRAIN_CITED, RETAIN_CITED], CRITERIA
    )
    got = [(r.criterion, r.text) for r in flagging.reasons]
    assert [c for c, _ in got] == [c for c, _ in expected]
    for (_, text), (_, phrase) in zip(got, expected, strict=True):
        assert phrase in text


@pytest.mark.parametrize(
    ("old", "new", "share"),
    [
        ("One sentence. Two sentence.", "One sentence. Two sentence.", 1.0),
        ("Kept here. Gone there.", "Kept here. New words.", 10 / 21),  # in characters
        ("Old words only.", "New words only.", 0.0),
        ("", "A first text.", 1.0),  # nothing old to lose
    ],
)
def test_kept_share(old: str, new: str, share: float) -> None:
    assert kept_share(old, new) == pytest.approx(share)
