"""The vocabulary as a calibrated choice: the shipped taxonomy or the one before this revision.

``VARIANT`` is a knob of ``bench/knobs.py`` (2: the shipped ``crawler/taxonomy.yaml``, 1:
``bench/taxonomy_previous.yaml``); ``install`` makes the product's built-in taxonomy the
chosen file in this process, so a replay's flags (not the benchmark catalog's quotes, picked
once with the shipped vocabulary) use it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import crawler.catalog.model
import crawler.catalog.taxonomy
from crawler.catalog.strict_yaml import parse_yaml
from diffs.topics import Criterion

VARIANT = 2
FILES = {
    2: Path(crawler.catalog.taxonomy.__file__).with_name("taxonomy.yaml"),
    1: Path(__file__).resolve().with_name("taxonomy_previous.yaml"),
}


def install(variant: float) -> None:
    """Serve the chosen vocabulary as the built-in taxonomy."""
    path = FILES[int(variant)]

    @lru_cache(maxsize=1)
    def chosen() -> tuple[Criterion, ...]:
        data = parse_yaml(path.read_text(encoding="utf-8"), str(path))
        return crawler.catalog.taxonomy._taxonomy(data, str(path))[0]

    for module in (crawler.catalog.taxonomy, crawler.catalog.model):
        if hasattr(module, "default_taxonomy"):
            module.default_taxonomy = chosen  # type: ignore[attr-defined]
