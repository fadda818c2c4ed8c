"""The reviewers' site: pages, Atom feeds and inert copies of snapshots, under one folder.

Every link is relative, so the folder works from the file system and behind any web server.
Raw bodies are untrusted: they are saved under names a browser or server never executes or
renders as HTML (see raw_path), and every page carries a Content-Security-Policy that
forbids scripts outright, as a second wall behind escaping.

The site is written incrementally: each file has a hash of its inputs (reports/views.py,
reports/manifest.py), and a file whose inputs did not change is neither rendered nor
written again, so a report's time follows what is new, not the length of the history.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from diffs.reasons import severity_rank
from diffs.text import TextDiff, diff_texts
from reports.context import ReportContext, ReportFlag, StoredDiff, ToolFlags
from reports.feeds import (
    FeedLink,
    FeedView,
    catalog_feed,
    criterion_feed,
    feed_views,
    render_feed,
    tool_feed,
)
from reports.files import Folder
from reports.history import EMPTY_HISTORY, SUPPRESSED_LIMIT, SiteHistory
from reports.manifest import SiteManifest, build_key, input_key
from reports.paths import raw_path, text_path, timeline_part_path, timeline_path
from reports.render import diff_hunks, environment, slug
from reports.screenshots import screenshot_path, shot
from reports.views import SiteViews, card

# Each list of the index (other significant changes, minor changes, citation gaps,
# re-extractions) shows its newest INDEX_LIMIT entries: the index is read first, on a phone
# too, and a year of a 100-source catalog has ~2,000 significant changes (bench/scale.py).
# Older ones are on the sources' timelines, linked from each tool's page.
INDEX_LIMIT = 100
# Change pages rendered per batch: the texts they compare are read from the store in one
# statement and dropped after (~100 x 2 texts of 20-50 KB in memory at a time).
PAGE_BATCH = 100

T = TypeVar("T")
Texts = Mapping[str, str]  # text SHA-256 -> the stored text
# (SHA-256 of blobs) -> (sha, bytes) of each found, read in batches (Store.blobs).
BlobReader = Callable[[Sequence[str]], Iterable[tuple[str, bytes]]]
# Told each diff the site computed from stored texts (the JSON export reuses it).
DiffSink = Callable[[StoredDiff, TextDiff], None]


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
    "timeline_part_path": timeline_part_path,
    "card": card,
    "flags_by_severity": flags_by_severity,
    "suppressed_limit": SUPPRESSED_LIMIT,
    "shot": shot,
}


def _helpers() -> dict[str, object]:
    """What every template may call, with the bounds as they stand now (tests lower them)."""
    return {**_HELPERS, "index_limit": INDEX_LIMIT}


@dataclass(frozen=True, slots=True)
class Page:
    """One page or feed: where it goes, the hash of its inputs (None: written every time),
    how to render it, and the diff it shows (a change page's)."""

    path: str
    key: str | None
    render: Callable[[TextDiff | None], str]
    diff: TextDiff | StoredDiff | None = None


def site_pages(
    ctx: ReportContext,
    history: SiteHistory = EMPTY_HISTORY,
    extra: Mapping[str, object] | None = None,
) -> list[Page]:
    """Every page and feed of the site, unrendered, each with the hash of its inputs.

    `extra`: more template variables, for pages served live by the web app (its signed-in
    account); not part of a page's key, since the static site never passes them."""
    env = environment()
    helpers = {**_helpers(), **(extra or {})}
    views = SiteViews(ctx, history)
    everywhere = (catalog_feed(ctx),)

    def page(name: str, feeds: tuple[FeedLink, ...], view: object) -> Callable[..., str]:
        def render(diff: TextDiff | None = None) -> str:
            return env.get_template(name).render(
                title=ctx.title,
                generated_at=ctx.generated_at,
                feeds=everywhere + feeds,
                view=view,
                hunks=diff_hunks(diff) if diff is not None else (),
                **helpers,
            )

        return render

    # The bounds templates print are inputs of every page too.
    bounds = tuple((k, v) for k, v in sorted(_helpers().items()) if isinstance(v, int))

    def keyed(path: str, name: str, feeds: tuple[FeedLink, ...], view: object) -> Page:
        key = input_key(name, (ctx.title, everywhere + feeds, bounds, view))
        return Page(path, key, page(name, feeds, view))

    pages = [Page("index.html", None, _index(ctx, everywhere, extra or {}))]
    pages.append(keyed("suppressed.html", "suppressed.html", (), views.suppressed()))
    for change in views.paged.values():
        feeds: tuple[FeedLink, ...] = (tool_feed(change.tool_id, change.tool_name),)
        found = keyed(f"changes/{change.id}.html", "change.html", feeds, views.change(change))
        pages.append(Page(found.path, found.key, found.render, change.diff))
    for tool in ctx.tools:
        criteria = tuple(criterion_feed(r.criterion_id, r.criterion_label) for r in tool.ratings)
        feeds = (tool_feed(tool.id, tool.name), *criteria)
        pages.append(keyed(f"tools/{slug(tool.id)}.html", "tool.html", feeds, views.tool(tool)))
    for timeline in history.timelines:
        feeds = (tool_feed(timeline.tool_id, timeline.tool_name),)
        for view in views.timelines(timeline):
            path = (
                timeline_path(view.tool_id, view.source_id)
                if view.part is None
                else timeline_part_path(view.tool_id, view.source_id, view.part.number)
            )
            pages.append(keyed(path, "source.html", feeds, view))
    for feed in feed_views(ctx, history):
        pages.append(Page(feed.link.path, input_key("feed", feed), _feed(feed, ctx.generated_at)))
    return pages


def _index(
    ctx: ReportContext, feeds: tuple[FeedLink, ...], extra: Mapping[str, object]
) -> Callable[..., str]:
    """The index: it tells when the report was made, so it is written every time."""

    helpers = {**_helpers(), **extra}

    def render(_diff: TextDiff | None = None) -> str:
        template = environment().get_template("index.html")
        return template.render(
            report=ctx,
            title=ctx.title,
            generated_at=ctx.generated_at,
            feeds=feeds,
            linked=frozenset(c.id for c in ctx.changes),
            **helpers,
        )

    return render


def _feed(feed: FeedView, generated_at: datetime) -> Callable[..., str]:
    """A feed: `generated_at` shows only while it has no entry (see render_feed)."""

    def render(_diff: TextDiff | None = None) -> str:
        return render_feed(feed, generated_at)

    return render


def render_site(
    ctx: ReportContext, history: SiteHistory = EMPTY_HISTORY, texts: Texts | None = None
) -> dict[str, str]:
    """The reviewers' site: relative file path -> page or feed text. A change whose diff is
    named by its stored texts needs them in `texts`."""
    return {p.path: p.render(_resolve(p.diff, texts or {})) for p in site_pages(ctx, history)}


def _resolve(diff: TextDiff | StoredDiff | None, texts: Texts) -> TextDiff | None:
    if isinstance(diff, StoredDiff):
        return diff_texts(texts[diff.old_sha], texts[diff.new_sha])
    return diff


def write_site(
    ctx: ReportContext,
    out_dir: Path,
    history: SiteHistory = EMPTY_HISTORY,
    blob: Callable[[str], bytes] | None = None,
    *,
    blobs: BlobReader | None = None,
    on_diff: DiffSink | None = None,
) -> Path:
    """Write the site under out_dir, each file atomically; return the index path.

    Only files whose inputs changed since the last report into this folder are written, and
    files the site no longer has are removed (reports/manifest.py). With `blob` (sha ->
    bytes) or `blobs` (a batch reader), every version of the history also gets its raw body
    and its normalized text, and diffs named by stored texts are computed from them.
    """
    folder = Folder(out_dir)
    reader = blobs or (_one_by_one(blob) if blob is not None else None)
    pages = site_pages(ctx, history)
    snapshots = _snapshot_files(history) if reader is not None else {}
    planned = {p.path: p.key or "" for p in pages} | snapshots
    manifest = SiteManifest(folder.root, build_key())
    there = _files_in(folder.root, planned)
    todo = [
        p
        for p in pages
        if p.key is None or p.path not in there or not manifest.current(p.path, p.key)
    ]
    missing = {rel: sha for rel, sha in snapshots.items() if rel not in there}
    stale = manifest.stale(planned)
    manifest.begin([*(p.path for p in todo), *missing, *stale])
    with ThreadPoolExecutor(max_workers=1) as copier:
        # Snapshot files are I/O and zstd (both release the GIL): copied beside the rendering.
        copied = copier.submit(_write_snapshots, folder, missing, reader) if reader else None
        for p in todo:
            if not isinstance(p.diff, StoredDiff):
                folder.write(p.path, p.render(_resolve(p.diff, {})).encode("utf-8"))
        stored = [p for p in todo if isinstance(p.diff, StoredDiff)]
        for batch in _batches(stored, PAGE_BATCH):
            _write_changes(folder, batch, reader, on_diff)
        if copied is not None:
            copied.result()
    for rel in stale:
        folder.remove(rel)
    manifest.commit(planned)
    return folder.root / "index.html"


def _write_changes(
    folder: Folder, batch: Sequence[Page], reader: BlobReader | None, on_diff: DiffSink | None
) -> None:
    """Render a batch of change pages from their stored texts, read in one go."""
    diffs = [p.diff for p in batch if isinstance(p.diff, StoredDiff)]
    if reader is None:
        raise ValueError("change pages need their stored texts: pass blobs to write_site")
    shas = sorted({sha for d in diffs for sha in (d.old_sha, d.new_sha)})
    texts = {sha: data.decode("utf-8") for sha, data in reader(shas)}
    for p in batch:
        assert isinstance(p.diff, StoredDiff)
        diff = diff_texts(texts[p.diff.old_sha], texts[p.diff.new_sha])
        if on_diff is not None:
            on_diff(p.diff, diff)
        folder.write(p.path, p.render(diff).encode("utf-8"))


def _write_snapshots(folder: Folder, files: Mapping[str, str], reader: BlobReader) -> None:
    """Copy these blobs (site path -> SHA-256) into the site, a batch at a time."""
    for group in _batches(list(files), PAGE_BATCH):
        wanted: dict[str, list[str]] = {}
        for rel in group:  # one blob may be both a raw body and a text
            wanted.setdefault(files[rel], []).append(rel)
        for sha, data in reader(list(wanted)):
            for rel in wanted[sha]:
                folder.write(rel, data)


def _files_in(root: Path, planned: Iterable[str]) -> set[str]:
    """Which of the site's files exist, from one listing of each of its folders (a year of
    history is ~75,000 files: a stat each costs more)."""
    folders = {rel.rpartition("/")[0] for rel in planned}
    found: set[str] = set()
    for folder in folders:
        prefix = f"{folder}/" if folder else ""
        try:
            with os.scandir(root / folder) as entries:
                found.update(prefix + e.name for e in entries if e.is_file(follow_symlinks=False))
        except (FileNotFoundError, NotADirectoryError):
            continue  # a folder the site has not written yet
    return found


def _snapshot_files(history: SiteHistory) -> dict[str, str]:
    """Each version's raw body and normalized text: site path -> blob SHA-256."""
    files: dict[str, str] = {}
    for timeline in history.timelines:
        for version in timeline.versions:
            files[raw_path(version)] = version.raw_sha
            files[text_path(version)] = version.text_sha
            if version.screenshot_sha is not None:
                files[screenshot_path(version)] = version.screenshot_sha
    return files


def _one_by_one(blob: Callable[[str], bytes]) -> BlobReader:
    return lambda shas: ((sha, blob(sha)) for sha in shas)


def _batches(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
