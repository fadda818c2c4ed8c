"""The digest: golden Markdown, plain-text email, HTML email and JSON; order; inert page text.

Regenerate the golden files after an intended change and review the diff:

    CITEWATCH_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_reports_digest.py
"""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from reports import ChangedSentence, FlagReason, ReportContext, ReportFlag
from reports.digest import Digest, DigestScope, build_digest
from reports.digest_json import render_json
from reports.mail import compose, email_message, plain, render_html, render_text, subject
from reports.render import render_markdown
from tests.test_reports_render import (
    at,
    check_golden,
    hostile_context,
    make_change,
    make_context,
    make_flag,
)

SITE = "https://reviews.example.org/citewatch/"

NEW_REASON = FlagReason(
    change_id=15,
    source_id="dpa",
    kind="topic",
    text="Changed text speaks about No training on customer data: training.",
    sentences=(
        ChangedSentence.between(
            "Mistral may use Customer Data for training unless Customer opted out.",
            "Mistral may use Customer Data for training unless Customer is opted out.",
        ),
    ),
    matched_terms=("training",),
    old_quote=None,
    new_quote=None,
)


def broken_flag() -> ReportFlag:
    """A flag of a severity this code does not define yet (another issue adds it)."""
    reason = FlagReason(
        change_id=16,
        source_id="docs",
        kind="broken",
        text="The source has failed 5 times in a row.",
        sentences=(),
        matched_terms=(),
        old_quote=None,
        new_quote=None,
    )
    return make_flag(
        reason,
        criterion_id="server-location",
        criterion_label="Server location",
        severity="broken",
        opened_at=at(7),
    )


def topic_flag() -> ReportFlag:
    """A topic flag on another criterion, opened first: severity still ranks it last."""
    reason = FlagReason(
        change_id=17,
        source_id="docs",
        kind="topic",
        text="Changed text speaks about EU SaaS: hosting.",
        sentences=(),
        matched_terms=("hosting",),
        old_quote=None,
        new_quote=None,
    )
    return make_flag(
        reason,
        criterion_id="eu-saas",
        criterion_label="EU SaaS",
        rating="yes",
        severity="topic",
        opened_at=at(2),
    )


def grown_context() -> ReportContext:
    """The report context with the training flag grown by a DPA reason, and two more flags."""
    ctx = make_context()
    training = ctx.flags[0]
    grown = dataclasses.replace(training, reasons=(*training.reasons, NEW_REASON))
    dpa = make_change(
        15,
        "Mistral may use Customer Data for training unless Customer opted out.",
        "Mistral may use Customer Data for training unless Customer is opted out.",
        source_id="dpa",
        url="https://legal.mistral.ai/terms/dpa",
        flags=("no-training",),
    )
    return dataclasses.replace(
        ctx,
        flags=(topic_flag(), grown, broken_flag(), *ctx.flags[1:]),
        changes=(*ctx.changes, dpa),
    )


def grown_scope() -> DigestScope:
    """Change 12 and its reason were reported before; everything else is new."""
    return DigestScope(
        changes=frozenset({13, 14, 15, 16, 17, 18}),
        reasons=frozenset(
            {
                ("mistral-api", "no-training", 15),
                ("mistral-api", "server-location", 16),
                ("mistral-api", "eu-saas", 17),
            }
        ),
        broken=frozenset({("mistral-api", "dpa")}),
        noise=(("mistral-api", 4),),
    )


def grown_digest(site_url: str = SITE) -> Digest:
    """The digest every golden file below renders."""
    return build_digest(grown_context(), grown_scope(), site_url)


def test_digest_markdown_matches_golden() -> None:
    check_golden("digest.md", render_markdown(grown_context(), grown_scope(), SITE))


def test_digest_plain_text_email_matches_golden() -> None:
    check_golden("email.txt", render_text(grown_digest()))


def test_digest_html_email_matches_golden() -> None:
    check_golden("email.html", render_html(grown_digest()))


def test_digest_json_matches_golden() -> None:
    check_golden("digest.json", render_json(grown_digest()))


def test_json_carries_the_same_sections_in_the_same_order() -> None:
    data = json.loads(render_json(grown_digest()))
    (tool,) = data["tools"]
    assert list(tool) == [
        "id",
        "name",
        "ratings_to_review",
        "evidence_never_found",
        "significant_changes",
        "citation_gaps",
        "broken_sources",
        "resolved",
        "minor_changes",
        "noise_suppressed",
    ]
    assert [f["severity"] for f in tool["ratings_to_review"]] == ["evidence", "broken", "topic"]
    training = tool["ratings_to_review"][0]
    assert training["grown"] is True
    assert [(r["change"], r["new"]) for r in training["reasons"]] == [(15, True), (12, False)]
    assert training["reasons"][0]["diff"] == SITE + "changes/15.html"


@pytest.mark.parametrize(
    ("severities", "expected"),
    [
        (("topic", "evidence"), ["evidence", "topic"]),
        (("topic", "broken", "evidence"), ["evidence", "broken", "topic"]),
        (("made-up", "topic"), ["topic", "made-up"]),  # unknown severities last, shown as is
        (("evidence", "evidence"), ["evidence", "evidence"]),
    ],
)
def test_flags_are_ordered_by_severity(severities: tuple[str, ...], expected: list[str]) -> None:
    base = make_context().flags[0]
    flags = tuple(
        dataclasses.replace(base, criterion_id=f"c{i}", severity=s, opened_at=at(1 + i))
        for i, s in enumerate(severities)
    )
    ctx = dataclasses.replace(make_context(), flags=flags)
    digest = build_digest(ctx, DigestScope.everything(ctx))
    assert [d.flag.severity for t in digest.tools for d in t.flags] == expected


def test_a_flag_with_nothing_new_is_not_repeated() -> None:
    ctx = make_context()
    scope = DigestScope(changes=frozenset({13}), reasons=frozenset(), broken=frozenset(), noise=())
    digest = build_digest(ctx, scope)
    assert digest.flag_count == 0 and digest.still_open == 1
    assert [c.id for t in digest.tools for c in t.changes] == [13]
    assert "1 flagged rating(s) reported before still await review" in render_text(digest)


def test_nothing_new_raises_nothing() -> None:
    ctx = make_context()
    digest = build_digest(
        ctx, DigestScope(changes=frozenset(), reasons=frozenset(), broken=frozenset(), noise=())
    )
    assert not digest.raised
    assert subject(digest) == "[citewatch] nothing new"
    # the broken source is still shown (it is state), but not as news
    assert digest.failure_count == 1 and digest.new_failure_count == 0


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (
            DigestScope(
                changes=frozenset({12}),
                reasons=frozenset({("mistral-api", "no-training", 12)}),
                broken=frozenset(),
                noise=(),
            ),
            "[citewatch] Re-review Mistral API: No training on customer data",
        ),
        (
            DigestScope(changes=frozenset({13}), reasons=frozenset(), broken=frozenset(), noise=()),
            "[citewatch] 1 significant change(s) in cited sources",
        ),
        (
            DigestScope(
                changes=frozenset(),
                reasons=frozenset(),
                broken=frozenset({("mistral-api", "dpa")}),
                noise=(),
            ),
            "[citewatch] 1 cited source(s) broken",
        ),
    ],
)
def test_subject_says_what_needs_doing_first(scope: DigestScope, expected: str) -> None:
    assert subject(build_digest(make_context(), scope)) == expected


def _hostile_digest() -> Digest:
    ctx = hostile_context()
    return build_digest(ctx, DigestScope.everything(ctx), SITE)


def test_hostile_page_text_is_inert_in_the_plain_text_email() -> None:
    text = render_text(_hostile_digest())
    bad = [c for c in text if c not in "\n" and unicodedata.category(c) in {"Cc", "Cf"}]
    assert bad == []
    assert "\u202e" not in text
    # page text cannot start lines of its own: every sentence stays on one line
    assert '"<[-script>alert(0)</script-]{+img src=x onerror=alert(1)+}>"' in text
    # a 100 000-character line is cut, not mailed whole
    assert max(len(line) for line in text.splitlines()) < 2000


def test_hostile_page_text_is_inert_in_the_html_email() -> None:
    html = render_html(_hostile_digest()).lower()
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert not re.search(r"<[^>]*\son\w+=", html)
    assert 'href="javascript:' not in html
    assert "\u202e" not in html
    assert "&lt;<del" in html and "img src=x onerror=alert(1)</ins>&gt;" in html


def test_hostile_page_text_is_inert_in_json() -> None:
    text = render_json(_hostile_digest())
    assert "\u202e" not in text and "\\u202e" not in text  # neither raw nor escaped
    data = json.loads(text)
    reason = data["tools"][0]["ratings_to_review"][0]["reasons"][0]
    assert reason["text"] == "\ufffdgnp.exe"


def test_subject_is_one_clean_line() -> None:
    digest = _hostile_digest()
    flag = digest.tools[0].flags[0].flag
    hostile = dataclasses.replace(flag, tool_name="Evil\r\nBcc: victim@example.org\u202e")
    tool = dataclasses.replace(
        digest.tools[0], flags=(dataclasses.replace(digest.tools[0].flags[0], flag=hostile),)
    )
    line = subject(dataclasses.replace(digest, tools=(tool, *digest.tools[1:])))
    assert "\r" not in line and "\n" not in line and "\u202e" not in line
    assert line.startswith("[citewatch] Re-review Evil Bcc: victim@example.org")


def test_email_has_plain_text_then_html() -> None:
    message = compose(grown_digest())
    mail = email_message(message, "citewatch <cw@example.org>", ["editors@example.org"], at(10))
    parsed = message_from_bytes(bytes(mail), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in parsed.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert (
        str(parsed["Subject"]).strip()  # a long subject is folded after "Subject:"
        == "[citewatch] Re-review Mistral API: No training on customer data (+2 more)"
    )


def test_plain_cuts_and_flattens() -> None:
    assert plain("a\nb\t c\u202e", 100) == "a b c\ufffd"
    assert plain("x" * 10, 5) == "xxxx…"


def test_reported_change_keeps_its_diff_link_relative_without_a_site() -> None:
    ctx = make_context()
    md = render_markdown(ctx)
    assert "[full diff of change 12](changes/12.html)" in md
    assert "citewatch diff 12" in render_text(build_digest(ctx, DigestScope.everything(ctx)))


def resolved_context() -> ReportContext:
    """The report context whose eu-saas flag was confirmed (review 7), seen from two flags of
    the same rating (each carries the rating's history)."""
    ctx = make_context()
    confirmed = next(f for f in ctx.flags if f.criterion_id == "eu-saas")
    review = dataclasses.replace(confirmed.resolutions[0], id=7, note="Hosting <b>unchanged</b>.")
    first = dataclasses.replace(confirmed, resolutions=(review,))
    again = dataclasses.replace(first, status="open", reasons=(NEW_REASON,))
    others = tuple(f for f in ctx.flags if f.criterion_id != "eu-saas")
    return dataclasses.replace(ctx, flags=(*others, first, again))


@pytest.mark.parametrize(("reviews", "shown"), [(frozenset({7}), 1), (frozenset(), 0)])
def test_digest_lists_the_resolutions_since_the_last_one(
    reviews: frozenset[int], shown: int
) -> None:
    scope = DigestScope(
        changes=frozenset(), reasons=frozenset(), broken=frozenset(), noise=(), reviews=reviews
    )
    digest = build_digest(resolved_context(), scope, SITE)
    assert digest.resolved_count == shown
    assert not digest.raised  # a resolution alone is no reason to send a message
    text, html = render_text(digest), render_html(digest)
    markdown = render_markdown(resolved_context(), scope, SITE)
    data = json.loads(render_json(digest))
    if shown:
        (item,) = digest.tools[0].resolved
        assert (item.criterion_label, item.resolution.by) == ("EU SaaS", "editor@example.org")
        assert "Resolved since the last message:" in text
        assert "EU SaaS: confirm by editor@example.org" in text
        assert "Resolved since the last message</h3>" in html
        assert "Hosting &lt;b&gt;unchanged&lt;/b&gt;." in html  # an editor's note is escaped
        assert "### Resolved since the last report" in markdown
        assert data["tools"][0]["resolved"][0]["action"] == "confirm"
        assert data["counts"]["resolved"] == 1
    else:
        for rendered in (text, html, markdown):
            assert "Resolved since" not in rendered
        assert data["counts"]["resolved"] == 0
