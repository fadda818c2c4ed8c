"""The HTML extractor: markup to normalized text blocks, minus chrome, with per-source CSS.

Extractor choice, measured with bench/noise_offline.py on the DEV corpus (22 documents, 2241
scored raw page changes, 42 scored substantive real changes), same diff + significance rules
(false alerts without the 8 on changes the corpus recorded only in an upgrade; before the
title rule of diffs.text, 28 and 45):

| extractor                                              | recall | false alerts  | ms/page |
|--------------------------------------------------------|--------|---------------|---------|
| own lxml blocks (this module, html/1)                  | 42/42  | 17 (0.76 %)   | 17-28   |
| trafilatura 2.3 markdown, favor_recall, tables, prune  | 42/42  | 27 (1.20 %)   | 41-61   |

trafilatura's content scoring flips between runs of the same site: on Perplexity's AUP and DPA
it alternately keeps and drops the "Legal Hub" menu, and it can drop a
clause by heuristic. Our extractor keeps every visible block minus chrome, banners, hidden and
volatile markup, so a missed clause can only come from an explicit rule; it is also 2-3x faster.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# lxml ships no type stubs (lxml-stubs lags releases); elements are typed as HtmlElement = Any.
import lxml.etree  # type: ignore[import-untyped]
import lxml.html  # type: ignore[import-untyped]
from lxml.cssselect import CSSSelector, SelectorError  # type: ignore[import-untyped]

from crawler.extract.blocks import mark_navigation, tree_blocks
from crawler.extract.charset import decode
from crawler.extract.chrome import clean
from crawler.extract.extractor import Body, ExtractError, Extractor

HTML_RULES = "html/4"  # 2: UTF-8 bodies labelled Latin-1/windows-1252 decode as UTF-8;
# 3: disclosure panels kept, navigation runs marked, content-found cookie banners, icon text;
# 4: NULs dropped, charset labels of encodings no browser knows ignored (charset.py), text
# nodes over 10 MB kept
CONTENT_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/xml", "text/xml"})
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def html_extract(body: Body) -> tuple[str, ...]:
    """The blocks of an HTML page, within its source's select/exclude CSS."""
    root = _parse_html(decode(body.raw, body.content_type), body.url)
    return html_blocks(_scope(root, body.select, body.exclude, body.url))


def _parse_html(text: str, url: str) -> lxml.html.HtmlElement:
    """Parse decoded HTML; lxml refuses str input that still carries an XML declaration."""
    # huge_tree: libxml2 otherwise drops a text node over 10 MB without a word (a 20 MB
    # one-paragraph page read as empty, and a change inside it missed). The body's size is
    # already capped at the fetch (20 MB), which bounds the tree.
    parser = lxml.html.HTMLParser(huge_tree=True)
    try:
        root = lxml.html.document_fromstring(_XML_DECLARATION.sub("", text, count=1), parser)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ExtractError(f"unparsable HTML ({exc}): {url}") from exc
    return root


def _scope(
    root: lxml.html.HtmlElement, select: Sequence[str], exclude: Sequence[str], url: str
) -> list[lxml.html.HtmlElement]:
    """Apply per-source CSS: drop `exclude` subtrees, keep the union of `select` in page order."""
    for element in _matches(root, exclude, url):
        element.drop_tree()
    if not select:
        return [root]
    chosen = set(_matches(root, select, url))
    if not chosen:
        raise ExtractError(f"select {list(select)!r} matched nothing: {url}")
    # A match inside another match would be extracted twice; the rest keep document order.
    outermost = [el for el in chosen if not any(a in chosen for a in el.iterancestors())]
    position = {el: i for i, el in enumerate(root.iter())}
    return sorted(outermost, key=position.__getitem__)


def _matches(
    root: lxml.html.HtmlElement, selectors: Sequence[str], url: str
) -> list[lxml.html.HtmlElement]:
    """Every element matching any of the CSS selectors."""
    found: list[lxml.html.HtmlElement] = []
    for selector in selectors:
        try:
            found.extend(CSSSelector(selector, translator="html")(root))
        except SelectorError as exc:
            raise ExtractError(f"bad CSS selector {selector!r}: {exc} ({url})") from exc
    return found


def html_blocks(roots: Sequence[lxml.html.HtmlElement]) -> tuple[str, ...]:
    """The normalized blocks of the given (already scoped) subtrees, in order, with the
    navigation runs at the page's edges marked (crawler/extract/blocks.py)."""
    for root in roots:
        clean(root)
    return mark_navigation(tree_blocks(roots))


EXTRACTOR = Extractor(HTML_RULES, CONTENT_TYPES, html_extract)
