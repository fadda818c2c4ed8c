"""What the web app shows, read from the database: the report context, the site's history,
every page of the static site (rendered on request), and each flag with its stored id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from crawler.catalog.model import Catalog, load_catalog
from crawler.report.build import build_context
from crawler.report.history import build_history
from crawler.report.stored import StoredHistory
from crawler.web.queue import QueueItem
from diffs.text import TextDiff, diff_texts
from reports.context import ReportContext, StoredDiff
from reports.history import SUPPRESSED_LIMIT, SiteHistory, SourceTimeline
from reports.paths import raw_path, text_path
from reports.screenshots import screenshot_path
from reports.site import Page, site_pages
from storage import Store


class LiveError(Exception):
    """The app has nothing to show (no catalog given and no crawl recorded one)."""


@dataclass(frozen=True, slots=True)
class Live:
    """One reading of the database: what every page of a request shows."""

    catalog: Catalog
    context: ReportContext
    history: SiteHistory
    items: tuple[QueueItem, ...]  # every flag (open and resolved) with its stored id

    def item(self, flag_id: int) -> QueueItem | None:
        """The flag with this id, or None."""
        return next((i for i in self.items if i.flag_id == flag_id), None)

    def timeline(self, tool_id: str, source_id: str) -> SourceTimeline | None:
        """A source's versions, or None when it has none."""
        found = (
            t for t in self.history.timelines if (t.tool_id, t.source_id) == (tool_id, source_id)
        )
        return next(found, None)

    def paged(self) -> tuple[int, ...]:
        """The changes that have a page: the report's and the newest suppressed ones."""
        listed = (c.id for c in (*self.context.changes, *self.history.suppressed.changes))
        return tuple(sorted(set(listed)))

    def files(self) -> Mapping[str, str]:
        """The site's snapshot files: path (raw/…, text/…, shots/…) -> blob SHA-256."""
        out: dict[str, str] = {}
        for t in self.history.timelines:
            for v in t.versions:
                out[raw_path(v)] = v.raw_sha
                out[text_path(v)] = v.text_sha
                if v.screenshot_sha is not None:  # a rendered version's JPEG
                    out[screenshot_path(v)] = v.screenshot_sha
        return out


def catalog_path(store: Store, given: Path | None) -> Path:
    """The catalog the app reads: the one given, else the last crawl's."""
    chosen = str(given) if given is not None else store.last_catalog()
    if chosen is None:
        raise LiveError("no catalog: pass CATALOG to `citewatch serve` or run a crawl first")
    return Path(chosen)


def read_live(store: Store, catalog: Path) -> Live:
    """Read everything the pages show, in one pass over the database."""
    cat = load_catalog(str(catalog))
    stored = StoredHistory.read(store)
    ctx = build_context(store, cat, None, stored=stored)
    history = build_history(store, cat, SUPPRESSED_LIMIT, stored=stored)
    # build_context keeps the stored flags' order, so the ids pair up one to one.
    items = tuple(QueueItem(f.id, r) for f, r in zip(stored.flags, ctx.flags, strict=True))
    return Live(cat, ctx, history, items)


def site_page(live: Live, path: str, extra: Mapping[str, object]) -> Page | None:
    """The static site's page at this path (index.html, tools/…, changes/…), or None."""
    for page in site_pages(live.context, live.history, extra):
        if page.path == path:
            return page
    return None


def page_diff(store: Store, page: Page) -> TextDiff | None:
    """The diff a change page shows, computed from its stored texts when named by them."""
    if isinstance(page.diff, StoredDiff):
        return text_diff(store, page.diff.old_sha, page.diff.new_sha)
    return page.diff


def text_diff(store: Store, old_sha: str, new_sha: str) -> TextDiff:
    """The diff of two stored texts."""
    return diff_texts(store.blob(old_sha).decode("utf-8"), store.blob(new_sha).decode("utf-8"))
