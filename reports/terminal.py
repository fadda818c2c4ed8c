"""A change as plain text for the terminal: removed/added blocks, words marked inside rewrites."""

from __future__ import annotations

from diffs.text import TextDiff, WordOp

# Lines of unchanged context shown around each hunk, as `diff -u` does by default.
CONTEXT_BLOCKS = 1


def _words(ops: tuple[WordOp, ...], color: bool) -> str:
    """One rewritten block with deletions as [-…-] and insertions as {+…+} (git's word diff)."""
    parts = []
    for op in ops:
        if op.tag == "equal":
            parts.append(op.text)
        elif op.tag == "delete":
            parts.append(f"\x1b[31m[-{op.text}-]\x1b[0m" if color else f"[-{op.text}-]")
        else:
            parts.append(f"\x1b[32m{{+{op.text}+}}\x1b[0m" if color else f"{{+{op.text}+}}")
    return "".join(parts)


def _clean(text: str) -> str:
    """Page text is untrusted: drop control characters that could drive the terminal."""
    return "".join(ch for ch in text if ch.isprintable() or ch == "\t")


def render_diff(diff: TextDiff, *, color: bool = False) -> str:
    """The diff as lines: '  ' context, '- ' removed, '+ ' added, '~ ' rewritten block."""
    lines: list[str] = []
    for hunk in diff.hunks:
        start = max(0, hunk.old_start - CONTEXT_BLOCKS)
        lines.append(
            f"@@ blocks {hunk.old_start + 1}-{hunk.old_end} → "
            f"{hunk.new_start + 1}-{hunk.new_end} @@"
        )
        lines.extend(f"  {_clean(b)}" for b in diff.old_blocks[start : hunk.old_start])
        for pair in hunk.pairs:
            lines.append(f"~ {_clean(_words(pair.words, color))}")
        lines.extend(f"- {_clean(b)}" for b in hunk.removed)
        lines.extend(f"+ {_clean(b)}" for b in hunk.added)
        after = diff.old_blocks[hunk.old_end : hunk.old_end + CONTEXT_BLOCKS]
        lines.extend(f"  {_clean(b)}" for b in after)
    return "\n".join(lines)
