"""Render a ReportContext into an HTML site and Markdown; crawled text is never trusted."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from diffs.text import BlockPair, TextDiff, WordOp
from reports.context import ReportContext
from reports.digest import DigestScope, build_digest

Side = Literal["both", "old", "new"]
RowKind = Literal["context", "rewritten", "removed", "added"]

RATING_LABELS = {"yes": "✅ yes", "partial": "⚠️ partial", "no": "❌ no", "unknown": "? unknown"}
# Only these schemes become links; anything else (javascript:, data:, file:) stays text.
SAFE_SCHEMES = frozenset({"http", "https"})
# Unchanged blocks shown around each hunk: one is enough to locate a change in a long policy.
CONTEXT_BLOCKS = 1

# Bidi overrides/isolates can make a page's text display as something else (Trojan Source),
# and C0/C1 controls have no business in a report: both become a visible U+FFFD.
_UNSAFE_CHARS = re.compile(
    "[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
# Characters Markdown could read as markup; '<', '>' and '&' become entities instead.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Characters that would end or break a Markdown autolink or table cell, percent-encoded.
_URL_UNSAFE = {c: f"%{ord(c):02X}" for c in ' <>"`|\\'}


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One displayed block of a diff; words carry the edit for rewritten blocks."""

    kind: RowKind
    old: str | None
    new: str | None
    words: tuple[WordOp, ...]


@dataclass(frozen=True, slots=True)
class DiffHunk:
    """The rows of one hunk with the 1-based number of its first shown block on each side."""

    old_start: int
    new_start: int
    rows: tuple[DiffRow, ...]


def neutralize(text: str) -> str:
    """Replace bidi controls and control characters with U+FFFD."""
    return _UNSAFE_CHARS.sub("\ufffd", text)


def _finalize(value: object) -> object:
    """Neutralize every string a template prints, markup included (no tag is ever created)."""
    if isinstance(value, Markup):
        return Markup(neutralize(str(value)))
    if isinstance(value, str):
        return neutralize(value)
    return value


def when(moment: datetime) -> str:
    """A timestamp for people, in UTC; naive datetimes are taken as UTC."""
    return _utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def iso(moment: datetime) -> str:
    """A timestamp for machines (the datetime attribute of <time>), in UTC."""
    return _utc(moment).isoformat(timespec="seconds")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def rating_label(rating: str) -> str:
    """A rating as symbol plus word, so the symbol is never the only signal."""
    return RATING_LABELS.get(rating, rating)


def slug(value: str) -> str:
    """A file-name-safe form of an id, so no catalog id can escape the output folder."""
    cleaned = _SLUG_UNSAFE.sub("-", value).strip(".-")
    return cleaned or "-"


def safe_href(url: str) -> str | None:
    """The URL when it is safe to link (http/https), else None."""
    scheme = urlsplit(url.strip()).scheme.lower()
    return url.strip() if scheme in SAFE_SCHEMES else None


def words_html(ops: Iterable[WordOp], side: Side = "both") -> Markup:
    """Word ops as escaped HTML with <del>/<ins>; side "old"/"new" keeps one side only."""
    parts: list[Markup] = []
    for op in ops:
        if op.tag == "equal":
            parts.append(escape(op.text))
        elif op.tag == "delete" and side != "new":
            parts.append(Markup("<del>{}</del>").format(op.text))
        elif op.tag == "insert" and side != "old":
            parts.append(Markup("<ins>{}</ins>").format(op.text))
    return Markup("").join(parts)


def md(text: str) -> str:
    """Page text as inert inline Markdown: one line, no HTML, no links, no code, no cells."""
    one_line = " ".join(text.split())
    entities = one_line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", entities)


def md_link(url: str) -> str:
    """A URL as a Markdown autolink when safe, otherwise as inert escaped text."""
    href = safe_href(url)
    if href is None:
        return md(url)
    return "<" + "".join(_URL_UNSAFE.get(c, c) for c in "".join(href.split())) + ">"


def words_md(ops: Iterable[WordOp]) -> str:
    """Word ops as Markdown: ~~deleted~~ and **inserted**, page text escaped."""
    parts: list[str] = []
    for op in ops:
        core = md(op.text)
        if not core:  # whitespace only: keep a space unless it was deleted
            parts.append("" if op.tag == "delete" else " ")
            continue
        lead = " " if op.text[0].isspace() else ""
        trail = " " if op.text[-1].isspace() else ""
        if op.tag != "equal":
            # A delimiter run touching punctuation only opens/closes next to a space
            # (CommonMark flanking rules), so pad that side; word edges need nothing.
            lead = lead if core[0].isalnum() else " "
            trail = trail if core[-1].isalnum() else " "
            mark = "~~" if op.tag == "delete" else "**"
            core = f"{mark}{core}{mark}"
        parts.append(f"{lead}{core}{trail}")
    return re.sub(r" {2,}", " ", "".join(parts)).strip()


def _context_row(text: str) -> DiffRow:
    return DiffRow("context", text, text, (WordOp("equal", text),))


def diff_hunks(diff: TextDiff) -> tuple[DiffHunk, ...]:
    """Each hunk as rows in document order, with unchanged context blocks around it."""
    views: list[DiffHunk] = []
    for hunk in diff.hunks:
        before = diff.old_blocks[max(0, hunk.old_start - CONTEXT_BLOCKS) : hunk.old_start]
        after = diff.old_blocks[hunk.old_end : hunk.old_end + CONTEXT_BLOCKS]
        rows = [_context_row(b) for b in before]
        rows.extend(_hunk_rows(hunk.old, hunk.new, hunk.pairs))
        rows.extend(_context_row(b) for b in after)
        first = 1 - len(before)  # context shown before the hunk shifts the first block number
        views.append(DiffHunk(hunk.old_start + first, hunk.new_start + first, tuple(rows)))
    return tuple(views)


def _hunk_rows(
    old: tuple[str, ...], new: tuple[str, ...], pairs: Iterable[BlockPair]
) -> list[DiffRow]:
    """Interleave removed, added and rewritten blocks; pairs are in document order."""
    rows: list[DiffRow] = []
    i = j = 0
    for pair in pairs:
        oi = old.index(pair.old, i)
        nj = new.index(pair.new, j)
        rows.extend(DiffRow("removed", b, None, (WordOp("delete", b),)) for b in old[i:oi])
        rows.extend(DiffRow("added", None, b, (WordOp("insert", b),)) for b in new[j:nj])
        rows.append(DiffRow("rewritten", pair.old, pair.new, pair.words))
        i, j = oi + 1, nj + 1
    rows.extend(DiffRow("removed", b, None, (WordOp("delete", b),)) for b in old[i:])
    rows.extend(DiffRow("added", None, b, (WordOp("insert", b),)) for b in new[j:])
    return rows


def _build_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reports"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
        # Templates ship with the code: no stat of each template for each of a site's pages.
        auto_reload=False,
    )
    env.filters.update(
        when=when,
        iso=iso,
        rating=rating_label,
        slug=slug,
        href=safe_href,
        words=words_html,
        md=md,
        mdlink=md_link,
        words_md=words_md,
    )
    env.globals["diff_hunks"] = diff_hunks
    return env


_ENV = _build_environment()


def environment() -> Environment:
    """The one Jinja2 environment every report is rendered with."""
    return _ENV


def render_markdown(
    ctx: ReportContext, scope: DigestScope | None = None, site_url: str = ""
) -> str:
    """The editors' digest as Markdown: what the scope says is new (everything by default)."""
    digest = build_digest(ctx, scope or DigestScope.everything(ctx), site_url)
    return _ENV.get_template("report.md").render(digest=digest)
