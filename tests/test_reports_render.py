"""Report rendering: golden files, hostile page content, strict templates.

Golden files live in tests/fixtures/reports/. After an intended change to the templates,
regenerate them and review the diff:

    CITEWATCH_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_reports_render.py
"""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from diffs.text import diff_texts
from reports import (
    ChangedSentence,
    FlagReason,
    RatingState,
    ReportChange,
    ReportContext,
    ReportFailure,
    ReportFlag,
    Resolution,
    ToolSummary,
    render_markdown,
    render_site,
    write_site,
)
from reports.context import ChangeTier, CitationGap, EvidenceState, UnwatchedEvidence
from reports.render import diff_hunks, environment, md, words_html

GOLDEN = Path(__file__).parent / "fixtures" / "reports"
UPDATE = os.environ.get("CITEWATCH_UPDATE_GOLDEN") == "1"

OLD_POLICY = """# Privacy Policy
We process your data to provide the services.
We never use inputs and outputs from Le Chat Pro, Le Chat Team or the API to train our models.
Contact our DPO at privacy@mistral.ai.
"""
NEW_POLICY = """# Privacy Policy
We process your data to provide the services.
We never use inputs and outputs from Le Chat Pro or the API to train our models.
Contact our DPO at privacy@mistral.ai.
"""
OLD_SENTENCE = (
    "We never use inputs and outputs from Le Chat Pro, Le Chat Team or the API to train our models."
)
NEW_SENTENCE = "We never use inputs and outputs from Le Chat Pro or the API to train our models."


def at(day: int, hour: int = 9) -> datetime:
    """A fixed April 2026 timestamp, so renders are deterministic."""
    return datetime(2026, 4, day, hour, 30, tzinfo=UTC)


def make_change(
    change_id: int,
    old: str,
    new: str,
    *,
    source_id: str = "privacy-policy",
    url: str = "https://legal.mistral.ai/terms/privacy-policy",
    significant: bool = True,
    reason: str = "Substantive wording changed.",
    flags: tuple[str, ...] = (),
    tier: ChangeTier | None = None,
) -> ReportChange:
    """A change of the Mistral API tool with a real diff (tier: from `significant`)."""
    diff = diff_texts(old, new)
    return ReportChange(
        id=change_id,
        tool_id="mistral-api",
        tool_name="Mistral API",
        source_id=source_id,
        url=url,
        detected_at=at(8),
        significant=significant,
        tier=tier or ("substantive" if significant else "noise"),
        reason=reason,
        technical=False,
        old_snapshot_id=change_id * 10,
        new_snapshot_id=change_id * 10 + 1,
        diff=diff,
        added_count=len(diff.added_text()),
        removed_count=len(diff.removed_text()),
        flags=flags,
    )


def make_flag(reason: FlagReason, **overrides: object) -> ReportFlag:
    """The open no-training flag, or a variant of it."""
    fields: dict[str, object] = {
        "tool_id": "mistral-api",
        "tool_name": "Mistral API",
        "criterion_id": "no-training",
        "criterion_label": "No training on customer data",
        "rating": "partial",
        "status": "open",
        "severity": "evidence",
        "opened_at": at(8, 10),
        "reasons": (reason,),
        "resolutions": (),
    }
    fields.update(overrides)
    return ReportFlag(**fields)  # type: ignore[arg-type]


GAP_SENTENCE = "Customer content is never used to train models."


def make_minor(change_id: int, **overrides: object) -> ReportChange:
    """A minor edit: a comma added to the help centre's certification page."""
    change = make_change(
        change_id,
        "# Certifications\nOur reports are available upon request through our Trust Center.",
        "# Certifications\nOur reports are available upon request, through our Trust Center.",
        source_id="help-certifications",
        url="https://help.mistral.ai/certifications",
        significant=False,
        tier="minor",
        reason="only punctuation or letter case changed (a minor edit)",
    )
    return dataclasses.replace(change, **overrides)  # type: ignore[arg-type]


def make_unwatched(**overrides: object) -> UnwatchedEvidence:
    """A mistyped data-retention quote of the API docs, never found on its page."""
    fields: dict[str, object] = {
        "tool_id": "mistral-api",
        "tool_name": "Mistral API",
        "criterion_id": "data-retention",
        "criterion_label": "Data retention",
        "source_id": "docs-privacy",
        "quote": "Zero Data Retention is avaliable upon request",
        "closest": "Zero Data Retention for Mistral AI Studio is available only upon request.",
        "score": 86.4,
    }
    fields.update(overrides)
    return UnwatchedEvidence(**fields)  # type: ignore[arg-type]


def make_gap(change_id: int, **overrides: object) -> CitationGap:
    """The terms now speak about training, which the no-training rating does not cite."""
    fields: dict[str, object] = {
        "id": 1,
        "change_id": change_id,
        "tool_id": "mistral-api",
        "tool_name": "Mistral API",
        "criterion_id": "no-training",
        "criterion_label": "No training on customer data",
        "source_id": "terms",
        "sentences": (ChangedSentence.between(None, GAP_SENTENCE),),
        "matched_terms": ("train*",),
    }
    fields.update(overrides)
    return CitationGap(**fields)  # type: ignore[arg-type]


def make_context() -> ReportContext:
    """A tool, an evidence flag about training, a resolved flag, a noise change, a failure."""
    training = make_change(12, OLD_POLICY, NEW_POLICY, flags=("no-training",))
    terms = make_change(
        13,
        "Fees are billed monthly.\nRefunds within 14 days.",
        "Fees are billed monthly.\nRefunds within 30 days.\n" + GAP_SENTENCE,
        source_id="terms",
        url="https://legal.mistral.ai/terms",
    )
    noise = make_change(
        14,
        "Help\nUpdated 3 days ago",
        "Help\nUpdated 4 days ago",
        source_id="help-training",
        url="https://help.mistral.ai/training",
        significant=False,
        reason="Only a relative date changed.",
    )
    reason = FlagReason(
        change_id=12,
        source_id="privacy-policy",
        kind="evidence-altered",
        text="A quoted statement on privacy-policy was reworded.",
        sentences=(ChangedSentence.between(OLD_SENTENCE, NEW_SENTENCE),),
        matched_terms=("train*",),
        old_quote=OLD_SENTENCE,
        new_quote=NEW_SENTENCE,
    )
    resolved = make_flag(
        FlagReason(
            change_id=13,
            source_id="terms",
            kind="topic",
            text="The terms mention hosting.",
            sentences=(),
            matched_terms=("hosting",),
            old_quote=None,
            new_quote=None,
        ),
        criterion_id="eu-saas",
        criterion_label="EU SaaS",
        rating="yes",
        status="resolved",
        severity="topic",
        resolutions=(
            Resolution(
                action="confirm",
                rating=None,
                note="Hosting unchanged.",
                by="editor@example.org",
                at=at(9),
            ),
        ),
    )
    tool = ToolSummary(
        id="mistral-api",
        name="Mistral API",
        vendor="Mistral AI",
        verdict="Suitable for EU SaaS use with a DPA.",
        verdict_needs_review=True,
        ratings=(
            RatingState(
                criterion_id="no-training",
                criterion_label="No training on customer data",
                rating="partial",
                summary="API data is not used for training.",
                flagged=True,
            ),
            RatingState(
                criterion_id="eu-saas",
                criterion_label="EU SaaS",
                rating="yes",
                summary="Hosted in the EU.",
                flagged=False,
            ),
        ),
        evidence=(
            EvidenceState(
                criterion_id="eu-saas",
                criterion_label="EU SaaS",
                source_id="docs-privacy",
                quote="Data is hosted in the EU.",
                wording="Data is hosted in the EU.",
                status="found",
                score=100.0,
                passage="Data is hosted in the EU.",
            ),
            EvidenceState(
                criterion_id="data-retention",
                criterion_label="Data retention",
                source_id="docs-privacy",
                quote="Zero Data Retention is avaliable upon request",
                wording="Zero Data Retention is avaliable upon request",
                status="never-found",
                score=86.4,
                passage="Zero Data Retention for Mistral AI Studio is available only upon request.",
            ),
        ),
    )
    failure = ReportFailure(
        tool_id="mistral-api",
        tool_name="Mistral API",
        source_id="dpa",
        url="https://legal.mistral.ai/terms/dpa",
        at=at(9, 6),
        status=503,
        error="Service Unavailable",
        consecutive=3,
    )
    return ReportContext(
        generated_at=at(10, 6),
        title="citewatch report",
        since=at(1, 0),
        tools=(tool,),
        flags=(make_flag(reason), resolved),
        changes=(training, terms, noise, make_minor(18)),
        failures=(failure,),
        noise_count=5,
        unwatched=(make_unwatched(),),
        suggestions=(make_gap(13),),
    )


def check_golden(name: str, actual: str) -> None:
    """Compare with a golden file, or rewrite it when CITEWATCH_UPDATE_GOLDEN=1."""
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with CITEWATCH_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def test_markdown_matches_golden() -> None:
    check_golden("report.md", render_markdown(make_context()))


@pytest.mark.parametrize(
    ("page", "golden"),
    [
        ("index.html", "index.html"),
        ("changes/12.html", "change-12.html"),
        ("tools/mistral-api.html", "tool-mistral-api.html"),
    ],
)
def test_site_pages_match_golden(page: str, golden: str) -> None:
    check_golden(golden, render_site(make_context())[page])


def test_site_has_one_page_per_change_and_tool() -> None:
    assert sorted(p for p in render_site(make_context()) if p.endswith(".html")) == [
        "changes/12.html",
        "changes/13.html",
        "changes/14.html",
        "changes/18.html",
        "index.html",
        "suppressed.html",
        "tools/mistral-api.html",
    ]


def test_index_orders_flags_then_changes_then_failures_then_noise() -> None:
    index = render_site(make_context())["index.html"]
    sections = ['id="flags"', 'id="changes"', 'id="failures"', 'id="noise"']
    positions = [index.index(section) for section in sections]
    assert positions == sorted(positions)
    assert index.index("5 noise-only change(s) suppressed.</p>") > positions[-1]
    assert '<a href="changes/12.html">change 12</a>' in index
    # the changed sentence shows the removed plan as a deletion
    assert "<del>, Le Chat Team</del>" in index


def test_rendering_is_deterministic() -> None:
    assert render_site(make_context()) == render_site(make_context())
    assert render_markdown(make_context()) == render_markdown(make_context())


HOSTILE = (
    "Intro\n"
    "<script>alert(1)</script>\n"
    "<img src=x onerror=alert(1)>\n"
    "[click](javascript:alert(1)) `code` | cell | **bold**\n"
    "\u202eevil.exe\n" + "A" * 100_000 + "\n"
)


def hostile_context() -> ReportContext:
    """A context whose every page-derived string is hostile."""
    ctx = make_context()
    change = make_change(
        12,
        "Intro\n<script>alert(0)</script>\n",
        HOSTILE,
        url="javascript:alert(1)",
        reason="<b>x</b>",
        flags=("no-training",),
    )
    sentence = ChangedSentence.between("<script>alert(0)</script>", "<img src=x onerror=alert(1)>")
    reason = FlagReason(
        change_id=12,
        source_id="privacy-policy",
        kind="topic",
        text="\u202egnp.exe",
        sentences=(sentence,),
        matched_terms=(),
        old_quote=None,
        new_quote="`x`|y",
    )
    failure = ReportFailure(
        tool_id="../../etc",
        tool_name="<i>",
        source_id="s",
        url="javascript:alert(1)",
        at=at(9),
        status=None,
        error="<script>",
        consecutive=1,
    )
    tool = ToolSummary(
        id="../../etc",
        name="<script>x</script>",
        vendor="",
        verdict="",
        verdict_needs_review=False,
        ratings=(),
    )
    unwatched = make_unwatched(
        criterion_label="<b>label</b>",
        source_id="<i>src</i>",
        quote="<script>alert(3)</script>",
        closest="<img src=x onerror=alert(4)> \u202egnp.exe",
    )
    gap = make_gap(
        12,
        criterion_label="<script>gap</script>",
        sentences=(ChangedSentence.between(None, "<img src=x onerror=alert(5)>\u202e"),),
        matched_terms=("<b>term</b>",),
    )
    minor = make_minor(19, reason="<b>minor</b> \u202e", source_id="<script>m</script>")
    return ReportContext(
        generated_at=ctx.generated_at,
        title="<script>t</script>",
        since=None,
        tools=(*ctx.tools, tool),
        flags=(make_flag(reason),),
        changes=(change, minor),
        failures=(failure,),
        noise_count=0,
        unwatched=(unwatched,),
        suggestions=(gap,),
    )


def test_hostile_content_is_inert_in_html() -> None:
    site = render_site(hostile_context())
    assert "changes/12.html" in site
    for page, html in site.items():
        lowered = html.lower()
        assert "<script" not in lowered, page
        assert not re.search(r"<[^>]*onerror=", lowered), page
        assert "<img" not in lowered, page
        assert "<b>" not in lowered, page
        assert 'href="javascript:' not in lowered, page
        assert "\u202e" not in html, page
    assert "<ins>&lt;img src=x onerror=alert(1)&gt;</ins>" in site["changes/12.html"]
    assert "\ufffdevil.exe" in site["changes/12.html"]
    assert "A" * 100_000 in site["changes/12.html"]


def test_hostile_content_is_inert_in_markdown() -> None:
    text = render_markdown(hostile_context())
    assert "<script" not in text
    assert "<img" not in text
    assert "\u202e" not in text
    assert "](javascript:" not in text
    assert "&lt;~~script&gt;alert(0)&lt;/script~~**img src=x onerror=alert(1)**" in text
    assert "\\`x\\`\\|y" in text


def test_markdown_escaping_neutralizes_syntax() -> None:
    assert md("a <b> & [c](d) `e` | f *g* _h_\nnext") == (
        "a &lt;b&gt; &amp; \\[c\\](d) \\`e\\` \\| f \\*g\\* \\_h\\_ next"
    )


def test_words_html_escapes_page_text() -> None:
    ops = ChangedSentence.between("<b>old</b>", "<i>new</i>").words
    html = str(words_html(ops))
    assert "<b>" not in html and "<i>" not in html
    assert "<del>" in html and "<ins>" in html


def test_write_site_writes_atomically_and_stays_inside(tmp_path: Path) -> None:
    index = write_site(hostile_context(), tmp_path / "site")
    assert index == (tmp_path / "site" / "index.html").resolve()
    written = sorted(
        p.relative_to(tmp_path).as_posix()
        for p in tmp_path.rglob("*")
        if p.is_file() and p.suffix == ".html"
    )
    # the tool id "../../etc" became a safe file name; no temp file is left behind
    assert written == [
        "site/changes/12.html",
        "site/changes/19.html",
        "site/index.html",
        "site/suppressed.html",
        "site/tools/etc.html",
        "site/tools/mistral-api.html",
    ]


def test_missing_attribute_fails_loudly() -> None:
    template = environment().from_string("{{ report.no_such_field }}")
    with pytest.raises(UndefinedError):
        template.render(report=make_context())


def test_empty_report_renders() -> None:
    ctx = ReportContext(
        generated_at=at(10),
        title="Empty",
        since=None,
        tools=(),
        flags=(),
        changes=(),
        failures=(),
        noise_count=0,
    )
    site = render_site(ctx)
    assert "No rating needs re-review." in site["index.html"]
    assert "No rating needs re-review." in render_markdown(ctx)


RELATIVE_PREFIXES = ("#", "../", "changes/", "tools/", "feeds/", "index.html", "suppressed.html")


def test_links_are_relative() -> None:
    for page, html in render_site(make_context()).items():
        if not page.endswith(".html"):
            continue  # feeds: see test_reports_feeds.py
        for href in re.findall(r'href="([^"]+)"', html):
            assert href.startswith((*RELATIVE_PREFIXES, "https://")), href


def test_diff_hunks_keep_document_order() -> None:
    old = "Title\nGone paragraph entirely.\nWe keep your data for 30 days.\nEnd"
    new = "Title\nWe keep your data for 90 days.\nCookies: see the banner.\nEnd"
    (hunk,) = diff_hunks(diff_texts(old, new))
    assert (hunk.old_start, hunk.new_start) == (1, 1)
    assert [row.kind for row in hunk.rows] == [
        "context",
        "removed",
        "rewritten",
        "added",
        "context",
    ]
