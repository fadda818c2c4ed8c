"""Property: the catalog loader raises nothing but CatalogErrors, each error one line.

Three generators, each bounded and derandomized so CI is deterministic: YAML text assembled
from the tokens that matter (tags, anchors, aliases, flow and block syntax, odd scalars),
random structures dumped to YAML, and the valid tool with one field replaced by a random
value. Whatever loads must be what the fetcher and the reports can use.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.catalog.limits import MAX_EVERY, MAX_ID_CHARS
from crawler.catalog.model import Catalog, CatalogErrors, load_catalog

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

KEYS = [
    *("id", "name", "vendor", "summary", "verdict", "sources", "ratings"),
    *("url", "kind", "every", "select", "exclude", "render"),
    *("rating", "sources", "evidence", "source", "quote", "dpa", "no-training", "s1", "t1"),
]
TOKENS = [
    *(f"{key}: " for key in KEYS),
    *("\n", "\n  ", "\n    ", "\n      ", "- ", "  - ", "[", "]", "{", "}", ", ", ": ", "? "),
    *("&a ", "*a", "&b ", "*b", "<<: ", "|\n  ", ">\n  ", "'", '"', "# ", "---\n", "...\n"),
    *("!!int ", "!!bool ", "!!float ", "!!timestamp ", "!!binary ", "!!set ", "!!omap "),
    *("!!pairs ", "!!str ", "!!null ", "!!python/object:os.system ", "!foo ", "%YAML 1.1\n"),
    *("http://", "https://", "[::1]", "[::1", ":99999", ":-1", ":0", "@", "..", "/", "%"),
    *("1d", "0s", "99999999999999999999999w", "2024-13-45", "2024-01-01", "0x", "1_000"),
    *(".inf", ".nan", "~", "null", "yes", "no", "?", "✅", "\t", "\\", "\x00", "\ufeff"),
    *("\u202e", "\x85", "\u2028", "é", "a", "main", "div > p", ":is(", ")", "t1", "s1", " "),
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["http://[::1]:8080/", "http://a:99999/", "http://u:p@h/", "1000000000d"]),
    st.sampled_from(["https://example.com/p", "1d", "main", "yes", "dpa", "s1", "t1", "?"]),
    st.dates(),
)
TREES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
)
VALID: dict[str, Any] = {
    "id": "t1",
    "name": "Tool One",
    "sources": [{"id": "s1", "url": "https://example.com/p", "every": "1d", "select": ["main"]}],
    "ratings": {"dpa": {"rating": "yes", "sources": ["s1"], "evidence": []}},
}
PATHS = [
    ("id",),
    ("name",),
    ("sources",),
    ("sources", 0),
    ("sources", 0, "id"),
    ("sources", 0, "url"),
    ("sources", 0, "every"),
    ("sources", 0, "select"),
    ("sources", 0, "kind"),
    ("ratings",),
    ("ratings", "dpa"),
    ("ratings", "dpa", "rating"),
    ("ratings", "dpa", "sources"),
    ("ratings", "dpa", "evidence"),
]


def load_text(text: str, taxonomy: str | None = None) -> Catalog | None:
    """Load a catalog of one tool file with this text; None when it is rejected (properly)."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "tools").mkdir()
        (root / "tools" / "t.yaml").write_text(text, encoding="utf-8", errors="surrogateescape")
        if taxonomy is not None:
            (root / "taxonomy.yaml").write_text(taxonomy, encoding="utf-8", errors="replace")
        try:
            return load_catalog(root)
        except CatalogErrors as exc:
            lines = str(exc).splitlines()
            assert len(lines) == len(exc.errors), lines  # one line per error, always
            assert all(len(line) < 5000 for line in lines)
            return None


def usable(catalog: Catalog | None) -> None:
    """What loaded can be fetched, scheduled and named in reports."""
    for tool in catalog.tools if catalog else ():
        assert 0 < len(tool.id) <= MAX_ID_CHARS
        for source in tool.sources:
            assert 0 < len(source.id) <= MAX_ID_CHARS
            parts = urlsplit(source.url)
            assert parts.scheme in ("http", "https") and parts.hostname
            assert parts.port is None or 0 < parts.port < 65536
            assert parts.username is None
            assert source.every is None or timedelta(0) < source.every <= MAX_EVERY
        for rating in tool.ratings:
            assert len(rating.criterion) <= MAX_ID_CHARS


@FUZZ
@given(st.lists(st.sampled_from(TOKENS) | st.text(max_size=4), max_size=40))
def test_token_soup_raises_only_catalog_errors(tokens: list[str]) -> None:
    usable(load_text("".join(tokens)))


@FUZZ
@given(TREES)
def test_random_structures_raise_only_catalog_errors(tree: Any) -> None:
    usable(load_text(yaml.safe_dump(tree, allow_unicode=True)))


@FUZZ
@given(st.sampled_from(PATHS), TREES)
def test_valid_tool_with_one_field_replaced(path: tuple[str | int, ...], value: Any) -> None:
    tool: Any = yaml.safe_load(yaml.safe_dump(VALID))
    target = tool
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    usable(load_text(yaml.safe_dump(tool, allow_unicode=True)))


@FUZZ
@given(st.lists(st.sampled_from(TOKENS) | st.text(max_size=4), max_size=40))
def test_taxonomy_token_soup_raises_only_catalog_errors(tokens: list[str]) -> None:
    usable(load_text(yaml.safe_dump(VALID), taxonomy="criteria:\n" + "".join(tokens)))
