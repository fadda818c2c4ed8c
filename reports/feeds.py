"""Atom feeds (RFC 4287) of alerting changes: one per catalog, per tool and per criterion.

Entries are the significant, non-technical changes, the newest FEED_ENTRIES of each feed:
noise and re-extractions never reach a feed. Feeds are built with lxml, so every
page-derived string is escaped by the serializer; entry content is escaped HTML
(type="html") made by the same escaping filters as the site. Ids are urn:uuid (UUID 5)
from the change's identity, stable from one report to the next.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# lxml ships no type stubs (see crawler/extract/document.py); elements are typed as Any here.
from lxml import etree  # type: ignore[import-untyped]
from markupsafe import Markup

from reports.context import FlagReason, ReportChange, ReportContext
from reports.history import ChangeEntry, SiteHistory
from reports.paths import timeline_path
from reports.render import iso, neutralize, safe_href, slug, words_html

Element = Any
ATOM = "http://www.w3.org/2005/Atom"
# A fixed namespace for citewatch's UUID 5 ids (itself uuid5(NAMESPACE_URL, "citewatch")).
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://citewatch.invalid/atom")
# Non-characters XML 1.0 forbids even when escaped; neutralize() already covers controls.
_NOT_XML = re.compile("[\ufffe\uffff]")
# Entries a feed holds, newest first: a feed is polled, not an archive, and a year of a
# 100-source catalog has ~2,000 alerting changes (bench/scale.py; ~40 a week). 200 entries
# are weeks of the catalog feed and months of a tool's or a criterion's; older changes stay
# on the tools' pages and the sources' timelines, and in every digest.
FEED_ENTRIES = 200


@dataclass(frozen=True, slots=True)
class FeedLink:
    """A feed as pages link to it: <link rel="alternate"> and a visible link."""

    title: str
    path: str  # relative to the site root


def catalog_feed(ctx: ReportContext) -> FeedLink:
    """The feed of every tool of the catalog."""
    return FeedLink(f"{ctx.title}: all changes", "feeds/all.atom")


def tool_feed(tool_id: str, tool_name: str) -> FeedLink:
    """The feed of one tool."""
    return FeedLink(f"{tool_name}: changes", f"feeds/tool-{slug(tool_id)}.atom")


def criterion_feed(criterion_id: str, label: str) -> FeedLink:
    """The feed of one criterion, across tools: changes that flagged it."""
    return FeedLink(f"{label}: flagged changes", f"feeds/criterion-{slug(criterion_id)}.atom")


def _entry_of(c: ReportChange) -> ChangeEntry:
    return ChangeEntry(
        id=c.id,
        tool_id=c.tool_id,
        tool_name=c.tool_name,
        source_id=c.source_id,
        url=c.url,
        detected_at=c.detected_at,
        significant=c.significant,
        tier=c.tier,
        technical=c.technical,
        reason=c.reason,
        added=c.added_count,
        removed=c.removed_count,
        old_snapshot_id=c.old_snapshot_id,
        new_snapshot_id=c.new_snapshot_id,
        flags=c.flags,
    )


def alerting_changes(ctx: ReportContext, history: SiteHistory) -> tuple[ChangeEntry, ...]:
    """Every known change that alerts (the report's and the history's), newest first."""
    known = {c.id: _entry_of(c) for c in ctx.changes}
    known.update((c.id, c) for c in history.changes)
    alerting = (c for c in known.values() if c.alerting)
    return tuple(sorted(alerting, key=lambda c: (c.detected_at, c.id), reverse=True))


@dataclass(frozen=True, slots=True)
class FeedItem:
    """An entry as its feed shows it: the change, where it links, and the reasons it gave."""

    change: ChangeEntry
    page: str | None  # its change page, else its source's timeline, else nothing
    flagged: tuple[str, ...]  # labels of the criteria it flagged, in its order
    reasons: tuple[tuple[str, FlagReason], ...]  # (criterion label, reason) citing it


@dataclass(frozen=True, slots=True)
class FeedView:
    """One feed: its link and its newest entries (everything it shows but the report's time,
    which stands in `updated` only while it has no entry)."""

    link: FeedLink
    items: tuple[FeedItem, ...]


def feed_views(ctx: ReportContext, history: SiteHistory) -> tuple[FeedView, ...]:
    """Every feed of the site, each with at most FEED_ENTRIES entries, newest first."""
    entries = alerting_changes(ctx, history)
    labels = {r.criterion_id: r.criterion_label for t in ctx.tools for r in t.ratings}
    labels.update((f.criterion_id, f.criterion_label) for f in ctx.flags)
    groups: dict[FeedLink, list[ChangeEntry]] = {catalog_feed(ctx): list(entries)}
    tools = {t.id: tool_feed(t.id, t.name) for t in ctx.tools}
    criteria = {c: criterion_feed(c, label) for c, label in labels.items()}
    groups.update((link, []) for link in (*tools.values(), *criteria.values()))
    for e in entries:
        if e.tool_id in tools:
            groups[tools[e.tool_id]].append(e)
        for criterion in dict.fromkeys(e.flags):
            if criterion in criteria:
                groups[criteria[criterion]].append(e)
    # An entry without a change page in this report links to its source's timeline instead.
    timelines = {
        (t.tool_id, t.source_id): "../" + timeline_path(t.tool_id, t.source_id)
        for t in history.timelines
    }
    pages = {c.id: f"../changes/{c.id}.html" for c in ctx.changes}
    reasons: dict[int, list[tuple[str, FlagReason]]] = {}
    for flag in ctx.flags:
        for reason in flag.reasons:
            if reason.change_id is not None:
                label = labels.get(flag.criterion_id, flag.criterion_id)
                reasons.setdefault(reason.change_id, []).append((label, reason))

    def item(e: ChangeEntry) -> FeedItem:
        page = pages.get(e.id) or timelines.get((e.tool_id, e.source_id))
        flagged = tuple(labels.get(f, f) for f in e.flags)
        return FeedItem(e, page, flagged, tuple(reasons.get(e.id, ())))

    return tuple(
        FeedView(link, tuple(item(e) for e in items[:FEED_ENTRIES]))
        for link, items in groups.items()
    )


def render_feeds(ctx: ReportContext, history: SiteHistory) -> dict[str, str]:
    """Every feed of the site: relative path -> Atom XML."""
    return {
        view.link.path: render_feed(view, ctx.generated_at) for view in feed_views(ctx, history)
    }


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", neutralize(value))


def _add(parent: Element, tag: str, text: str | None = None, **attrs: str) -> Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{tag}", {k: _text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _text(text)
    return element


def render_feed(view: FeedView, generated_at: datetime) -> str:
    """One feed as Atom XML; `generated_at` is its `updated` while it has no entry."""
    link = view.link
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    # Path and title: stable across reports, and two catalogs' feeds do not share an id.
    _add(feed, "id", f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'feed:{link.path}:{link.title}')}")
    _add(feed, "title", link.title)
    updated = max((i.change.detected_at for i in view.items), default=generated_at)
    _add(feed, "updated", iso(updated))
    _add(_add(feed, "author"), "name", "citewatch")
    _add(feed, "generator", "citewatch")
    _add(feed, "link", rel="self", href=link.path.removeprefix("feeds/"))
    _add(feed, "link", rel="alternate", type="text/html", href="../index.html")
    for item in view.items:
        _entry(feed, item)
    body: str = etree.tostring(feed, encoding="unicode", pretty_print=True)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body


def _entry(feed: Element, item: FeedItem) -> None:
    change = item.change
    entry = _add(feed, "entry")
    key = f"change:{change.tool_id}:{change.source_id}:{change.id}:{iso(change.detected_at)}"
    _add(entry, "id", f"urn:uuid:{uuid.uuid5(_NAMESPACE, key)}")
    flagged = ", ".join(item.flagged)
    title = f"{change.tool_name} — {change.source_id}: change {change.id}"
    _add(entry, "title", title + (f"; re-review: {flagged}" if flagged else ""))
    _add(entry, "updated", iso(change.detected_at))
    _add(entry, "published", iso(change.detected_at))
    if item.page is not None:
        _add(entry, "link", rel="alternate", type="text/html", href=item.page)
    source_href = safe_href(change.url)
    if source_href is not None:
        _add(entry, "link", rel="related", href=source_href)
    _add(entry, "summary", change.reason)
    _add(entry, "content", str(_content(item)), type="html")


def _content(item: FeedItem) -> Markup:
    """The entry body as HTML: what changed and, per flagged rating, the changed sentences."""
    change = item.change
    href = safe_href(change.url)
    source = Markup('<a href="{}">{}</a>').format(href, change.url) if href else change.url
    parts = [
        Markup("<p>{} (+{} / −{} blocks) — {}</p>").format(
            change.reason, change.added, change.removed, source
        )
    ]
    for label, reason in item.reasons:
        parts.append(Markup("<p><strong>{}</strong>: {}</p>").format(label, reason.text))
        parts.extend(
            Markup("<blockquote>{}</blockquote>").format(words_html(s.words))
            for s in reason.sentences
        )
    return Markup("").join(parts)
