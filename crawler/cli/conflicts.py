"""`citewatch check`'s warnings: catalog ratings that differ from the newest one set in review."""

from __future__ import annotations

import click

from crawler.catalog.model import Catalog
from crawler.ingest.review import conflicts
from storage import Store, StoreError


def conflict_lines(ctx: click.Context, catalog: Catalog) -> list[str]:
    """One warning line a conflict; none when there is no database (a catalog checked alone)."""
    try:
        store = Store.open(ctx.obj["db"], create=False)
    except StoreError:
        return []  # no database yet (or not a usable one): `check` validates the catalog alone
    try:
        found = conflicts(store, catalog)
    finally:
        store.close()
    return [
        f"warning: {c.file}: rating {c.criterion_id} is {c.catalog_rating} in the catalog, but "
        f"{c.set_by} set it to {c.database_rating} in review on {c.set_at:%Y-%m-%d %H:%M} "
        f"(edit the file, or `citewatch review {c.tool_id} {c.criterion_id} --set …`)"
        for c in found
    ]
