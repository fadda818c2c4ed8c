"""What a probe tells about one extracted page beyond its text: a JavaScript shell, and
whether a `select` rule would keep the document without the site's chrome (pure).

The shell test is the fetch's own (crawler/extract/shell.py), so a probe says "JS shell"
exactly when `render: auto` would render the page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from crawler.extract.shell import looks_like_js_shell
from diffs.text import NAV_MARK

# Share of the extracted characters in the site's navigation runs (NAV_MARK blocks) above
# which a `select` rule is suggested: then most of what is compared is not the document.
CHROME_SHARE: Final = 0.5
# Share of the document's own characters (those outside navigation runs) a suggested
# `select` must keep: a rule that loses part of the document would hide its changes.
KEEP_SHARE: Final = 0.95
# The elements that usually hold a page's document, tried in this order.
SELECT_CANDIDATES: Final = ("main", "article", "[role=main]", "#content", "#main", ".content")

Extract = Callable[[Sequence[str]], tuple[str, ...] | None]  # select -> blocks (None: fails)


def shell_verdict(raw: bytes, text: str) -> str | None:
    """Why the page looks like a JavaScript shell (the fetch's own test), else None."""
    verdict = looks_like_js_shell(raw, text)
    return None if verdict is None else f"{verdict.reason}: needs rendering (render: true)"


def chrome_share(blocks: Sequence[str]) -> float:
    """The share of the characters that lie in navigation runs (0 for no text)."""
    total = sum(len(b) for b in blocks)
    nav = sum(len(b) for b in blocks if b.startswith(NAV_MARK))
    return nav / total if total else 0.0


def suggest_select(blocks: Sequence[str], extract: Extract) -> str | None:
    """A CSS `select` keeping the document without most of the chrome, when most of the text
    is chrome and one of SELECT_CANDIDATES does that; else None."""
    if chrome_share(blocks) <= CHROME_SHARE:
        return None
    own = sum(len(b) for b in blocks if not b.startswith(NAV_MARK))
    for candidate in SELECT_CANDIDATES:
        kept = extract([candidate])
        if not kept or chrome_share(kept) > CHROME_SHARE:
            continue
        if sum(len(b) for b in kept if not b.startswith(NAV_MARK)) >= KEEP_SHARE * own:
            return candidate
    return None
