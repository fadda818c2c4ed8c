"""Which blocks of two versions stand for each other: exact LCS where that is affordable,
unique-block anchors (patience diff) where it is not.

rapidfuzz's Indel LCS keeps one bit per pair of blocks: two 400,000-block pages need 20 GB.
Above ``MAX_LCS_CELLS`` pairs the versions are cut at blocks that occur once on each side (in
the same order), and each stretch between two such anchors is aligned the same way; a
stretch still too large with no anchor is read as rewritten (removed and added). The work of
one alignment is bounded as a whole: its LCS runs share one budget of cells (``Work``), and
anchoring nests at most ``MAX_ANCHOR_DEPTH`` deep; past either, a stretch reads as
rewritten. The result is always a correct edit script: coarser than the LCS only where a
page is huge and changed throughout.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Indel

# Pairs of blocks the exact LCS may compare: n*m bits, i.e. 125 MB, and about a second.
# Every legal page of the dev corpus (at most ~1,000 blocks) stays far below it.
MAX_LCS_CELLS = 1_000_000_000
# Levels of anchoring inside anchoring. Each level is linear (a count and a longest
# increasing run); a page built so that every level frees one more anchor would otherwise nest
# once per block (quadratic, and past Python's recursion limit).
MAX_ANCHOR_DEPTH = 4

# (old index, new index, length) of a run of equal blocks.
Match = tuple[int, int, int]


@dataclass(slots=True)
class Work:
    """LCS cells one alignment (or one diff's word alignments together) may still spend."""

    cells: int = MAX_LCS_CELLS

    def spend(self, cells: int) -> bool:
        """Take `cells` from the budget; False (taking nothing) when they are not left."""
        if cells > self.cells:
            return False
        self.cells -= cells
        return True


def matching_runs(old: Sequence[str], new: Sequence[str], work: Work | None = None) -> list[Match]:
    """The runs of equal blocks of an edit script from old to new, in order (within `work`,
    a fresh budget of MAX_LCS_CELLS by default)."""
    out: list[Match] = []
    _align(old, new, 0, len(old), 0, len(new), out, work or Work(), 0)
    return _merged(out)


def _align(
    old: Sequence[str],
    new: Sequence[str],
    o0: int,
    o1: int,
    n0: int,
    n1: int,
    out: list[Match],
    work: Work,
    depth: int,
) -> None:
    """Append the matches of old[o0:o1] against new[n0:n1]."""
    start = 0
    while o0 + start < o1 and n0 + start < n1 and old[o0 + start] == new[n0 + start]:
        start += 1
    if start:
        out.append((o0, n0, start))
        o0, n0 = o0 + start, n0 + start
    end = 0
    while o1 - end > o0 and n1 - end > n0 and old[o1 - end - 1] == new[n1 - end - 1]:
        end += 1
    o1, n1 = o1 - end, n1 - end
    if o0 < o1 and n0 < n1:
        if work.spend((o1 - o0) * (n1 - n0)):
            out.extend(_lcs(old, new, o0, o1, n0, n1))
        elif depth < MAX_ANCHOR_DEPTH:
            _anchored(old, new, o0, o1, n0, n1, out, work, depth + 1)
        # else: nothing affordable holds the stretch together; it reads as rewritten
    if end:
        out.append((o1, n1, end))


def _lcs(old: Sequence[str], new: Sequence[str], o0: int, o1: int, n0: int, n1: int) -> list[Match]:
    ops = Indel.opcodes(list(old[o0:o1]), list(new[n0:n1]))
    return [
        (o0 + op.src_start, n0 + op.dest_start, op.src_end - op.src_start)
        for op in ops
        if op.tag == "equal"
    ]


def _anchored(
    old: Sequence[str],
    new: Sequence[str],
    o0: int,
    o1: int,
    n0: int,
    n1: int,
    out: list[Match],
    work: Work,
    depth: int,
) -> None:
    """Align a stretch too large for the LCS at its blocks unique on both sides."""
    in_old = Counter(old[o0:o1])
    in_new = Counter(new[n0:n1])
    where = {b: i for i, b in enumerate(new[n0:n1], n0) if in_new[b] == 1 and in_old[b] == 1}
    pairs = [(i, where[b]) for i, b in enumerate(old[o0:o1], o0) if b in where]
    anchors = _increasing(pairs)
    if not anchors:
        return  # nothing to hold on to: the stretch reads as rewritten
    for i, j in anchors:
        _align(old, new, o0, i, n0, j, out, work, depth)
        out.append((i, j, 1))
        o0, n0 = i + 1, j + 1
    _align(old, new, o0, o1, n0, n1, out, work, depth)


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest run of pairs increasing in both indices (pairs come sorted by the first)."""
    tails: list[int] = []  # new index ending the best run of each length
    ends: list[int] = []  # position in pairs of that run's last pair
    before = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        at = bisect_left(tails, j)
        before[k] = ends[at - 1] if at else -1
        if at == len(tails):
            tails.append(j)
            ends.append(k)
        else:
            tails[at], ends[at] = j, k
    chain: list[tuple[int, int]] = []
    k = ends[-1] if ends else -1
    while k >= 0:
        chain.append(pairs[k])
        k = before[k]
    return chain[::-1]


def _merged(matches: list[Match]) -> list[Match]:
    """Adjacent runs joined, in order."""
    out: list[Match] = []
    for i, j, size in sorted(matches):
        if size <= 0:
            continue
        if out and out[-1][0] + out[-1][2] == i and out[-1][1] + out[-1][2] == j:
            out[-1] = (out[-1][0], out[-1][1], out[-1][2] + size)
        else:
            out.append((i, j, size))
    return out


def edit_spans(
    old: Sequence[str], new: Sequence[str], work: Work | None = None
) -> list[tuple[int, int, int, int]]:
    """(old_start, old_end, new_start, new_end) of each stretch between equal runs."""
    spans: list[tuple[int, int, int, int]] = []
    o, n = 0, 0
    for i, j, size in [*matching_runs(old, new, work), (len(old), len(new), 0)]:
        if i > o or j > n:
            spans.append((o, i, n, j))
        o, n = i + size, j + size
    return spans
