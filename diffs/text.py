"""Block-level diff of normalized text, with word-level detail inside changed blocks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz

from diffs.align import Work, edit_spans, matching_runs
from diffs.dates import is_dated_line

WordTag = Literal["equal", "insert", "delete"]
HunkTag = Literal["insert", "delete", "replace"]

# Replace hunks larger than this render as removed/added blocks without word detail: pairing
# is O(n*m) and a rewrite of that size is read as a new document anyway (research/tech_scrapy §6).
MAX_PAIRED_BLOCKS = 200
# Characters old x new that pairing may compare in one diff (each candidate pair is a fuzzy
# ratio, a bit-parallel LCS: 1.8e10 character pairs a second, measured), so about a second.
# 200 rewritten blocks of 500 characters on each side cost 1e10. Hunks past the budget show
# their blocks as removed and added, without word detail: coarser, still correct. Without it
# one changed 1 MB block took 15 s to pair, and a 20 MB one hours.
MAX_PAIR_CELLS = 20_000_000_000
# Tokens old x new that the word diffs of one diff's rewritten blocks may align together
# (rapidfuzz's LCS: 2.5-4e9 a second, measured). Past it a pair's words are aligned only by
# their common start and end and their unique words (diffs.align): coarser, still correct.
MAX_WORD_CELLS = 1_000_000_000
# Below this similarity (rapidfuzz ratio, 0-100) two blocks are shown as removed + added rather
# than as one rewritten block; 50 keeps "same sentence, a clause changed" together.
PAIR_CUTOFF = 50.0

_WORD = re.compile(r"\s+|[^\s\w]|\w+", re.UNICODE)

# A document starts at its title, its one top-level heading ("# " block); what stands above
# it is the site's: menus, breadcrumbs, "Try Perplexity", a banner announcing another page.
# Measured on the dev corpus (27 pages, 2,278 captures): no page has more than one "# "
# block; 1,310 captures have blocks above it, never a sentence of the document itself; it
# always stood in the first 20 % of the text. A page with several top-level headings uses
# them for sections, and one further down is a heading inside a document whose title is not
# marked up: in both cases the document may start above it, so nothing counts as chrome.
TITLE_WITHIN = 0.2
# Marks a block of a navigation run at the page's edge (crawler/extract/blocks.py): a footer, a
# "Related articles" list. Kept and shown, never the document.
NAV_MARK = "» "


@dataclass(frozen=True, slots=True)
class WordOp:
    """A run of tokens that is equal, inserted or deleted between two blocks."""

    tag: WordTag
    text: str


@dataclass(frozen=True, slots=True)
class BlockPair:
    """One old block and the new block it became, with the word-level edit between them."""

    old: str
    new: str
    words: tuple[WordOp, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Hunk:
    """A contiguous change: blocks old[old_start:old_end] became new[new_start:new_end]."""

    tag: HunkTag
    old_start: int
    old_end: int
    new_start: int
    new_end: int
    old: tuple[str, ...]
    new: tuple[str, ...]
    pairs: tuple[BlockPair, ...]  # rewritten blocks (replace hunks only)
    removed: tuple[str, ...]  # old blocks with no counterpart
    added: tuple[str, ...]  # new blocks with no counterpart


@dataclass(frozen=True, slots=True)
class TextDiff:
    """The difference between two versions of a text, as hunks of blocks."""

    old_blocks: tuple[str, ...]
    new_blocks: tuple[str, ...]
    hunks: tuple[Hunk, ...]

    @property
    def changed(self) -> bool:
        """True when any block differs."""
        return bool(self.hunks)

    def document_hunks(self) -> tuple[Hunk, ...]:
        """The hunks as they touch the document: the site's blocks (chrome_blocks) left out,
        and hunks made only of them dropped."""
        old_site, new_site = chrome_blocks(self.old_blocks), chrome_blocks(self.new_blocks)
        out: list[Hunk] = []
        budget = _Budget()
        for h in self.hunks:
            old = tuple(b for i, b in enumerate(h.old, h.old_start) if i not in old_site)
            new = tuple(b for i, b in enumerate(h.new, h.new_start) if i not in new_site)
            if len(old) == len(h.old) and len(new) == len(h.new):
                out.append(h)
            elif old or new:
                spans = (h.old_start, h.old_end, h.new_start, h.new_end)
                out.append(_hunk(*spans, old, new, budget))
        return tuple(out)

    def added_text(self) -> tuple[str, ...]:
        """Every passage that is new: added blocks and the new side of rewritten ones."""
        out: list[str] = []
        for hunk in self.hunks:
            out.extend(hunk.added)
            out.extend(pair.new for pair in hunk.pairs)
        return tuple(out)

    def removed_text(self) -> tuple[str, ...]:
        """Every passage that is gone: removed blocks and the old side of rewritten ones."""
        out: list[str] = []
        for hunk in self.hunks:
            out.extend(hunk.removed)
            out.extend(pair.old for pair in hunk.pairs)
        return tuple(out)


def title_index(blocks: Sequence[str]) -> int:
    """The index of the document's title block (0 when no single title stands near the top)."""
    headings = [i for i, b in enumerate(blocks) if b.startswith("# ")]
    if len(headings) != 1:
        return 0
    title = headings[0]
    above = sum(len(b) for b in blocks[:title])
    return title if above <= TITLE_WITHIN * sum(len(b) for b in blocks) else 0


def chrome_blocks(blocks: Sequence[str]) -> frozenset[int]:
    """Indices of the site's blocks: above the title (but a dated line: "Updated: January 8,
    2026" is the document's own date), and navigation runs marked by the extractor."""
    title = title_index(blocks)
    above = (i for i in range(title) if not is_dated_line(blocks[i]))
    return frozenset((*above, *(i for i, b in enumerate(blocks) if b.startswith(NAV_MARK))))


def split_blocks(text: str) -> tuple[str, ...]:
    """Split stored normalized text (one block per line) into blocks."""
    return tuple(line for line in text.split("\n") if line.strip())


def tokenize(text: str) -> list[str]:
    """Split a block into word, punctuation and whitespace tokens that join back to the text."""
    return _WORD.findall(text)


def diff_words(old: str, new: str, work: Work | None = None) -> tuple[WordOp, ...]:
    """Word-level edit script old -> new: equal runs, each rewrite as delete then insert
    (within `work`, shared by the pairs of one diff; a fresh MAX_WORD_CELLS by default)."""
    a, b = tokenize(old), tokenize(new)
    ops: list[WordOp] = []
    o = n = 0
    for i, j, size in [*matching_runs(a, b, work or Work(MAX_WORD_CELLS)), (len(a), len(b), 0)]:
        if i > o:
            ops.append(WordOp("delete", "".join(a[o:i])))
        if j > n:
            ops.append(WordOp("insert", "".join(b[n:j])))
        if size:
            ops.append(WordOp("equal", "".join(a[i : i + size])))
        o, n = i + size, j + size
    return _semantic_cleanup(ops)


def _semantic_cleanup(ops: list[WordOp]) -> tuple[WordOp, ...]:
    """Fold an equality into its neighbouring edits when it is no longer than either of them.

    A lone space between two edits folds too: "[-do not-]{+may+}", not "[-do-]{+may+} [-not-]".
    diff-match-patch's rule: in "unless (a) Customer opted-out of training" -> "unless
    Customer is or has opted-out of training", aligning the lone shared "opted-out" shreds the
    sentence into fragments; one struck phrase and one inserted phrase read far better.
    Folding only ever lengthens edits, so any order of folds reaches the same result: one pass
    with a stack, linear however many edits a huge block holds.
    """
    stack: list[_Edit | str] = []  # edits and the equal strings between them
    for op in ops:
        top = stack[-1] if stack else None
        if op.tag == "equal":
            stack.append(op.text)
            continue
        if not isinstance(top, _Edit):
            top = _Edit()
            stack.append(top)
        top.add(op.tag, op.text)
        while len(stack) >= 3:
            before, eq, after = stack[-3], stack[-2], stack[-1]
            if not (isinstance(before, _Edit) and isinstance(eq, str) and isinstance(after, _Edit)):
                break
            if len(eq) > before.longest() or len(eq) > after.longest():
                break
            before.absorb(eq, after)
            del stack[-2:]
    out: list[WordOp] = []
    for g in stack:
        if isinstance(g, str):
            out.append(WordOp("equal", g))
            continue
        deleted, inserted = "".join(g.deleted), "".join(g.inserted)
        if deleted:
            out.append(WordOp("delete", deleted))
        if inserted:
            out.append(WordOp("insert", inserted))
    return tuple(out)


@dataclass(slots=True)
class _Edit:
    """Deleted and inserted text of one edit while it grows (parts joined once, at the end)."""

    deleted: list[str] = field(default_factory=list)
    inserted: list[str] = field(default_factory=list)
    sizes: list[int] = field(default_factory=lambda: [0, 0])

    def add(self, tag: str, text: str) -> None:
        side = 0 if tag == "delete" else 1
        (self.deleted if side == 0 else self.inserted).append(text)
        self.sizes[side] += len(text)

    def longest(self) -> int:
        return max(self.sizes)

    def absorb(self, eq: str, after: _Edit) -> None:
        """This edit, the equality and the next edit become one edit."""
        self.deleted += [eq, *after.deleted]
        self.inserted += [eq, *after.inserted]
        self.sizes = [
            self.sizes[0] + len(eq) + after.sizes[0],
            self.sizes[1] + len(eq) + after.sizes[1],
        ]


@dataclass(slots=True)
class _Budget:
    """The pairing and word-diff work one diff may still spend."""

    pair_cells: int = MAX_PAIR_CELLS
    words: Work = field(default_factory=lambda: Work(MAX_WORD_CELLS))

    def pairing(self, old: Sequence[str], new: Sequence[str]) -> bool:
        """Whether these blocks may be paired (and the cost taken) within the budget."""
        if len(old) > MAX_PAIRED_BLOCKS or len(new) > MAX_PAIRED_BLOCKS:
            return False
        cells = sum(map(len, old)) * sum(map(len, new))
        if cells > self.pair_cells:
            return False
        self.pair_cells -= cells
        return True


def _pair_blocks(
    old: Sequence[str], new: Sequence[str], budget: _Budget
) -> tuple[tuple[BlockPair, ...], tuple[str, ...], tuple[str, ...]]:
    """Pair rewritten blocks inside a replace hunk, best match first, keeping document order.

    Best-first matters: pairing in reading order lets a weak early match ("Gone paragraph."
    ~ "Brand new paragraph.") steal the slot of a strong later one ("30 days" ~ "90 days").
    """
    if not budget.pairing(old, new):
        return (), tuple(old), tuple(new)
    candidates = sorted(
        ((fuzz.ratio(a, b), i, j) for i, a in enumerate(old) for j, b in enumerate(new)),
        key=lambda c: (-c[0], c[1], c[2]),
    )
    chosen: dict[int, int] = {}
    for score, i, j in candidates:
        if score < PAIR_CUTOFF or i in chosen or j in chosen.values():
            continue
        # Keep pairs crossing-free, so the diff still reads top to bottom.
        if all((i < a) == (j < b) for a, b in chosen.items()):
            chosen[i] = j
    pairs = tuple(
        BlockPair(old[i], new[j], diff_words(old[i], new[j], budget.words))
        for i, j in sorted(chosen.items())
    )
    removed = tuple(b for i, b in enumerate(old) if i not in chosen)
    added = tuple(b for j, b in enumerate(new) if j not in chosen.values())
    return pairs, removed, added


def diff_blocks(old: Sequence[str], new: Sequence[str]) -> TextDiff:
    """Diff two block sequences: aligned blocks (diffs.align), word detail inside rewrites."""
    old_t, new_t = tuple(old), tuple(new)
    hunks: list[Hunk] = []
    budget = _Budget()
    for o_start, o_end, n_start, n_end in edit_spans(old_t, new_t):
        o, n = old_t[o_start:o_end], new_t[n_start:n_end]
        hunks.append(_hunk(o_start, o_end, n_start, n_end, o, n, budget))
    return TextDiff(old_t, new_t, tuple(hunks))


def _hunk(
    o_start: int,
    o_end: int,
    n_start: int,
    n_end: int,
    o: tuple[str, ...],
    n: tuple[str, ...],
    budget: _Budget,
) -> Hunk:
    """A hunk of these blocks, rewritten ones paired (within the diff's budget)."""
    if o and n:
        pairs, removed, added = _pair_blocks(o, n, budget)
        tag: HunkTag = "replace"
    else:
        pairs, removed, added = (), o, n
        tag = "delete" if o else "insert"
    return Hunk(
        tag=tag,
        old_start=o_start,
        old_end=o_end,
        new_start=n_start,
        new_end=n_end,
        old=o,
        new=n,
        pairs=pairs,
        removed=removed,
        added=added,
    )


def diff_texts(old: str, new: str) -> TextDiff:
    """Diff two stored normalized texts (one block per line)."""
    return diff_blocks(split_blocks(old), split_blocks(new))
