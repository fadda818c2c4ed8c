"""Block diff with word detail: table-driven cases."""

from __future__ import annotations

import pytest

from diffs.text import (
    WordOp,
    diff_blocks,
    diff_texts,
    diff_words,
    split_blocks,
    title_index,
    tokenize,
)

CASES = {
    "identical": (["a", "b"], ["a", "b"], [], [], []),
    "added block": (["a", "c"], ["a", "b", "c"], [], [], ["b"]),
    "removed block": (["a", "b", "c"], ["a", "c"], [], ["b"], []),
    "rewritten block pairs": (
        ["We keep data for 30 days.", "z"],
        ["We keep data for 90 days.", "z"],
        [("We keep data for 30 days.", "We keep data for 90 days.")],
        [],
        [],
    ),
    "weak early match does not steal a strong later pair": (
        ["Gone paragraph entirely.", "We keep your data for 30 days."],
        ["Completely unrelated words.", "We keep your data for 90 days."],
        [("We keep your data for 30 days.", "We keep your data for 90 days.")],
        ["Gone paragraph entirely."],
        ["Completely unrelated words."],
    ),
    "unrelated rewrite is removed + added": (
        ["Billing happens monthly."],
        ["Ownership of outputs stays with you."],
        [],
        ["Billing happens monthly."],
        ["Ownership of outputs stays with you."],
    ),
}


@pytest.mark.parametrize(("old", "new", "pairs", "removed", "added"), CASES.values(), ids=CASES)
def test_diff_blocks(
    old: list[str],
    new: list[str],
    pairs: list[tuple[str, str]],
    removed: list[str],
    added: list[str],
) -> None:
    diff = diff_blocks(old, new)
    assert [(p.old, p.new) for h in diff.hunks for p in h.pairs] == pairs
    assert [b for h in diff.hunks for b in h.removed] == removed
    assert [b for h in diff.hunks for b in h.added] == added
    assert diff.changed == bool(pairs or removed or added)


def test_word_ops_read_delete_then_insert() -> None:
    ops = diff_words("We do not use your data.", "We may use your data.")
    assert ops == (
        WordOp("equal", "We "),
        WordOp("delete", "do not"),
        WordOp("insert", "may"),
        WordOp("equal", " use your data."),
    )


@pytest.mark.parametrize("text", ["Données à caractère personnel, §4.2 (b)!", "  spaced  out ", ""])
def test_tokens_join_back_to_the_text(text: str) -> None:
    assert "".join(tokenize(text)) == text


def test_stored_text_round_trip() -> None:
    assert split_blocks("a\n\nb\n") == ("a", "b")
    assert diff_texts("a\nb", "a\nb").hunks == ()


def test_large_rewrite_stays_fast_and_unpaired() -> None:
    old = [f"old paragraph number {i} about billing" for i in range(300)]
    new = [f"new paragraph number {i} about training" for i in range(300)]
    diff = diff_blocks(old, new)
    assert sum(len(h.pairs) for h in diff.hunks) == 0  # over MAX_PAIRED_BLOCKS: no pairing
    assert sum(len(h.added) for h in diff.hunks) == 300


BODY = "We keep your chats for thirty days and then delete them for good."
TITLES = {
    "menu above the title": (["Blog", "Careers", "# Privacy Policy", BODY, BODY], 2),
    "title first": (["# Privacy Policy", BODY], 0),
    "no title": (["Privacy Policy", BODY], 0),
    # The first top-level heading is deep in the text: a heading inside an untitled document.
    "heading far down": ([BODY, BODY, "# Annex", BODY], 0),
    "a second-level heading is not a title": (["Menu", "## Section", BODY], 0),
    # Top-level headings used for sections: the document may start above the first one.
    "several top-level headings": (
        ["This policy explains our practices.", "# 1. Scope", BODY * 3, "# 2. Data", BODY * 3],
        0,
    ),
}


@pytest.mark.parametrize(("blocks", "index"), TITLES.values(), ids=TITLES)
def test_title_index(blocks: list[str], index: int) -> None:
    assert title_index(blocks) == index


CLAUSE = "We act as processor of the personal data you submit, on your documented instructions."
AUDIT = "You may audit our compliance once a year, on thirty days' written notice to us."
DPA = ["Blog", "# Data Processing Addendum", CLAUSE, AUDIT, "Footer line"]
DOCUMENT_HUNKS = {
    "banner added above the title": (["Try it", "We updated our Privacy Notice.", *DPA], 0),
    "menu item renamed": (["News", *DPA[1:]], 0),
    "title renamed": (["Blog", "# DPA", *DPA[2:]], 1),
    "menu and body changed": (["News", DPA[1], "We act as controller.", *DPA[3:]], 1),
    "footer changed": ([*DPA[:4], "Other footer"], 1),
}


@pytest.mark.parametrize(("new", "count"), DOCUMENT_HUNKS.values(), ids=DOCUMENT_HUNKS)
def test_document_hunks_leave_out_the_chrome_above_the_title(new: list[str], count: int) -> None:
    diff = diff_blocks(DPA, new)
    assert diff.changed
    assert len(diff.document_hunks()) == count
