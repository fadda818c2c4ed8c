"""A change as plain text for the terminal: the HTML site's rows, words marked inside rewrites."""

from __future__ import annotations

from diffs.text import TextDiff, WordOp
from reports.render import DiffRow, diff_hunks, neutralize

# What each row kind of reports.render.diff_hunks starts with, like `diff -u` plus "~".
_MARKS = {"context": "  ", "removed": "- ", "added": "+ ", "rewritten": "~ "}


def _words(ops: tuple[WordOp, ...], color: bool) -> str:
    """One rewritten block with deletions as [-…-] and insertions as {+…+} (git's word diff)."""
    parts = []
    for op in ops:
        text = neutralize(op.text)  # page text is untrusted: no escape sequence reaches the tty
        if op.tag == "equal":
            parts.append(text)
        elif op.tag == "delete":
            parts.append(f"\x1b[31m[-{text}-]\x1b[0m" if color else f"[-{text}-]")
        else:
            parts.append(f"\x1b[32m{{+{text}+}}\x1b[0m" if color else f"{{+{text}+}}")
    return "".join(parts)


def _line(row: DiffRow, color: bool) -> str:
    if row.kind == "rewritten":
        body = _words(row.words, color)
    else:
        body = neutralize((row.new if row.kind == "added" else row.old) or "")
    return _MARKS[row.kind] + body


def render_diff(diff: TextDiff, *, color: bool = False) -> str:
    """The diff as lines: '  ' context, '- ' removed, '+ ' added, '~ ' rewritten block."""
    lines: list[str] = []
    for hunk in diff_hunks(diff):
        lines.append(f"@@ old block {hunk.old_start}, new block {hunk.new_start} @@")
        lines.extend(_line(row, color) for row in hunk.rows)
    return "\n".join(lines)
