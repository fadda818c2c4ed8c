"""The catalog: tools, sources, ratings and evidence read from strict YAML, and the taxonomy."""

from crawler.catalog.cache import CatalogCache
from crawler.catalog.model import (
    RATINGS,
    Catalog,
    Evidence,
    Rating,
    Source,
    Tool,
    load_catalog,
    normalize_rating,
    parse_duration,
)
from crawler.catalog.selection import (
    SelectionError,
    read_selection,
    select_sources,
    write_selection,
)
from crawler.catalog.strict_yaml import CatalogError, CatalogErrors
from crawler.catalog.taxonomy import default_taxonomy, load_taxonomy
from crawler.catalog.watch import CatalogWatch

__all__ = [
    "RATINGS",
    "Catalog",
    "CatalogCache",
    "CatalogError",
    "CatalogErrors",
    "CatalogWatch",
    "Evidence",
    "Rating",
    "SelectionError",
    "Source",
    "Tool",
    "default_taxonomy",
    "load_catalog",
    "load_taxonomy",
    "normalize_rating",
    "parse_duration",
    "read_selection",
    "select_sources",
    "write_selection",
]
