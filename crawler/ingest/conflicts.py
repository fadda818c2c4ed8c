"""Where the catalog (the source of truth) and the newest rating set in review disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crawler.catalog.model import Catalog
from storage import Store
from storage.records import ReviewRecord

__all__ = ["RatingConflict", "conflicts", "latest_sets"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RatingConflict:
    """A rating whose catalog value is not the one an editor last set in review."""

    tool_id: str
    criterion_id: str
    catalog_rating: str
    database_rating: str
    set_by: str
    set_at: datetime
    file: str  # the tool file holding the catalog's rating


def latest_sets(store: Store) -> dict[tuple[str, str], ReviewRecord]:
    """The newest `set` review of each rating, by (tool, criterion)."""
    out: dict[tuple[str, str], ReviewRecord] = {}
    for r in store.reviews():
        if r.action == "set" and r.rating:
            out[(r.tool_id, r.criterion_id)] = r
    return out


def conflicts(store: Store, catalog: Catalog) -> list[RatingConflict]:
    """Catalog ratings that differ from the newest rating set in review, in catalog order.

    A rating never set in review, or no longer in the catalog, is no conflict.
    """
    sets = latest_sets(store)
    return [
        RatingConflict(
            tool_id=t.id,
            criterion_id=r.criterion,
            catalog_rating=r.rating,
            database_rating=s.rating or "",
            set_by=s.by,
            set_at=s.at,
            file=t.file,
        )
        for t in catalog.tools
        for r in t.ratings
        if (s := sets.get((t.id, r.criterion))) is not None and s.rating != r.rating
    ]
