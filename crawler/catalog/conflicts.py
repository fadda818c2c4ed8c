"""Where the catalog (the source of truth) and the newest rating set in review disagree: a
pure comparison of the catalog with the review history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from crawler.catalog.model import Catalog
from storage.records import ReviewRecord

__all__ = ["RatingConflict", "find_conflicts", "latest_sets"]


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


def latest_sets(reviews: Iterable[ReviewRecord]) -> dict[tuple[str, str], ReviewRecord]:
    """The newest `set` review of each rating, by (tool, criterion) (reviews oldest first)."""
    out: dict[tuple[str, str], ReviewRecord] = {}
    for r in reviews:
        if r.action == "set" and r.rating:
            out[(r.tool_id, r.criterion_id)] = r
    return out


def find_conflicts(catalog: Catalog, reviews: Iterable[ReviewRecord]) -> list[RatingConflict]:
    """Catalog ratings that differ from the newest rating set in review, in catalog order.

    A rating never set in review, or no longer in the catalog, is no conflict.
    """
    sets = latest_sets(reviews)
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
