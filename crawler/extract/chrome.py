"""What on an HTML page is not the cited document: chrome, banners, icons and hidden markup.

Every rule removes a subtree a reader does not read as the document: code and media, site
menus, cookie banners, icon names, link suffixes for screen readers, buttons. Text a reader
*can* open stays: an FAQ answer in a collapsed panel (``aria-hidden`` until its question is
clicked), the question itself when it is a ``<button>``. Rules for hidden markup are measured
on each page: one that would remove most of its text is wrong for that page and is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

# lxml ships no type stubs (lxml-stubs lags releases); elements are typed as HtmlElement = Any.
import lxml.html  # type: ignore[import-untyped]

from diffs.significance import LINK_SUFFIX

# Never text: code, styling, media, embedded documents, form controls, navigation. Buttons are
# judged one by one (_is_control): a disclosure button holds an FAQ question.
_DROP_TAGS = frozenset(
    {
        *("script", "style", "noscript", "template", "head", "title", "link", "meta", "base"),
        *("svg", "math", "iframe", "object", "embed", "canvas", "video", "audio", "picture"),
        *("img", "map", "input", "select", "option", "optgroup", "textarea"),
        *("datalist", "label", "nav", "menu", "dialog"),
    }
)
# role="img": an icon whose text is its name for screen readers ("fa-envelope alpaca-fa-regular").
_CHROME_ROLES = frozenset(
    {
        *("navigation", "banner", "contentinfo", "search", "dialog", "alertdialog", "menu"),
        *("menubar", "img"),
    }
)
# Consent-management vendors: unambiguous, dropped whatever their size.
_VENDORS = (
    *("onetrust", "optanon", "cookiebot", "didomi", "usercentrics", "truste", "osano"),
    *("cookieyes", "cky-consent", "cmplz", "iubenda", "qc-cmp", "sp_message", "axeptio"),
    *("tarteaucitron", "klaro", "termly", "cookiefirst"),
)
_CONSENT_VENDOR = re.compile("|".join(_VENDORS), re.IGNORECASE)
# Every banner name holds one of these: a plain substring test spares the regular expressions
# the long utility-class lists of modern pages (they dominated extraction time).
_BANNER_HINTS = (*_VENDORS, "cookie", "consent", "gdpr", "privacy", "cc-")
# The same substring test as one C call (an any() over the hints was a third of _is_banner).
_BANNER_HINT = re.compile("|".join(re.escape(hint) for hint in _BANNER_HINTS))
# Generic banner names. Section anchors of cookie policies look alike ("cookie-settings"), so
# these only drop elements that are small and carry no heading (see _is_banner).
_CONSENT_GENERIC = re.compile(
    r"(?:cookie|consent|gdpr|privacy)[-_]?(?:banner|bar|notice|consent|popup|modal|dialog|wall"
    r"|overlay|message|alert|box|container|prompt|manager)|\bcc-(?:window|banner)\b",
    re.IGNORECASE,
)
# Cookie banners are a few sentences: the largest one seen in the corpus and in common CMP
# templates is under 1,500 characters; a real policy section matching the names is longer.
BANNER_MAX_CHARS = 2000
# An <aside> is tangential by definition; when most of its text is links it is a document menu
# or table of contents (legal.mistral.ai's sidebar: 0.9+). Callout asides are prose (< 0.2).
NAV_LINK_SHARE = 0.6
# A banner found by its content, not its name: a button or link that accepts or refuses, inside
# a small element that speaks of cookies (OpenAI's help centre: a bare <div> with "We use
# cookies ... Click 'Accept all'" and two buttons). A policy never has such buttons in its text.
_CONSENT_ACTION = re.compile(
    r"(?:(?:accept|reject|decline|refuse|allow|deny|agree(?: to)?|i agree|consent)"
    r"(?: all| selected| necessary| essential)?(?: cookies)?(?: and (?:close|continue))?"
    r"|(?:use |allow |accept )?(?:only |strictly )?(?:necessary|essential|required)"
    r"(?: cookies)?(?: only)?|manage (?:cookies|settings|preferences|choices|options)"
    r"|cookie (?:settings|preferences)|customi[sz]e|i understand|continue without accepting"
    r"|got it|ok(?:ay)?|understood|tout accepter|tout refuser|accepter|refuser|j'accepte"
    r"|continuer sans accepter|personnaliser|paramétrer(?: les cookies)?"
    r"|alle (?:cookies )?akzeptieren|alle ablehnen|nur notwendige(?: cookies)?|akzeptieren"
    r"|ablehnen|zustimmen|einverstanden|einstellungen)[.!]?",
    re.IGNORECASE,
)
_COOKIE_WORD = re.compile(r"\b(?:cookies?|traceurs|témoins)\b", re.IGNORECASE)
# What a banner says besides its buttons: one sentence at least.
_BANNER_MIN_WORDS = 8
# Class or id words of a collapsible panel's body (Bootstrap's "collapse", "accordion-body",
# "faq-answer", "tab-content"); a menu named so is caught by the navigation rules instead.
_PANEL_NAME = re.compile(
    r"(?<![\w-])(?:accordion[\w-]*|collaps(?:e|ible)[\w-]*|[\w-]*(?:faq|answer|panel)[\w-]*"
    r"|tab-?(?:content|pane)[\w-]*|expand(?:able|er)?[\w-]*|details-content)(?![\w-])",
    re.IGNORECASE,
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_LINK_SUFFIX = re.compile(LINK_SUFFIX, re.IGNORECASE)
# Icon fonts name their glyphs in text ("arrow_forward", "fa-envelope alpaca-fa-regular"):
# lower-case identifiers joined by - or _, inside an element that is an icon.
_IDENTIFIERS = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)+(?:\s+[a-z0-9]+(?:[-_][a-z0-9]+)+)*")
_ICON_CONTEXT = re.compile(r"icon|glyph|symbol|material|\bfa\b|fa-", re.IGNORECASE)
# A disclosure button whose text is a question or a title, not "Menu" or "Close".
_CONTROL_MIN_WORDS = 3
# A rule for hidden markup that would remove more than this share of a page's text is wrong
# for that page (a body kept hidden until a script reveals it, a page whose every section is
# a closed panel without the ARIA wiring that names it one). Measured on the dev corpus
# (bench/hidden_rules.py, 7,800 captures of 40 pages): once disclosure panels are left alone,
# no rule removes more than 2.5 % of any capture (aria-hidden: duplicated teasers, icon
# labels), so the guard never fires there; it is for pages like the one in
# tests/test_crawler_chrome.py, and any value from 10 % to 90 % reads the corpus the same.
HIDDEN_MAX_SHARE = 0.5


def clean(root: lxml.html.HtmlElement) -> None:
    """Remove every subtree that is not the document (keeping the text that follows it)."""
    _drop(_cookie_notices(root))  # first: it reads the buttons that the rules below drop
    _drop(el for el in root.iter() if not isinstance(el.tag, str) or _droppable(el))
    panels = _disclosure_panels(root)
    total = _chars(root)
    for candidates, rule in _HIDDEN_RULES:
        # The XPath names the attribute each rule reads: only those elements are tested.
        found = [el for el in root.xpath(candidates) if rule(el) and el not in panels]
        hidden = _outermost(found)
        # Measured per page: a rule that would remove most of the text is not applied.
        if sum(_chars(el) for el in hidden) <= HIDDEN_MAX_SHARE * total:
            _drop(hidden)


def _drop(elements: Iterable[lxml.html.HtmlElement]) -> None:
    for el in list(elements):
        if el.getparent() is not None:
            el.drop_tree()


def _chars(el: lxml.html.HtmlElement) -> int:
    return len("".join(el.text_content().split()))


def _outermost(elements: list[lxml.html.HtmlElement]) -> list[lxml.html.HtmlElement]:
    chosen = set(elements)
    return [el for el in elements if not any(a in chosen for a in el.iterancestors())]


def _droppable(el: lxml.html.HtmlElement) -> bool:
    """Chrome, icons and controls that never belong to the cited text."""
    tag = el.tag
    if tag in _DROP_TAGS or el.get("role") in _CHROME_ROLES:
        return True
    if tag in ("header", "footer") and not any(
        a.tag in ("main", "article") for a in el.iterancestors()
    ):
        return True
    if tag == "button" or el.get("role") == "button":
        return not _is_disclosure(el)
    if _is_icon_text(el) or _is_link_suffix(el):
        return True
    return _is_banner(el) or (tag == "aside" and link_share(el) >= NAV_LINK_SHARE)


def _is_disclosure(el: lxml.html.HtmlElement) -> bool:
    """A button that opens a panel and names it: an FAQ question, a section title."""
    if el.get("aria-expanded") is None and el.get("aria-controls") is None:
        return False
    return _has_heading(el) or len(el.text_content().split()) >= _CONTROL_MIN_WORDS


def _is_icon_text(el: lxml.html.HtmlElement) -> bool:
    """An icon-font glyph or its screen-reader name, written as identifiers."""
    text = (el.text or "").strip()
    if len(el) or not text or not _IDENTIFIERS.fullmatch(text):
        return False
    names = f"{el.get('class') or ''} {el.get('data-sr-only') or ''}"
    parent = el.getparent()
    if parent is not None:
        names += f" {parent.get('class') or ''}"
    return el.tag == "i" or el.get("data-sr-only") is not None or bool(_ICON_CONTEXT.search(names))


def _is_link_suffix(el: lxml.html.HtmlElement) -> bool:
    """'(opens in a new window)' and its kin, as an element of its own (a leaf)."""
    return not len(el) and bool(_LINK_SUFFIX.fullmatch((el.text or "").strip()))


def link_share(el: lxml.html.HtmlElement) -> float:
    """Share of an element's text that sits inside links (1.0 for a pure menu)."""
    total = len("".join(el.text_content().split()))
    linked = sum(len("".join(a.text_content().split())) for a in el.iter("a"))
    return linked / total if total else 1.0


def _is_banner(el: lxml.html.HtmlElement) -> bool:
    """A cookie/consent banner, recognised by its id or class."""
    names = f"{el.get('id') or ''} {el.get('class') or ''}".lower()
    if el.tag in _HEADING_TAGS or _BANNER_HINT.search(names) is None:
        return False
    if _CONSENT_VENDOR.search(names):
        return True
    if not _CONSENT_GENERIC.search(names):
        return False
    return not _has_heading(el) and len(el.text_content()) <= BANNER_MAX_CHARS


def _has_heading(el: lxml.html.HtmlElement) -> bool:
    return any(isinstance(d.tag, str) and d.tag in _HEADING_TAGS for d in el.iterdescendants())


def _action_label(el: lxml.html.HtmlElement) -> str:
    text = " ".join(el.text_content().split())
    return text or el.get("aria-label") or el.get("value") or ""


def _cookie_notices(root: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """Cookie banners with no recognised name: the small element around consent buttons."""
    found = []
    for control in root.iter("button", "a", "input"):
        if not _CONSENT_ACTION.fullmatch(_action_label(control)):
            continue
        for ancestor in control.iterancestors():
            if ancestor.tag in ("body", "html", "main", "article"):
                break
            text = ancestor.text_content()
            if len(text) > BANNER_MAX_CHARS or _has_heading(ancestor):
                break
            if _COOKIE_WORD.search(text) and len(text.split()) >= _BANNER_MIN_WORDS:
                found.append(ancestor)
                break
    return found


def _disclosure_panels(root: lxml.html.HtmlElement) -> set[lxml.html.HtmlElement]:
    """Elements a reader opens with a click: targets of aria-controls, named tab panels,
    hidden="until-found" (found by the browser's find-in-page), and elements named as an
    accordion's or FAQ's panel (scripts that toggle inline styles name them so)."""
    ids = {i for el in root.xpath(_CONTROLLING) for i in (el.get("aria-controls") or "").split()}
    return {
        el
        for el in root.xpath(_PANEL_CANDIDATES)
        if (el.get("id") and el.get("id") in ids)
        or el.get("role") == "tabpanel"
        or el.get("hidden") == "until-found"
        or _PANEL_NAME.search(f"{el.get('class') or ''} {el.get('id') or ''}")
    }


# Elements that can be a panel (only they carry the attributes the test reads), and those that
# control one: selected in C, since a Python pass over every element of a 400 KB page cost
# more than the tests themselves.
_CONTROLLING = "descendant-or-self::*[@aria-controls]"
_PANEL_CANDIDATES = "descendant-or-self::*[@id or @class or @role or @hidden]"

# Each rule for hidden markup: the elements it can match (the attribute it reads), and the test.
_HIDDEN_RULES: tuple[tuple[str, Callable[[lxml.html.HtmlElement], bool]], ...] = (
    ("descendant-or-self::*[@hidden]", lambda el: el.get("hidden") is not None),
    ("descendant-or-self::*[@aria-hidden]", lambda el: el.get("aria-hidden") == "true"),
    (
        "descendant-or-self::*[@style]",
        lambda el: bool(_HIDDEN_STYLE.search(el.get("style") or "")),
    ),
)
