"""What is not the document, table-driven on small pages written for each class of page seen
on help centres and legal hubs: collapsed FAQ answers, rotating "Related articles", footers
outside <footer>, cookie notices without a known name, icon fonts, link hints, glued dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawler.extract.document import extract
from diffs.significance import assess
from diffs.text import NAV_MARK, diff_blocks

BODY = (
    "<p>We keep your chats for thirty days to monitor abuse, then delete them for good.</p>"
    "<p>Customers with legitimate reasons can ask for zero data retention on the API.</p>"
)


def blocks(html: str) -> tuple[str, ...]:
    page = f"<html><body>{html}</body></html>".encode()
    return extract(page, content_type="text/html", url="https://example.test/p").blocks


FAQ = (
    "<h1>Business FAQ</h1>" + BODY + '<div><button type="button" aria-expanded="false" '
    'aria-controls="a1"><h3>Who can view conversations?</h3><svg></svg></button>'
    '<div id="a1" aria-hidden="true" class="grid opacity-0"><p>Workspace admins can view, '
    "export and delete end user conversations.</p></div></div>"
    '<span aria-hidden="true">Decorative duplicate</span>'
)

# (name, html, text that must stand in the blocks, text that must not)
CASES = [
    (
        "collapsed FAQ answer and its question",
        FAQ,
        ["### Who can view conversations?", "Workspace admins can view, export and delete"],
        ["Decorative duplicate"],
    ),
    (
        "panel found by find-in-page",
        "<h1>T</h1>" + BODY + '<div hidden="until-found">'
        "<p>Retention is thirty days for all plans.</p></div><div hidden><p>Old teaser</p></div>",
        ["Retention is thirty days for all plans."],
        ["Old teaser"],
    ),
    (
        "hidden tab panel",
        "<h1>T</h1>" + BODY + '<div role="tabpanel" hidden>'
        "<p>Enterprise data is stored in the EU.</p></div>",
        ["Enterprise data is stored in the EU."],
        [],
    ),
    (
        "a hiding rule that would remove most of the page is not applied",
        '<div style="display:none"><h1>Privacy</h1>' + BODY * 3 + "</div><p>Loading the page.</p>",
        ["# Privacy", "We keep your chats"],
        [],
    ),
    (
        "an accordion toggled by inline styles",
        "<h1>FAQ</h1>"
        + BODY
        + '<h3 class="faq-question">Where is data stored?</h3>'
        + '<div class="faq-answer" style="display:none"><p>In Frankfurt, on our own servers.</p>'
        + '</div><div style="display:none"><p>Stale teaser</p></div>',
        ["In Frankfurt, on our own servers."],
        ["Stale teaser"],
    ),
    (
        "a cookie notice with other buttons",
        "<h1>T</h1>"
        + BODY
        + "<div><p>This site uses cookies to measure traffic and to show you relevant "
        + "offers.</p><button>Only necessary</button><button>Manage settings</button></div>",
        [],
        ["measure traffic"],
    ),
    (
        "menu toggle buttons are not text",
        "<h1>T</h1>" + BODY + '<button aria-expanded="false">Menu</button><button>Copy</button>',
        [],
        ["Menu", "Copy"],
    ),
    (
        "cookie notice without a known name",
        "<h1>T</h1>" + BODY + '<div class="fixed bottom-0"><p><strong>We use cookies</strong> and '
        "similar technologies to deliver and improve our services.</p><button>Reject all</button>"
        "<button>Accept all</button></div>",
        [],
        ["We use cookies", "Accept all"],
    ),
    (
        "a cookie policy's own prose stays",
        "<h1>Cookie Policy</h1><p>We use cookies to keep you "
        "signed in. Click Accept all in the banner to allow analytics cookies.</p>",
        ["Click Accept all in the banner"],
        [],
    ),
    (
        "link hints for screen readers",
        "<h1>T</h1>" + BODY + '<p>See the <a href="/f">form'
        '<span class="sr-only">(opens in a new window)</span></a>.</p>',
        ["See the form."],
        ["opens in a new window"],
    ),
    (
        "icon-font names",
        "<h1>T</h1>" + BODY + '<p><i class="material-icons">arrow_forward</i>'
        'Contact <span role="img"><span data-sr-only="true">fa-envelope alpaca-fa-regular</span>'
        "</span>trust@example.test</p><p>You can opt-out at any time.</p>",
        ["Contact trust@example.test", "You can opt-out at any time."],
        ["arrow_forward", "fa-envelope"],
    ),
    (
        "a year glued to the next element",
        "<h1>T</h1><p><span>September 15, 2025</span><a href="
        '"/v1">Previous Version</a></p><p><span>Pri</span><span>vacy</span> matters.</p>' + BODY,
        ["September 15, 2025 Previous Version", "Privacy matters."],
        [],
    ),
]


@pytest.mark.parametrize(("name", "html", "kept", "dropped"), CASES, ids=[c[0] for c in CASES])
def test_what_is_text(name: str, html: str, kept: list[str], dropped: list[str]) -> None:
    text = "\n".join(blocks(html))
    for needle in kept:
        assert needle in text, f"{name}: {needle!r} missing from\n{text}"
    for needle in dropped:
        assert needle not in text, f"{name}: {needle!r} kept in\n{text}"


RELATED = (
    '<section><h2>Related articles</h2><ul><li><a href="/a"><div>{a}</div><div>How credits '
    'work</div></a></li><li><a href="/b"><div>{b}</div></a></li><li><a href="/c"><div>{c}'
    "</div></a></li></ul></section><section><h2>Was this article helpful?</h2></section>"
)
FOOTER = (
    '<div class="border-t"><div><span>Products</span><div><a href="/g">Grok</a></div><div>'
    '<a href="/api">API</a></div></div><div><span>Company</span><div><a href="/c">Careers</a>'
    '</div><div><a href="/n">News</a></div></div><p>© 2026 Example Corp</p></div>'
)
BROWSERS = (
    '<ul><li><a href="https://c.test">Chrome help</a></li><li><a href="https://f.test">Firefox '
    'help</a></li><li><a href="https://s.test">Safari help</a></li></ul>'
)


@pytest.mark.parametrize(
    ("name", "html", "marked", "unmarked"),
    [
        (
            "related articles at the end",
            "<h1>T</h1>" + BODY + RELATED.format(a="Using credits", b="MCP servers", c="Rate card"),
            [
                "## Related articles",
                "- Using credits",
                "MCP servers",
                "## Was this article helpful?",
            ],
            ["We keep your chats"],
        ),
        (
            "a footer of link columns outside <footer>",
            "<h1>T</h1>" + BODY + FOOTER,
            ["Products", "Grok", "Careers", "© 2026 Example Corp"],
            ["We keep your chats"],
        ),
        (
            "links in the middle of the document stay the document",
            "<h1>Cookies</h1>"
            + BODY
            + "<p>To block cookies, see your browser's help:</p>"
            + BROWSERS
            + "<p>Contact us to ask what we store and for how long we store it.</p>",
            [],
            ["Chrome help", "Safari help"],
        ),
        (
            "a list of links closing the <main> document is the document's",
            "<main><h1>Privacy</h1>"
            + BODY
            + "<h2>14. Useful resources</h2>"
            + BROWSERS
            + "</main>"
            + FOOTER,
            ["Products", "Careers"],
            ["Useful resources", "Chrome help"],
        ),
        (
            "related articles inside <article>",
            "<article><h1>FAQ</h1>"
            + BODY
            + RELATED.format(a="Using credits", b="MCP servers", c="Rate card")
            + "</article>",
            ["## Related articles", "MCP servers"],
            ["We keep your chats"],
        ),
        (
            "contact addresses at the end are the document's",
            "<h1>Privacy</h1>"
            + BODY
            + "<p>Contact</p><ul>"
            + "".join(
                f'<li><a href="mailto:{w}@example.test">{w}@example.test</a></li>'
                for w in ("privacy", "dpo", "legal")
            )
            + "</ul>",
            [],
            ["dpo@example.test", "legal@example.test"],
        ),
        (
            "a page that is a list of links is the document",
            "<h1>Legal</h1><ul>"
            + "".join(f'<li><a href="/{i}">Policy {i}</a></li>' for i in range(8))
            + "</ul>",
            [],
            ["Policy 3"],
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 60 else "",
)
def test_navigation_runs(name: str, html: str, marked: list[str], unmarked: list[str]) -> None:
    got = blocks(html)
    for needle in marked:
        hits = [b for b in got if needle in b]
        assert hits and all(b.startswith(NAV_MARK) for b in hits), f"{name}: {needle}: {got}"
    for needle in unmarked:
        hits = [b for b in got if needle in b]
        assert hits and not any(b.startswith(NAV_MARK) for b in hits), f"{name}: {needle}: {got}"


AT = datetime(2026, 5, 18, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "old", "new", "tier"),
    [
        (
            "related articles rotate",
            "<h1>T</h1>" + BODY + RELATED.format(a="Using credits", b="MCP servers", c="Rate card"),
            "<h1>T</h1>" + BODY + RELATED.format(a="Retiring models", b="Rate card", c="Codex"),
            "noise",
        ),
        (
            "a collapsed FAQ answer is rewritten",
            FAQ,
            FAQ.replace("view, export and delete", "only view"),
            "substantive",
        ),
        (
            "a footer menu changes",
            "<h1>T</h1>" + BODY + FOOTER,
            "<h1>T</h1>" + BODY + FOOTER.replace("News", "Help Center"),
            "noise",
        ),
        (
            "a dated line above the title changes",
            "<p>Updated: June 4, 2025</p><h1>T</h1>" + BODY,
            "<p>Updated: January 8, 2026</p><h1>T</h1>" + BODY,
            "substantive",
        ),
        (
            "a menu above the title changes",
            "<p>Blog</p><h1>T</h1>" + BODY,
            "<p>Try it free</p><h1>T</h1>" + BODY,
            "noise",
        ),
        (
            "a glued date flips its format",
            "<h1>T</h1><p><span>September 15, 2025</span><a href='/v'>Previous Version</a></p>"
            + BODY,
            "<h1>T</h1><p><span>15 September 2025</span><a href='/v'>Previous Version</a></p>"
            + BODY,
            "noise",
        ),
        (
            "a relative update date becomes absolute",
            "<h1>T</h1><p>Updated over a month ago</p>" + BODY,
            "<h1>T</h1><p>Updated March 16, 2026</p>" + BODY,
            "noise",
        ),
        (
            "a cookie notice's wording changes",
            "<h1>T</h1>" + BODY + "<div><p>We use cookies to run the site and for analytics.</p>"
            "<button>Accept all</button></div>",
            "<h1>T</h1>" + BODY + "<div><p>We and partners use cookies for ads and analytics.</p>"
            "<button>Accept all</button></div>",
            "noise",
        ),
        (
            "a pager moves to page two",
            "<h1>T</h1>" + BODY + "<p>Showing 1-10 of 14 results</p>",
            "<h1>T</h1>" + BODY + "<p>Showing 11-14 of 14 results</p>",
            "noise",
        ),
        (
            "a pager's total grows",
            "<h1>T</h1>" + BODY + "<p>Showing 1-10 of 14 results</p>",
            "<h1>T</h1>" + BODY + "<p>Showing 1-10 of 15 results</p>",
            "substantive",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 60 else "",
)
def test_page_changes_end_to_end(name: str, old: str, new: str, tier: str) -> None:
    verdict = assess(diff_blocks(blocks(old), blocks(new)), AT, AT + timedelta(days=1))
    assert verdict.tier == tier, f"{name}: {verdict}"
