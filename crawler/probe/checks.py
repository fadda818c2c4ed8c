"""What a probe tells about one extracted page beyond its text: a JavaScript shell, and
whether a `select` rule would keep the document without the site's chrome (pure).

`shell_verdict` is a stand-in: crawler/extract/shell.py (`looks_like_js_shell`, being written
for rendering) is to replace it once it lands; the probe calls only this function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Final

from diffs.text import NAV_MARK

# A page whose text is this short and whose markup is a script-driven app is an empty shell
# the browser fills in. The smallest good text of the corpus is 760 characters and the
# demo's shortest help article 212 (crawler/extract/failures.py, crawler/demo/site), so a
# real document rarely reads this short.
SHELL_MAX_CHARS: Final = 200
# Markup that marks a client-rendered app: its mount point, a "needs JavaScript" notice. A
# script bundle alone is no sign: server-rendered pages load one too.
_SHELL_MARKERS: Final = (
    ("an app mount point", rb"<div[^>]+id=[\"']?(?:root|app|__next|__nuxt|svelte)\b"),
    ("a noscript notice", rb"<noscript[^>]*>[^<]{0,200}javascript"),
)
# Bytes of markup scanned for the markers: a shell puts them in its first screen.
SHELL_SCAN_BYTES: Final = 256 * 1024
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
    """Why the page looks like a JavaScript shell (little text, app markup), else None."""
    if len(text) > SHELL_MAX_CHARS:
        return None
    head = raw[:SHELL_SCAN_BYTES]
    found = [name for name, pattern in _SHELL_MARKERS if re.search(pattern, head, re.I)]
    if not found:
        return None
    return f"{len(text)} characters of text and {', '.join(found)}: needs rendering (render: true)"


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
