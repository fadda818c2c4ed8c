"""The chrome rules' element selection (XPath in C) picks what a pass over every element
picks: disclosure panels and hidden markup, on pages that exercise every attribute the rules
read (issue 15: extraction of a 400 KB page)."""

from __future__ import annotations

import lxml.html  # type: ignore[import-untyped]
import pytest

from crawler.extract import chrome

PAGES = [
    # Named panels in any case, a panel named by id only, aria-controls targets (several ids),
    # a tab panel by role, hidden="until-found", and look-alikes that are no panel.
    """<html><body>
    <div class="Accordion-Body">a</div><div id="FAQ-answer-3">b</div>
    <button aria-controls="p1 p2">q</button><section id="p1">c</section><div id="p2">d</div>
    <div role="tabpanel">e</div><div hidden="until-found">f</div>
    <div class="tabular">g</div><div class="collapse">h</div><div id="p3">i</div>
    <div class="tab-pane active" id="x">j</div><p class="">k</p><span>l</span>
    </body></html>""",
    # Hidden markup: the attribute present, empty, in upper case, on the root's children,
    # and styles that hide and do not hide.
    """<html><body hidden>
    <p hidden="">a</p><p aria-hidden="true">b</p><p aria-hidden="false">c</p>
    <p style="DISPLAY : none">d</p><p style="color: red">e</p><p style="">f</p>
    <div aria-hidden="true"><p hidden>nested</p></div><p HIDDEN>g</p>
    </body></html>""",
]


def _reference_panels(root: lxml.html.HtmlElement) -> set[lxml.html.HtmlElement]:
    """The definition, over every element (the code before the XPath selection)."""
    ids = {i for el in root.iter() for i in (el.get("aria-controls") or "").split()}
    return {
        el
        for el in root.iter()
        if (el.get("id") and el.get("id") in ids)
        or el.get("role") == "tabpanel"
        or el.get("hidden") == "until-found"
        or chrome._PANEL_NAME.search(f"{el.get('class') or ''} {el.get('id') or ''}")
    }


@pytest.mark.parametrize("page", PAGES)
def test_panels_are_those_of_a_pass_over_every_element(page: str) -> None:
    root = lxml.html.document_fromstring(page)
    found = chrome._disclosure_panels(root)
    assert found == _reference_panels(root)
    assert bool(found) is ("panel" in page.lower() or "tab" in page)  # the first page has some


@pytest.mark.parametrize("page", PAGES)
def test_hidden_rules_select_what_a_pass_over_every_element_selects(page: str) -> None:
    root = lxml.html.document_fromstring(page)
    matched = 0
    for candidates, rule in chrome._HIDDEN_RULES:
        everywhere = [el for el in root.iter() if isinstance(el.tag, str) and rule(el)]
        selected = [el for el in root.xpath(candidates) if rule(el)]
        assert selected == everywhere  # same elements, same (document) order
        matched += len(selected)
    assert matched


def test_banner_hints_match_as_the_substring_test() -> None:
    names = ["x onetrust-banner", "cookie", "my-cc-bar", "Privacy", "plain card", "", "gdpr"]
    for name in names:
        expected = any(hint in name.lower() for hint in chrome._BANNER_HINTS)
        assert (chrome._BANNER_HINT.search(name.lower()) is not None) is expected
