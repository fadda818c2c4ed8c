"""Atom feeds: valid against RFC 4287's schema, strict about what the schema cannot say.

tests/fixtures/atom/atom.rng is RFC 4287 Appendix B transcribed into RELAX NG's XML syntax
(lxml's RelaxNG reads that syntax only); the rules no schema can express — an author for
every entry, unique ids, RFC 3339 dates, links that resolve inside the site — are checked
here in Python.
"""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import datetime
from pathlib import Path, PurePosixPath

import pytest
from lxml import etree
from test_reports_render import at, hostile_context, make_context

from reports.history import ChangeEntry, SiteHistory, SourceTimeline, Version
from reports.site import render_site

ATOM = "{http://www.w3.org/2005/Atom}"
SCHEMA = etree.RelaxNG(etree.parse(str(Path(__file__).parent / "fixtures/atom/atom.rng")))
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)\Z")


def entry(change_id: int, **overrides: object) -> ChangeEntry:
    """A history entry of the Mistral API tool."""
    fields: dict[str, object] = {
        "id": change_id,
        "tool_id": "mistral-api",
        "tool_name": "Mistral API",
        "source_id": "privacy-policy",
        "url": "https://legal.mistral.ai/terms/privacy-policy",
        "detected_at": at(8),
        "significant": True,
        "technical": False,
        "reason": "Substantive wording changed.",
        "added": 1,
        "removed": 1,
        "old_snapshot_id": change_id * 10,
        "new_snapshot_id": change_id * 10 + 1,
        "flags": (),
    }
    fields.update(overrides)
    fields.setdefault("tier", "substantive" if fields["significant"] else "noise")
    return ChangeEntry(**fields)  # type: ignore[arg-type]


def make_history() -> SiteHistory:
    """The report's changes plus older ones: an alert without a page, noise, a re-extraction."""
    dpa_change = entry(5, detected_at=at(2), source_id="dpa", flags=("dpa",))
    versions = (
        Version(
            snapshot_id=50,
            taken_at=at(1),
            technical=False,
            raw_sha="a" * 64,
            text_sha="b" * 64,
            content_type="text/html",
            final_url=None,
            change=None,
        ),
        Version(
            snapshot_id=51,
            taken_at=at(2),
            technical=False,
            raw_sha="c" * 64,
            text_sha="d" * 64,
            content_type="application/pdf",
            final_url=None,
            change=dpa_change,
        ),
    )
    dpa = SourceTimeline(
        tool_id="mistral-api",
        tool_name="Mistral API",
        source_id="dpa",
        url="https://x.example/dpa",
        versions=versions,
    )
    return SiteHistory(
        (dpa,),
        (
            dpa_change,
            entry(6, detected_at=at(3), significant=False, reason="Only a date changed."),
            entry(7, detected_at=at(4), technical=True, reason="Re-extracted."),
            entry(12, flags=("no-training",)),
            entry(13, source_id="terms", url="https://legal.mistral.ai/terms"),
            entry(14, significant=False, source_id="help-training"),
        ),
    )


def feeds(site: dict[str, str]) -> dict[str, etree._Element]:
    """Every feed of a rendered site, parsed."""
    return {
        path: etree.fromstring(text.encode("utf-8"))
        for path, text in site.items()
        if path.endswith(".atom")
    }


def entry_ids(feed: etree._Element) -> list[int]:
    """The change ids of a feed's entries, from their titles."""
    titles = [item.findtext(f"{ATOM}title") or "" for item in feed.iter(f"{ATOM}entry")]
    return [int(re.findall(r": change (\d+)", title)[0]) for title in titles]


def check_feed(path: str, feed: etree._Element, site: dict[str, str]) -> None:
    """Schema-valid, and strict where RFC 4287 says MUST but the schema cannot."""
    assert SCHEMA.validate(feed), f"{path}: {SCHEMA.error_log}"
    feed_has_author = feed.find(f"{ATOM}author/{ATOM}name") is not None
    ids = [feed.findtext(f"{ATOM}id")]
    for element in feed.iter(f"{ATOM}updated", f"{ATOM}published"):
        assert RFC3339.match(element.text or ""), (path, element.text)
        datetime.fromisoformat(element.text or "")
    for item in feed.iter(f"{ATOM}entry"):
        ids.append(item.findtext(f"{ATOM}id"))
        assert feed_has_author or item.find(f"{ATOM}author") is not None, path
        assert (
            item.find(f"{ATOM}content") is not None
            or item.find(f"{ATOM}link[@rel='alternate']") is not None
        ), path
        for link in item.iter(f"{ATOM}link"):
            href = link.get("href", "")
            if not href.startswith("https://"):  # relative: must land on a page of the site
                target = PurePosixPath(path).parent / href
                assert str(PurePosixPath(*_normalize(target.parts))) in site, (path, href)
    assert all(i and i.startswith(("urn:uuid:", "tag:")) for i in ids), ids
    assert len(ids) == len(set(ids)), f"{path}: duplicate ids"


def _normalize(parts: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if part == "..":
            out.pop()
        elif part != ".":
            out.append(part)
    return out


def test_every_feed_is_valid_atom() -> None:
    site = render_site(make_context(), make_history())
    parsed = feeds(site)
    assert {"feeds/all.atom", "feeds/tool-mistral-api.atom"} <= set(parsed)
    assert "feeds/criterion-no-training.atom" in parsed
    for path, feed in parsed.items():
        check_feed(path, feed, site)


def test_feeds_leave_out_noise_and_technical_changes() -> None:
    parsed = feeds(render_site(make_context(), make_history()))
    assert entry_ids(parsed["feeds/all.atom"]) == [13, 12, 5]  # newest first; 6, 7, 14 left out
    assert entry_ids(parsed["feeds/tool-mistral-api.atom"]) == [13, 12, 5]
    assert entry_ids(parsed["feeds/criterion-no-training.atom"]) == [12]
    assert entry_ids(parsed["feeds/criterion-eu-saas.atom"]) == []


def test_entry_links_to_its_change_page_or_else_the_source_timeline() -> None:
    feed = feeds(render_site(make_context(), make_history()))["feeds/all.atom"]
    hrefs = [
        [link.get("href") for link in item.iter(f"{ATOM}link") if link.get("rel") == "alternate"]
        for item in feed.iter(f"{ATOM}entry")
    ]
    assert hrefs == [
        ["../changes/13.html"],
        ["../changes/12.html"],
        ["../sources/mistral-api/dpa.html"],
    ]


def test_ids_are_stable_from_one_report_to_the_next() -> None:
    first = feeds(render_site(make_context(), make_history()))["feeds/all.atom"]
    later = dataclasses.replace(make_context(), generated_at=at(20))
    second = feeds(render_site(later, make_history()))["feeds/all.atom"]
    ids = [e.findtext(f"{ATOM}id") for e in first.iter(f"{ATOM}entry")]
    assert ids == [e.findtext(f"{ATOM}id") for e in second.iter(f"{ATOM}entry")]
    assert first.findtext(f"{ATOM}id") == second.findtext(f"{ATOM}id")


def test_hostile_page_text_is_escaped_in_feeds() -> None:
    site = render_site(hostile_context())
    for path, feed in feeds(site).items():
        check_feed(path, feed, site)
        for item in feed.iter(f"{ATOM}entry"):
            content = item.findtext(f"{ATOM}content") or ""  # the HTML, once unescaped
            assert "<script" not in content.lower() and "<img" not in content.lower()
            assert 'href="javascript:' not in content
            assert "\u202e" not in content and "\u202e" not in (item.findtext(f"{ATOM}title"))
    all_feed = site["feeds/all.atom"]
    # the page's "<b>x</b>" reaches the feed reader as text, not as bold markup
    assert "<p>&lt;b&gt;x&lt;/b&gt; " in html.unescape(all_feed.split("<content", 1)[1])


@pytest.mark.parametrize(
    ("needle", "replacement"),
    [
        ("+00:00</updated>", "</updated>"),  # a date without a time zone
        ("<title>", "<subtitle>"),  # no title
        ("<id>urn:uuid:", "<id>"),  # a relative id
    ],
)
def test_schema_rejects_broken_feeds(needle: str, replacement: str) -> None:
    text = render_site(make_context(), make_history())["feeds/all.atom"]
    broken = text.replace(needle, replacement, 1)
    if replacement == "<subtitle>":
        broken = broken.replace("</title>", "</subtitle>", 1)
    assert broken != text
    assert not SCHEMA.validate(etree.fromstring(broken.encode("utf-8")))
