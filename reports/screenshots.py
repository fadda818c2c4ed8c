"""Before/after screenshots on a change page, with the changed passages marked (pure).

A rendered version carries where each text block sat when it was captured (its element's
box and text, crawler/fetch/render.py). A block of the diff is located when a captured
element's text is that block's text (or contains it, or is contained in it, for a block at
least MIN_MATCH_CHARS long); a passage no element holds is not marked, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from reports.history import Version
from reports.render import DiffHunk

MIN_MATCH_CHARS: Final = 12  # a shorter block ("Yes", "1.") would mark every element it is in
MAX_MARKS: Final = 200  # marks per screenshot: a rewritten page is marked as "much changed"
# Markdown the HTML extractor puts before a block (headings, list items, quotes).
_PREFIX = re.compile(r"^(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s+)")


@dataclass(frozen=True, slots=True)
class Mark:
    """A changed passage on a screenshot, in percent of its width and height."""

    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Shot:
    """A version's screenshot as the change page shows it: its file and its marks."""

    path: str  # from the site's root
    width: int
    height: int
    marks: tuple[Mark, ...]


def screenshot_path(version: Version) -> str:
    """Where a version's screenshot is saved: content-addressed, a JPEG."""
    return f"shots/{version.screenshot_sha}.jpg"


def _plain(text: str) -> str:
    return " ".join(_PREFIX.sub("", text.strip()).split()).lower()


def _changed(hunks: Sequence[DiffHunk], side: Literal["old", "new"]) -> list[str]:
    """The changed blocks of one side of the diff, as plain text."""
    out: list[str] = []
    for hunk in hunks:
        for row in hunk.rows:
            text = row.old if side == "old" else row.new
            if text is not None and row.kind != "context":
                out.append(_plain(text))
    return [t for t in out if t]


def _holds(element: str, block: str) -> bool:
    if element == block:
        return True
    short = min(len(element), len(block))
    return short >= MIN_MATCH_CHARS and (block in element or element in block)


def shot(
    version: Version | None, hunks: Sequence[DiffHunk], side: Literal["old", "new"]
) -> Shot | None:
    """A version's screenshot with the boxes of its changed blocks marked (None: no screenshot)."""
    if version is None or version.screenshot_sha is None:
        return None
    width, height = version.screenshot_size
    if width <= 0 or height <= 0:
        return None
    blocks = _changed(hunks, side)
    marks: list[Mark] = []
    for x, y, w, h, text in version.boxes:
        element = _plain(text)
        if len(marks) < MAX_MARKS and any(_holds(element, b) for b in blocks):
            marks.append(
                Mark(
                    left=round(100 * x / width, 3),
                    top=round(100 * y / height, 3),
                    width=round(100 * min(w, width - x) / width, 3),
                    height=round(100 * min(h, height - y) / height, 3),
                )
            )
    return Shot(screenshot_path(version), width, height, tuple(marks))
