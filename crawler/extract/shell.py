"""JavaScript shells: an HTML body whose text is put in by scripts, not sent (pure).

A page that reads as a shell needs a browser to be read: `render: auto` fetches it again
with Chromium (crawler/fetch/render.py), and without one it is a `suspicious` failed fetch,
never a near-empty version. `citewatch probe` reuses `looks_like_js_shell`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from crawler.extract.failures import wall_failure

# A shell says next to nothing of its own: the smallest good text of the corpus's 2,278 real
# captures is 760 characters (crawler/extract/failures.py), so 400 leaves a wide margin and
# a real but short page with scripts is never re-rendered for nothing.
SHELL_MAX_CHARS: Final = 400
# Markup the shell looks at: the <head> and the first screen carry the app root and data.
SCAN_BYTES: Final = 512 * 1024
# Script bytes per character of text above which a short page is script-heavy: a shell ships
# its app (tens of KiB) for a few words; a short static page has more text than script.
SCRIPT_RATIO: Final = 20.0
# Placeholders a shell shows until its script fills the page (en, de, fr).
PLACEHOLDERS: Final = ("loading", "please wait", "wird geladen", "laden…", "chargement")

# Framework data scripts: the page's text travels as JSON for a script to render.
DATA_SCRIPTS: Final = (
    "__NEXT_DATA__",
    "self.__next_f",
    "__NUXT__",
    "__INITIAL_STATE__",
    "__APOLLO_STATE__",
    "__PRELOADED_STATE__",
    "ng-state",
)
# An empty element a framework mounts the app into: <div id="root"></div> and friends.
_APP_ROOT = re.compile(
    rb"<(?:div|main|section)[^>]*\bid=[\"']?(?:root|app|__next|__nuxt|svelte|main-app)[\"']?"
    rb"[^>]*>\s*(?:<!--.*?-->\s*)?</(?:div|main|section)>"
    rb"|<app-root[\s>]|\bng-app\b|\bdata-reactroot\b",
    re.IGNORECASE | re.DOTALL,
)
_SCRIPT = re.compile(rb"<script\b[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_SCRIPT_SRC = re.compile(rb"<script\b[^>]*\bsrc=", re.IGNORECASE)
# A script loaded from elsewhere weighs what a typical bundle does, for the ratio above.
EXTERNAL_SCRIPT_BYTES: Final = 30_000


@dataclass(frozen=True, slots=True)
class ShellVerdict:
    """Why a page reads as a JavaScript shell: one line for editors and the fetch's error."""

    reason: str


def looks_like_js_shell(html: bytes | str, extracted_text: str) -> ShellVerdict | None:
    """Why an HTML body is a JavaScript shell (little text; an app root or data script), else None.

    `extracted_text` is what citewatch extracted from it ("" when nothing): a page with
    SHELL_MAX_CHARS or more of text is read as sent, whatever its scripts.
    """
    text = " ".join(extracted_text.split())
    if len(text) >= SHELL_MAX_CHARS:
        return None
    raw = html.encode("utf-8", "replace") if isinstance(html, str) else html
    raw = raw[:SCAN_BYTES]
    if wall_failure(raw, text) is not None:
        return None  # a bot challenge or consent wall: `blocked`, which a browser would not fix
    head = f"{len(text)} characters of text"
    data = next((name for name in DATA_SCRIPTS if name.encode() in raw), None)
    if data is not None:
        return ShellVerdict(f"{head} and a framework data script ({data})")
    root = _APP_ROOT.search(raw)
    if root is not None:
        found = root.group(0)[:40].decode("utf-8", "replace")
        return ShellVerdict(f"{head} and an empty app root ({found!r})")
    lowered = text.lower()
    if (
        b"<script" in raw.lower()
        and 0 < len(text) < 60
        and any(word in lowered for word in PLACEHOLDERS)
    ):
        return ShellVerdict(f"{head}, a placeholder ({text!r})")
    scripts = sum(len(m.group(1)) for m in _SCRIPT.finditer(raw))
    scripts += EXTERNAL_SCRIPT_BYTES * len(_SCRIPT_SRC.findall(raw))
    if scripts and scripts >= SCRIPT_RATIO * max(len(text), 1):
        return ShellVerdict(f"{head} for {scripts:,} bytes of script")
    return None
