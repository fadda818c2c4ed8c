"""A cleaned HTML tree cut into text blocks, and the navigation runs at the page's edges marked.

One block per paragraph, heading (``# `` marks), list item (``- ``) or table row (cells joined
by `` | ``). Adjacent inline elements are joined as a reader sees them, with a space where the
browser's layout would separate them ("September 15, 2025" + "Previous Version").

A page's leading and trailing runs of blocks that are mostly link text — a site footer, a
"Related articles" list, a menu outside ``<nav>`` — are the site's, wherever they sit in the
markup, except inside the page's ``<main>`` or ``<article>``: there a list of links is the
document's own ("14. Useful resources" closing ChatGPT's privacy policy), unless a heading
names it a list of other articles ("Related articles", as help-centre themes put inside
``<article>``). They are kept and
marked with ``NAV_MARK``, so a diff shows them while significance and flagging leave them out
(diffs.text.chrome_blocks).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# lxml ships no type stubs (lxml-stubs lags releases); elements are typed as HtmlElement = Any.
import lxml.html  # type: ignore[import-untyped]

from crawler.extract.normalize import has_words, normalize_text
from diffs.dates import is_dated_line
from diffs.text import NAV_MARK

_HEADINGS = {f"h{n}": "#" * n + " " for n in range(1, 7)}
_BLOCK_TAGS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "body", "caption", "center", "dd"),
        *("details", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer"),
        *("form", "header", "hgroup", "hr", "html", "legend", "li", "main", "ol", "p", "pre"),
        *("section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul", "button"),
    }
)
# Marks the edge between two elements inside one block; resolved at flush (see _join).
_EDGE = "\x1f"
# Where two elements meet with no space, the browser lays them out apart when the text would
# otherwise run a number into a word or start a capitalised word mid-word; glyph-split words
# ("Pri" + "vacy", a drop cap "O" + "penAI") keep running together.
_GLUED = re.compile(r"(?<=[0-9])\x1f+(?=[^\W\d_])|(?<=[^\W\d_])\x1f+(?=[0-9])"
                    r"|(?<=[a-zà-ÿ])\x1f+(?=[A-ZÀ-Þ])|(?<=[.,;:!?)\]])\x1f+(?=\w)")  # fmt: skip

# A block is a link when at least this share of its characters is link text.
NAV_BLOCK_SHARE = 0.5
# A short block between links is a menu's section name ("Products", "## Related articles").
NAV_LABEL_WORDS = 4
# A run is navigation when it holds at least this many links, and no more labels than links.
NAV_MIN_LINKS = 3
# Runs covering more than this share of the text are the page itself (an index of documents).
NAV_MAX_SHARE = 0.5
# A run longer than this is the page itself too (the longest site run of the dev corpus, Grok's
# footer, has 23 blocks); the bound also keeps a page of 400,000 one-word paragraphs linear.
NAV_MAX_BLOCKS = 300
# Headings of the lists help centres add under an article, in the directory's languages.
_RELATED = re.compile(
    r"^#+\s+(?:related|recommended|popular|similar|recently viewed|articles in this section"
    r"|you (?:may|might) also like|weitere artikel|ähnliche artikel|verwandte artikel"
    r"|articles? (?:liés|similaires|connexes|recommandés))\b",
    re.IGNORECASE,
)
_MARKERS = re.compile(r"^(?:#+|-)\s+")
_COPYRIGHT_LINE = re.compile(r"(?:©|\(c\)|copyright)\s", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Block:
    """One block of text and the share of its characters that is link text."""

    text: str
    linked: float
    in_main: bool = False  # inside the page's <main> or <article>: the document's own


class _BlockWriter:
    """Walks a cleaned tree and cuts its text into blocks at block-level elements."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._buffer: list[tuple[str, bool]] = []
        self._prefix = ""  # Markdown marker for the next emitted block ("## ", "- ")
        self._links = 0  # depth of links to pages around the current text
        self._main = 0  # depth of <main>/<article> elements around the current text

    def flush(self) -> None:
        """End the current block; a pending marker waits for the first block with words."""
        text = normalize_text(_join("".join(t for t, _ in self._buffer)))
        linked = sum(len("".join(t.split())) for t, in_link in self._buffer if in_link)
        self._buffer.clear()
        if has_words(text):
            total = len("".join(text.split())) or 1
            share = min(1.0, linked / total)
            self.blocks.append(Block(self._prefix + text, share, self._main > 0))
            self._prefix = ""

    def _add(self, text: str) -> None:
        self._buffer.append((text, self._links > 0))

    def walk(self, el: lxml.html.HtmlElement) -> None:
        """Emit the blocks of one element and its subtree."""
        tag = el.tag
        if tag == "br":
            self.flush()
        elif tag == "tr":
            self.flush()
            cells = [_cell_text(c) for c in el if c.tag in ("td", "th")]
            self._add(" | ".join(c for c in cells if c))
            self.flush()
        elif tag in _HEADINGS or tag == "li":
            self.flush()
            self._prefix = _HEADINGS.get(tag, "- ")
            self._children(el)
            self.flush()
            self._prefix = ""
        elif tag in _BLOCK_TAGS:
            self.flush()
            self._children(el)
            self.flush()
        else:
            self._add(_EDGE)
            self._children(el)
            self._add(_EDGE)

    def _children(self, el: lxml.html.HtmlElement) -> None:
        link = _is_page_link(el)
        main = el.tag in ("main", "article") or el.get("role") == "main"
        self._links += link
        self._main += main
        if el.text:
            self._add(el.text)
        for child in el:
            self.walk(child)
            if child.tail:
                self._add(child.tail)
        self._links -= link
        self._main -= main


def _is_page_link(el: lxml.html.HtmlElement) -> bool:
    """A link to another page: navigation. A mailto: or tel: link is a contact, the document's."""
    return el.tag == "a" and not (el.get("href") or "").lower().startswith(("mailto:", "tel:"))


def _join(text: str) -> str:
    """Resolve element edges: a space where layout separates the two sides, else nothing."""
    return _GLUED.sub(" ", text).replace(_EDGE, "")


def _cell_text(cell: lxml.html.HtmlElement) -> str:
    """A table cell on one line: its own blocks joined by spaces."""
    writer = _BlockWriter()
    writer.walk(cell)
    writer.flush()
    return " ".join(b.text for b in writer.blocks)


def tree_blocks(roots: Sequence[lxml.html.HtmlElement]) -> tuple[Block, ...]:
    """The blocks of the given (already cleaned) subtrees, in order."""
    writer = _BlockWriter()
    for root in roots:
        writer.walk(root)
        writer.flush()
    return tuple(writer.blocks)


def _is_label(text: str) -> bool:
    """A menu's section name or a copyright line: short, and not the document's title or date."""
    words = _MARKERS.sub("", text).split()
    if text.startswith("# ") or not (len(words) <= NAV_LABEL_WORDS or _COPYRIGHT_LINE.match(text)):
        return False
    return not is_dated_line(text)


def _edge_run(blocks: Sequence[Block], inside: bool) -> int:
    """How many blocks from the start form a navigation run (0 when they do not); with
    ``inside`` false the run stops at the page's main document."""
    size = 0
    for block in blocks[: NAV_MAX_BLOCKS + 1]:
        is_link = block.linked >= NAV_BLOCK_SHARE and not is_dated_line(block.text)
        if not (is_link or _is_label(block.text)) or (block.in_main and not inside):
            break
        size += 1
    links = sum(1 for b in blocks[:size] if b.linked >= NAV_BLOCK_SHARE)
    if size > NAV_MAX_BLOCKS or links < NAV_MIN_LINKS or 2 * links < size:
        return 0
    return size


def _trailing(blocks: Sequence[Block]) -> int:
    """The trailing run: outside the main document, or reaching into it when the part inside
    is headed as a list of other articles."""
    backwards = blocks[::-1]
    outside, whole = _edge_run(backwards, False), _edge_run(backwards, True)
    inner = [b for b in blocks[len(blocks) - whole :] if b.in_main]
    if whole > outside and inner and any(_RELATED.match(b.text) for b in inner[:2]):
        return whole
    return outside


def mark_navigation(blocks: Sequence[Block]) -> tuple[str, ...]:
    """The block texts, with the leading and trailing navigation runs marked NAV_MARK."""
    lead = _edge_run(blocks, False)
    trail = _trailing(blocks) if lead < len(blocks) else 0
    marked = set(range(lead)) | set(range(len(blocks) - trail, len(blocks)))
    total = sum(len(b.text) for b in blocks)
    if sum(len(blocks[i].text) for i in marked) > NAV_MAX_SHARE * total:
        marked = set()  # the page is a list of links: it is the document
    return tuple(NAV_MARK + b.text if i in marked else b.text for i, b in enumerate(blocks))
