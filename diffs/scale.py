"""How much changed text is read sentence by sentence: significance and flags read every
changed block through dozens of patterns (about 5 µs a character for significance alone,
measured), so a page changed throughout is read coarsely instead: substantive, and every
rating citing it flagged for review as a whole. A false alert is cheaper than a missed change.
"""

from __future__ import annotations

from collections.abc import Sequence

from diffs.text import Hunk

# Changed characters (both sides) read sentence by sentence: about 1.5 s of significance and
# as much again of topics per cited criterion. A legal page of 100 KB rewritten whole is
# 200,000; every change of the dev corpus is far below.
MAX_READ_CHARS = 300_000
# Changed blocks (both sides) read one by one: each costs ~50 µs of significance and ~130 µs
# of flags however short it is (measured: 200,000 one-word blocks took 35 s and 26 s). The
# longest legal page of the dev corpus has about 1,000 blocks.
MAX_READ_BLOCKS = 5_000


def too_much_changed(hunks: Sequence[Hunk]) -> str | None:
    """How much changed, when it is more than is read sentence by sentence (else None)."""
    blocks = sum(len(h.old) + len(h.new) for h in hunks)
    chars = sum(len(b) for h in hunks for b in (*h.old, *h.new))
    if chars <= MAX_READ_CHARS and blocks <= MAX_READ_BLOCKS:
        return None
    return f"{chars:,} characters in {blocks:,} blocks changed"
