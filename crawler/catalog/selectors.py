"""What a `select:`/`exclude:` CSS selector may be: one cssselect compiles, within bounds.

cssselect (the parser lxml and parsel use) translates a selector to XPath by recursion, about
3 frames per combinator, class, attribute test or nested `:is()`: 500 of them raised
RecursionError. The selector's length and nesting are bounded before it is translated.
"""

from __future__ import annotations

from cssselect import GenericTranslator, SelectorError, parse

from crawler.catalog.limits import MAX_SELECTOR_CHARS, MAX_SELECTOR_NESTING
from crawler.catalog.strict_yaml import preview

__all__ = ["selector_problem"]


def selector_problem(css: str) -> str | None:
    """Why `css` cannot be a source's selector, in one line; None when it can."""
    if len(css) > MAX_SELECTOR_CHARS:
        return f"CSS selector {preview(css)} is over the limit of {MAX_SELECTOR_CHARS:,} characters"
    try:
        selectors = parse(css)
    except SelectorError as exc:
        return f"invalid CSS selector {preview(css)}: {exc}"
    except RecursionError:  # parsing nests too, in functional pseudo-classes; never this deep
        return _too_nested(css)
    if any(_nesting(selector) > MAX_SELECTOR_NESTING for selector in selectors):
        return _too_nested(css)
    try:
        GenericTranslator().css_to_xpath(css)
    except SelectorError as exc:
        return f"invalid CSS selector {preview(css)}: {exc}"
    return None


def _too_nested(css: str) -> str:
    return (
        f"CSS selector {preview(css)} is nested too deeply (more than"
        f" {MAX_SELECTOR_NESTING} combinators, classes, tests or nested pseudo-classes)"
    )


def _nesting(tree: object) -> int:
    """How deep cssselect's parse tree is (its objects hold their parts as attributes)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        parts: list[object] = list(vars(node).values()) if hasattr(node, "__dict__") else []
        while parts:
            part = parts.pop()
            if isinstance(part, list | tuple) and not hasattr(part, "__dict__"):
                parts.extend(part)  # lists of selectors, (token, selector) pairs
            elif hasattr(part, "__dict__") and not isinstance(part, str):
                stack.append((part, depth + 1))
    return deepest
