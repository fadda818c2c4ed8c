"""Minor changes, suppressed changes, evidence never found and citation gaps in every report:
the digest (Markdown, plain-text and HTML email, JSON) and the reviewer site."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from datetime import timedelta

import pytest

from reports import ReportContext
from reports.digest import Digest, DigestScope, build_digest
from reports.digest_json import render_json
from reports.history import EMPTY_HISTORY, SiteHistory, SuppressedChanges
from reports.mail import render_html, render_text, subject
from reports.site import render_site
from tests.test_reports_render import (
    at,
    hostile_context,
    make_change,
    make_context,
    make_minor,
)

SITE = "https://reviews.example.org/citewatch/"
MINOR_REASON = "only punctuation or letter case changed (a minor edit)"


def scope_of(*change_ids: int) -> DigestScope:
    """A digest scope with these changes new and nothing else."""
    return DigestScope(
        changes=frozenset(change_ids), reasons=frozenset(), broken=frozenset(), noise=()
    )


def markdown(digest: Digest) -> str:
    """The digest as report.md renders it."""
    from reports.render import environment

    return environment().get_template("report.md").render(digest=digest)


# --- minor changes -----------------------------------------------------------------------------


def test_a_minor_change_alone_raises_nothing_and_is_never_emailed() -> None:
    digest = build_digest(make_context(), scope_of(18), SITE)
    assert (digest.minor_count, digest.change_count, digest.flag_count) == (1, 0, 0)
    assert not digest.raised  # a minor edit never causes a message
    assert subject(digest) == "[citewatch] nothing new"
    for mail in (render_text(digest), render_html(digest)):
        assert "1 minor change(s) not alerted" in mail  # a count, nothing more
        assert MINOR_REASON not in mail and "help-certifications" not in mail
        assert "changes/18.html" not in mail
    assert "noise-only" in render_text(digest)  # noise keeps its own count


@pytest.mark.parametrize(
    ("render", "expected"),
    [
        (markdown, "### Minor changes (listed, not alerted)"),
        (markdown, f"[full diff]({SITE}changes/18.html): {MINOR_REASON}"),
        (markdown, "- 1 minor change(s) listed, not alerted"),
        (render_json, '"minor_changes": 1'),
        (render_json, '"tier": "minor"'),
        (render_json, f'"diff": "{SITE}changes/18.html"'),
    ],
)
def test_a_minor_change_is_listed_in_the_digest(
    render: Callable[[Digest], str], expected: str
) -> None:
    assert expected in render(build_digest(make_context(), scope_of(18), SITE))


def test_minor_changes_are_not_counted_as_noise() -> None:
    ctx = make_context()
    scope = DigestScope.everything(ctx)
    assert dict(scope.noise) == {"mistral-api": 1}  # change 14 only, not the minor 18
    assert [c.id for c in ctx.minor_changes] == [18] and [c.id for c in ctx.noise_changes] == [14]


def test_the_site_lists_minor_changes_with_their_reason_and_page() -> None:
    site = render_site(make_context())
    index = site["index.html"]
    minor = index[index.index('id="minor"') : index.index('id="failures"')]
    assert '<a href="changes/18.html">Change 18</a>' in minor and MINOR_REASON in minor
    assert "1 minor change(s) listed, not alerted" in index
    assert (
        "<strong>minor edit</strong> (listed, never emailed or flagged)" in site["changes/18.html"]
    )


def test_a_tier_that_contradicts_significant_is_refused() -> None:
    with pytest.raises(ValueError, match="tier 'minor'"):
        make_change(1, "a", "b", significant=True, tier="minor")


# --- the suppressed-changes page ---------------------------------------------------------------


def quiet_history(noise: int, minor: int, total: int | None = None) -> SiteHistory:
    """A history whose newest suppressed changes are `noise` noise and `minor` minor ones,
    alternating, newest first (ids from 100 down)."""
    changes = []
    for i in range(noise + minor):
        kind = "minor" if i % 2 and minor else "noise"
        minor -= kind == "minor"
        base = (
            make_minor(100 - i)
            if kind == "minor"
            else make_change(100 - i, "Updated 3 days ago", "Updated 4 days ago", significant=False)
        )
        reason = MINOR_REASON if kind == "minor" else f"only a relative date changed ({i})"
        changes.append(
            dataclasses.replace(base, detected_at=at(20) - timedelta(hours=i), reason=reason)
        )
    count = len(changes)
    return dataclasses.replace(
        EMPTY_HISTORY, suppressed=SuppressedChanges(tuple(changes), total or count)
    )


def rows(page: str) -> list[str]:
    """The table rows of a page's body."""
    return re.findall(r"<tr>\n<th scope=\"row\">.*?</tr>", page, re.S)


@pytest.mark.parametrize(
    ("noise", "minor", "total", "more"),
    [(0, 0, None, None), (2, 1, None, None), (3, 2, 5, None), (2, 2, 600, 596)],
)
def test_suppressed_page_lists_noise_and_minor_newest_first_and_is_bounded(
    noise: int, minor: int, total: int | None, more: int | None
) -> None:
    history = quiet_history(noise, minor, total)
    site = render_site(make_context(), history)
    page = site["suppressed.html"]
    found = rows(page)
    assert len(found) == noise + minor
    times = [re.search(r'datetime="([^"]+)"', r).group(1) for r in found]  # type: ignore[union-attr]
    assert times == sorted(times, reverse=True)  # newest first
    for row, change in zip(found, history.suppressed.changes, strict=True):
        assert f'<span class="tag">{change.tier}</span>' in row
        assert change.reason in row and f'href="changes/{change.id}.html"' in row
        assert f"changes/{change.id}.html" in site  # every listed change has its page
    if more is None:
        assert "older one(s)" not in page
    else:
        assert f"<strong>{more} older one(s)</strong>" in page and "of 600 suppressed" in page
    if not found:
        assert "citewatch has kept no change quiet" in page
    assert 'href="suppressed.html"' in site["index.html"]  # linked from the index


def test_suppressed_changes_link_from_their_timeline() -> None:
    history = quiet_history(1, 0)
    timeline_only = dataclasses.replace(history, timelines=())
    change_page = render_site(make_context(), timeline_only)["changes/100.html"]
    assert "<strong>noise only</strong> (history only)" in change_page


# --- evidence never found ----------------------------------------------------------------------

QUOTE = "Zero Data Retention is avaliable upon request"
CLOSEST = "Zero Data Retention for Mistral AI Studio is available only upon request."


@pytest.mark.parametrize(
    ("render", "heading"),
    [
        (markdown, "### Evidence never found — these ratings are not watched by their quote"),
        (render_text, "NOT WATCHED — evidence never found"),
        (render_html, "Evidence never found — these ratings are not watched by their quote"),
        (render_json, '"evidence_never_found": ['),
    ],
)
def test_evidence_never_found_is_in_every_digest(
    render: Callable[[Digest], str], heading: str
) -> None:
    digest = build_digest(make_context(), scope_of(), SITE)  # nothing new: still shown
    assert digest.unwatched_count == 1 and not digest.raised
    text = render(digest)
    assert heading in text and QUOTE in text and CLOSEST in text and "86" in text


def test_evidence_never_found_is_loud_on_the_site() -> None:
    site = render_site(make_context())
    index, tool = site["index.html"], site["tools/mistral-api.html"]
    # right after the flags, before other changes; counted at the top
    assert index.index('id="flags"') < index.index('id="unwatched"') < index.index('id="changes"')
    assert '<a href="#unwatched"><strong>1 evidence quote(s) never found' in index
    assert '<section class="unwatched"' in index and '<section class="unwatched"' in tool
    assert tool.index('id="unwatched"') < tool.index('id="ratings"')  # first on the tool page
    evidence = tool[tool.index('id="evidence"') :]
    assert "<strong>never found</strong> — not watched" in evidence
    assert f"closest passage (86% similar): “{CLOSEST}”" in evidence


def test_no_unwatched_section_when_every_quote_was_found() -> None:
    ctx = dataclasses.replace(make_context(), unwatched=())
    site = render_site(ctx)
    assert 'id="unwatched"' not in site["index.html"] + site["tools/mistral-api.html"]
    digest = build_digest(ctx, scope_of(13), SITE)
    assert "NOT WATCHED" not in render_text(digest) and "never found" not in markdown(digest)


# --- citation gaps -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("render", "expected"),
    [
        (markdown, "may concern **No training on customer data** (this source is not cited by it)"),
        (markdown, "### Citation gaps (suggestions, not flags)"),
        (render_text, "May concern No training on customer data (this source is not cited by it)"),
        (render_text, "Matched terms: train*"),
        (render_html, "Suggestion: may concern <strong>No training on customer data</strong>"),
        (render_json, '"citation_gaps": 1'),
    ],
)
def test_a_citation_gap_is_a_suggestion_in_the_digest(
    render: Callable[[Digest], str], expected: str
) -> None:
    digest = build_digest(make_context(), scope_of(13), SITE)
    assert expected in render(digest)
    assert "Customer content is never used to train models." in render(digest)


def test_a_citation_gap_is_not_a_flag() -> None:
    ctx = make_context()
    digest = build_digest(ctx, scope_of(13), SITE)
    assert (digest.suggestion_count, digest.flag_count) == (1, 0)
    assert digest.raised  # change 13 is significant: that, not the suggestion, raises
    (tool,) = digest.tools
    alone = dataclasses.replace(digest, tools=(dataclasses.replace(tool, changes=()),))
    assert alone.suggestion_count == 1 and not alone.raised
    data = json.loads(render_json(digest))
    assert data["counts"]["ratings_to_review"] == 0
    assert data["tools"][0]["ratings_to_review"] == []
    # the open flags are those of the report: no gap adds one
    assert [f.criterion_id for f in ctx.open_flags] == ["no-training"]
    assert all(r.change_id != 13 for f in ctx.open_flags for r in f.reasons)


def test_a_citation_gap_on_the_site_is_marked_as_a_suggestion() -> None:
    site = render_site(make_context())
    for page in ("changes/13.html", "tools/mistral-api.html"):
        html = site[page]
        gaps = html[html.index('id="gaps"') :]
        assert '<article class="suggestion" id="gap-1">' in gaps
        assert "May concern No training on customer data (this source is not cited by it)" in gaps
        assert "<strong>not a flag</strong>" in gaps and "Matched terms: train*" in gaps
        assert "<ins>Customer content is never used to train models.</ins>" in gaps
    assert 'href="../changes/13.html">change 13</a>' in site["tools/mistral-api.html"]
    index = site["index.html"]
    flags = index[index.index('id="flags"') : index.index('id="unwatched"')]
    assert "suggestion" not in flags  # never among the flags
    assert 'id="gaps"' not in site["changes/12.html"]  # change 12 raised none


# --- hostile page text in the new sections -----------------------------------------------------


def hostile_digest() -> Digest:
    ctx: ReportContext = hostile_context()
    return build_digest(ctx, DigestScope.everything(ctx), SITE)


def test_hostile_text_in_new_sections_is_escaped_on_the_site() -> None:
    site = render_site(hostile_context())
    index, tool = site["index.html"], site["tools/mistral-api.html"]
    assert "“&lt;script&gt;alert(3)&lt;/script&gt;”" in index  # the quote, as text
    assert "&lt;img src=x onerror=alert(4)&gt; \ufffdgnp.exe" in index  # closest passage
    assert "&lt;b&gt;label&lt;/b&gt;" in tool and "&lt;i&gt;src&lt;/i&gt;" in tool
    gap = site["changes/12.html"]
    assert "May concern &lt;script&gt;gap&lt;/script&gt;" in gap
    assert "<ins>&lt;img src=x onerror=alert(5)&gt;\ufffd</ins>" in gap
    assert "Matched terms: &lt;b&gt;term&lt;/b&gt;" in gap
    assert "&lt;b&gt;minor&lt;/b&gt; \ufffd" in index  # a minor change's reason


def test_hostile_text_in_new_sections_is_inert_in_the_digest() -> None:
    digest = hostile_digest()
    md, html, text = markdown(digest), render_html(digest), render_text(digest)
    assert "“&lt;script&gt;alert(3)&lt;/script&gt;”" in md
    assert "may concern **&lt;script&gt;gap&lt;/script&gt;**" in md
    assert "\\<b\\>" not in md and "<b>" not in md and "<img" not in md
    assert "<q>&lt;script&gt;alert(3)&lt;/script&gt;</q>" in html
    assert "<strong>&lt;script&gt;gap&lt;/script&gt;</strong>" in html
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert '"<img src=x onerror=alert(4)> \ufffdgnp.exe"' in text  # inert: plain text
    for rendered in (md, html, text, render_json(digest)):
        assert "\u202e" not in rendered
