"""The reviewers' site: pages, Atom feeds and inert copies of snapshots, under one folder.

Every link is relative, so the folder works from the file system and behind any web server.
Raw bodies are untrusted: they are saved under names a browser or server never executes or
renders as HTML (see raw_path), and every page carries a Content-Security-Policy that
forbids scripts outright, as a second wall behind escaping.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from diffs.reasons import severity_rank
from reports.context import FlagReason, ReportContext, ReportFlag, ToolFlags
from reports.feeds import FeedLink, catalog_feed, criterion_feed, render_feeds, tool_feed
from reports.history import EMPTY_HISTORY, SUPPRESSED_LIMIT, SiteHistory
from reports.paths import raw_path, text_path, timeline_path
from reports.render import environment, slug


@dataclass(frozen=True, slots=True)
class ChangeEvidence:
    """A flag reason that cites one change, with the rating it puts in doubt."""

    flag: ReportFlag
    reason: FlagReason


def evidence_for(ctx: ReportContext, change_id: int) -> tuple[ChangeEvidence, ...]:
    """Every flag reason that cites this change, open flags first."""
    found = [
        ChangeEvidence(flag, reason)
        for flag in ctx.flags
        for reason in flag.reasons
        if reason.change_id == change_id
    ]
    return tuple(sorted(found, key=lambda e: e.flag.status != "open"))


def flags_by_severity(ctx: ReportContext) -> tuple[ToolFlags, ...]:
    """Open flags grouped by tool, most severe first (diffs/reasons.py), then oldest."""

    def rank(flag: ReportFlag) -> tuple[int, str]:
        return (severity_rank(flag.severity), flag.opened_at.isoformat())

    groups = [
        ToolFlags(g.tool_id, g.tool_name, tuple(sorted(g.flags, key=rank)))
        for g in ctx.open_flags_by_tool
    ]
    return tuple(sorted(groups, key=lambda g: rank(g.flags[0])))


_HELPERS: Mapping[str, object] = {
    "raw_path": raw_path,
    "text_path": text_path,
    "timeline_path": timeline_path,
    "evidence_for": evidence_for,
    "flags_by_severity": flags_by_severity,
    "suppressed_limit": SUPPRESSED_LIMIT,
}


def render_site(ctx: ReportContext, history: SiteHistory = EMPTY_HISTORY) -> dict[str, str]:
    """The reviewers' site: relative file path -> page or feed text."""
    env = environment()
    everywhere = (catalog_feed(ctx),)
    # The report's changes and the newest suppressed ones each get a page.
    paged = {c.id: c for c in (*history.suppressed.changes, *ctx.changes)}

    def page(name: str, feeds: tuple[FeedLink, ...] = (), **extra: object) -> str:
        return env.get_template(name).render(
            report=ctx,
            history=history,
            feeds=everywhere + feeds,
            has_page=paged.__contains__,
            **_HELPERS,
            **extra,
        )

    site = {"index.html": page("index.html"), "suppressed.html": page("suppressed.html")}
    for change in paged.values():
        site[f"changes/{change.id}.html"] = page(
            "change.html", (tool_feed(change.tool_id, change.tool_name),), change=change
        )
    for tool in ctx.tools:
        criteria = tuple(criterion_feed(r.criterion_id, r.criterion_label) for r in tool.ratings)
        site[f"tools/{slug(tool.id)}.html"] = page(
            "tool.html", (tool_feed(tool.id, tool.name), *criteria), tool=tool
        )
    for timeline in history.timelines:
        site[timeline_path(timeline.tool_id, timeline.source_id)] = page(
            "source.html", (tool_feed(timeline.tool_id, timeline.tool_name),), timeline=timeline
        )
    site.update(render_feeds(ctx, history))
    return site


def write_site(
    ctx: ReportContext,
    out_dir: Path,
    history: SiteHistory = EMPTY_HISTORY,
    blob: Callable[[str], bytes] | None = None,
) -> Path:
    """Write the site under out_dir, each file atomically; return the index path.

    With `blob` (sha -> bytes), every version of the history also gets its raw body and its
    normalized text; these files are content-addressed, so one already written is kept.
    """
    root = out_dir.resolve()
    for rel, text in render_site(ctx, history).items():
        _write_atomic(_inside(root, rel), text.encode("utf-8"))
    if blob is not None:
        for timeline in history.timelines:
            for version in timeline.versions:
                for rel, sha in (
                    (raw_path(version), version.raw_sha),
                    (text_path(version), version.text_sha),
                ):
                    target = _inside(root, rel)
                    if not target.exists():
                        _write_atomic(target, blob(sha))
    return root / "index.html"


def _inside(root: Path, rel: str) -> Path:
    target = (root / rel).resolve()
    if not target.is_relative_to(root):
        raise ValueError(f"report path escapes the output folder: {rel}")
    return target


def _write_atomic(target: Path, data: bytes) -> None:
    """Write via a temp file in the same folder and rename, so readers never see half a page."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
