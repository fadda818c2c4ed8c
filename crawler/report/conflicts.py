"""The report's view of catalog/database rating conflicts."""

from __future__ import annotations

from crawler.catalog.conflicts import find_conflicts
from crawler.catalog.model import Catalog
from crawler.report.parts import Names
from reports.context import RatingConflict
from storage import Store


def rating_conflicts(store: Store, catalog: Catalog, names: Names) -> tuple[RatingConflict, ...]:
    """Each catalog rating that differs from the newest rating set in review, named."""
    return tuple(
        RatingConflict(
            tool_id=c.tool_id,
            tool_name=names.tool(c.tool_id),
            criterion_id=c.criterion_id,
            criterion_label=names.criterion(c.criterion_id),
            catalog_rating=c.catalog_rating,
            review_rating=c.database_rating,
            set_by=c.set_by,
            set_at=c.set_at,
            file=c.file,
        )
        for c in find_conflicts(catalog, store.reviews())
    )
