"""Evidence never found, as the catalog stands: what `flags`, `status` and the reports show.

An anchor row stays in the database when an editor fixes or drops a quote in the catalog (rows
are keyed by the quote), so a never-found row whose quote the catalog no longer lists is
history, not a rating that is unwatched today: with a catalog, only its quotes count.
"""

from __future__ import annotations

from crawler.catalog.model import Catalog, CatalogError, load_catalog
from storage import Store
from storage.records import AnchorState


def catalog_quotes(catalog: Catalog) -> frozenset[tuple[str, str, str, str]]:
    """Every evidence quote of the catalog as (tool, criterion, source, quote)."""
    return frozenset(
        (t.id, r.criterion, e.source, e.quote) for t in catalog.tools for r in t.ratings
        for e in r.evidence
    )  # fmt: skip


def unwatched(store: Store, catalog: Catalog | None) -> list[AnchorState]:
    """Evidence quotes never found in their source that the catalog still lists (every one
    the database holds, without a catalog), in the order they were anchored."""
    rows = store.unwatched()
    if catalog is None:
        return rows
    listed = catalog_quotes(catalog)
    return [a for a in rows if (a.tool_id, a.criterion_id, a.source_id, a.quote) in listed]


def last_catalog(store: Store) -> Catalog | None:
    """The catalog of the last crawl, or None when there is none or it no longer loads."""
    path = store.last_catalog()
    if path is None:
        return None
    try:
        return load_catalog(path)
    except CatalogError:
        return None  # moved or broken since: show what the database knows


def describe(a: AnchorState) -> tuple[str, ...]:
    """An unwatched quote for people, as lines: who, the quote, the page's closest passage."""
    near = (
        f'      closest passage ({a.score:.0f}% similar): "{one_line(a.passage)}"'
        if a.passage
        else "      the page has no text to compare with"
    )
    return (
        f"  {a.tool_id} / {a.criterion_id} — source {a.source_id}",
        f'      quote never found: "{one_line(a.quote)}"',
        near,
    )


def as_json(a: AnchorState) -> dict[str, object]:
    """An unwatched quote for machines."""
    return {
        "tool": a.tool_id,
        "criterion": a.criterion_id,
        "source": a.source_id,
        "quote": a.quote,
        "closest": a.passage,
        "score": a.score,
    }


def one_line(text: str) -> str:
    """Page text as one inert terminal line: control and bidi characters replaced."""
    from reports.render import neutralize  # Jinja2 only when there is page text to print

    return " ".join(neutralize(text).split())
