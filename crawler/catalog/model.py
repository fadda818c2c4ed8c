"""The catalog: tools, their cited sources, ratings per criterion and the evidence behind them.

A catalog is a folder: an optional ``taxonomy.yaml`` and one YAML file per tool under
``tools/``. :func:`load_catalog` validates all of it and reports every error at once.

The catalog's ``taxonomy.yaml`` is merged over the built-in one (see ``crawler.catalog.taxonomy``):
same id replaces, new ids are added, ``include_defaults: false`` drops the built-in criteria.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Final, Literal

from crawler.catalog.cache import CatalogCache, cache_key
from crawler.catalog.files import read_tool_files
from crawler.catalog.limits import MAX_DURATION_CHARS, MAX_EVERY
from crawler.catalog.selectors import selector_problem
from crawler.catalog.strict_yaml import (
    CatalogError,
    CatalogErrors,
    Scope,
    as_mapping,
    check_keys,
    describe,
    preview,
    slug_field,
    strings_field,
    text_field,
)
from crawler.catalog.taxonomy import default_taxonomy, load_taxonomy
from crawler.catalog.urls import url_problem
from diffs.topics import SOURCE_KINDS, Criterion, SourceKind, source_kind

__all__ = [
    "RATINGS",
    "RATING_SYMBOLS",
    "SOURCE_KINDS",
    "Catalog",
    "CatalogError",
    "CatalogErrors",
    "Evidence",
    "Rating",
    "Source",
    "Tool",
    "load_catalog",
    "normalize_rating",
    "parse_duration",
]

RATINGS = ("yes", "partial", "no", "unknown")
# The directory's own symbols; "⚠" without the emoji variation selector is typed by many editors.
RATING_SYMBOLS = {"✅": "yes", "⚠️": "partial", "⚠": "partial", "❌": "no", "?": "unknown"}
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

_RATING_HELP = "yes, partial, no, unknown or ✅ ⚠️ ❌ ?"
_DURATION = re.compile(r"^(?:\d+[smhdw])+$")
_DURATION_PART = re.compile(r"(\d+)([smhdw])")

_TOOL_KEYS = ("id", "name", "vendor", "summary", "verdict", "sources", "ratings")
_SOURCE_KEYS = ("id", "url", "kind", "every", "select", "exclude", "render")
_RATING_KEYS = ("rating", "summary", "sources", "evidence")
_EVIDENCE_KEYS = ("source", "quote")


# How a source is fetched: `render: true` ("always") with Chromium, `false` ("never") plain,
# `auto` plain and again with Chromium when the body reads as a JavaScript shell
# (crawler/extract/shell.py). The default is auto: a shell never silently stores a near-empty
# text, and a page that is not one never starts a browser.
RenderMode = Literal["always", "never", "auto"]
DEFAULT_RENDER: Final[RenderMode] = "auto"
_RENDER_VALUES: Final[dict[object, RenderMode]] = {True: "always", False: "never", "auto": "auto"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """One cited page of a tool."""

    id: str
    url: str
    kind: SourceKind = "other"
    every: timedelta | None = None
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    render: RenderMode = DEFAULT_RENDER


@dataclass(frozen=True, slots=True)
class Evidence:
    """A statement of a source that a rating rests on."""

    source: str
    quote: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Rating:
    """A tool's rating on one criterion, with the sources and quotes that justify it."""

    criterion: str
    rating: str
    sources: tuple[str, ...]
    summary: str = ""
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Tool:
    """A directory entry: the tool, what it cites and how it is rated."""

    id: str
    name: str
    vendor: str = ""
    summary: str = ""
    verdict: str = ""
    sources: tuple[Source, ...] = ()
    ratings: tuple[Rating, ...] = ()
    file: str = ""

    def source(self, source_id: str) -> Source:
        """The source with this id (KeyError when the tool does not cite it)."""
        for s in self.sources:
            if s.id == source_id:
                return s
        raise KeyError(source_id)


@dataclass(frozen=True, slots=True)
class Catalog:
    """A validated catalog folder."""

    path: str
    criteria: tuple[Criterion, ...]
    tools: tuple[Tool, ...]

    def criterion(self, criterion_id: str) -> Criterion:
        """The criterion with this id (KeyError when the taxonomy lacks it)."""
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)

    def tool(self, tool_id: str) -> Tool:
        """The tool with this id (KeyError when the catalog lacks it)."""
        for t in self.tools:
            if t.id == tool_id:
                return t
        raise KeyError(tool_id)


def normalize_rating(value: str) -> str:
    """A rating word or symbol (✅ ⚠️ ❌ ?) as one of RATINGS; ValueError otherwise."""
    text = value.strip()
    word = RATING_SYMBOLS.get(text, text.lower())
    if word not in RATINGS:
        raise ValueError(
            f"{preview(value)} is not a rating (expected one of {', '.join(RATINGS)} or ✅ ⚠️ ❌ ?)"
        )
    return word


def parse_duration(text: str) -> timedelta:
    """A duration such as ``30m``, ``12h``, ``1d``, ``2w`` or ``1d12h``, at most MAX_EVERY;
    ValueError otherwise."""
    compact = text.strip().replace(" ", "")
    if len(compact) > MAX_DURATION_CHARS or not _DURATION.match(compact):
        raise ValueError(f"{preview(text)} is not a duration (expected e.g. 30m, 12h, 1d, 2w)")
    seconds = sum(int(n) * DURATION_UNITS[u] for n, u in _DURATION_PART.findall(compact))
    if seconds <= 0:
        raise ValueError(f"{preview(text)} is not a positive duration")
    if seconds > MAX_EVERY.total_seconds():
        raise ValueError(f"{preview(text)} is too long: at most {MAX_EVERY.days} days")
    return timedelta(seconds=seconds)


def load_catalog(path: str | Path, *, cache: CatalogCache | None = None) -> Catalog:
    """Load and validate a catalog folder; raises CatalogErrors listing every problem.

    With `cache`, an unchanged catalog is read back from it and a fresh good one stored in it
    (crawler/catalog/cache.py); `check` and the other validating callers pass none.
    """
    root = Path(path)
    if cache is None:
        return _parse_catalog(root)
    key = cache_key(root)  # taken before parsing: an edit made meanwhile is a miss next time
    found = cache.read(root, key) if key is not None else None
    if isinstance(found, Catalog) and found.path == str(root):
        return found
    catalog = _parse_catalog(root)  # a broken catalog raises here: it is never cached
    if key is not None:
        cache.write(root, key, catalog)
    return catalog


def _parse_catalog(root: Path) -> Catalog:
    """Read, parse and validate every file of the catalog folder."""
    errors: list[CatalogError] = []
    if not root.is_dir():
        raise CatalogErrors([CatalogError(root, "catalog", "path", "not a folder")])
    criteria = default_taxonomy()
    taxonomy_file = root / "taxonomy.yaml"
    if os.path.lexists(taxonomy_file):  # a dangling link is an error, not "no taxonomy"
        try:
            criteria = load_taxonomy(taxonomy_file)
        except CatalogErrors as exc:
            errors.extend(exc.errors)
    tools = _load_tools(root / "tools", {c.id for c in criteria}, errors)
    if errors:
        raise CatalogErrors(errors)
    return Catalog(str(root), criteria, tools)


def _selectors(scope: Scope, data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """CSS selectors, each checked by cssselect (the parser lxml and parsel use)."""
    selectors = strings_field(scope, data, key)
    for css in selectors:
        problem = selector_problem(css)
        if problem:
            scope.error(key, problem)
    return selectors


def _load_tools(folder: Path, criteria: set[str], errors: list[CatalogError]) -> tuple[Tool, ...]:
    """Every tool file of the tools/ folder, with tool ids unique across files."""
    if not folder.is_dir():
        errors.append(CatalogError(folder, "catalog", "tools", "missing tools/ folder"))
        return ()
    tools: list[Tool] = []
    seen: dict[str, str] = {}
    for file, data in read_tool_files(folder, errors):
        tool = _tool(Scope(str(file), "tool", errors), data, criteria)
        if tool is None:
            continue
        if tool.id in seen:
            errors.append(
                CatalogError(file, f"tool {tool.id}", "id", f"duplicate of {seen[tool.id]}")
            )
            continue
        seen[tool.id] = str(file)
        tools.append(tool)
    return tuple(tools)


def _tool(scope: Scope, data: Any, criteria: set[str]) -> Tool | None:
    """One tool file's content."""
    if data is None:
        scope.error("file", "empty file; expected a tool (id, name, sources, ratings)")
        return None
    tool = as_mapping(scope, data, "file")
    if tool is None:
        return None
    tool_id = slug_field(scope, tool, "id")
    raw_id = tool.get("id")
    scope = scope.at(f"tool {raw_id}" if isinstance(raw_id, str) and raw_id else "tool")
    check_keys(scope, tool, _TOOL_KEYS)
    name = text_field(scope, tool, "name", required=True)
    sources = _sources(scope, tool.get("sources"))
    # Ratings are checked against every declared source id, so that a source with a bad URL
    # is reported once rather than again by each rating citing it.
    raw_sources = tool.get("sources")
    declared = {
        item["id"]
        for item in (raw_sources if isinstance(raw_sources, list) else [])
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    }
    ratings = _ratings(scope, tool.get("ratings"), declared, criteria)
    if not tool_id:
        return None
    vendor, summary = text_field(scope, tool, "vendor"), text_field(scope, tool, "summary")
    verdict = text_field(scope, tool, "verdict")
    return Tool(
        id=tool_id,
        name=name,
        vendor=vendor,
        summary=summary,
        verdict=verdict,
        sources=sources,
        ratings=ratings,
        file=scope.file,
    )


def _sources(scope: Scope, value: Any) -> tuple[Source, ...]:
    """A tool's sources, with ids unique within the tool."""
    if value is None:
        return ()
    if not isinstance(value, list):
        scope.error("sources", f"expected a list of sources, got {describe(value)}")
        return ()
    out: list[Source] = []
    ids: set[str] = set()  # a set: a tool file may hold thousands of sources
    for n, item in enumerate(value, 1):
        source = _source(scope.at(f"source {n}"), item)
        if source is None:
            continue
        if source.id in ids:
            scope.at(f"source {source.id}").error("id", "duplicate source id in this tool")
            continue
        ids.add(source.id)
        out.append(source)
    return tuple(out)


def _source(scope: Scope, value: Any) -> Source | None:
    """One cited source."""
    data = as_mapping(scope, value, "source")
    if data is None:
        return None
    source_id = slug_field(scope, data, "id")
    scope = scope.at(f"source {source_id}") if source_id else scope
    check_keys(scope, data, _SOURCE_KEYS)
    url = _url(scope, data)
    named = text_field(scope, data, "kind") or "other"
    kind = source_kind(named)
    if kind is None:
        scope.error("kind", f"{preview(named)} is not a source kind ({', '.join(SOURCE_KINDS)})")
    every = _every(scope, data)
    select, exclude = _selectors(scope, data, "select"), _selectors(scope, data, "exclude")
    render = _render(scope, data)
    if not (source_id and url):
        return None
    return Source(
        id=source_id,
        url=url,
        kind=kind or "other",
        every=every,
        select=select,
        exclude=exclude,
        render=render,
    )


def _render(scope: Scope, data: Mapping[str, Any]) -> RenderMode:
    """`render`: true, false or auto (the default)."""
    value = data.get("render", "auto")
    # `is`/== on a dict key would take 1 for true: YAML's 1 is not a render value.
    mode = _RENDER_VALUES.get(value) if isinstance(value, bool | str) else None
    if mode is None:
        scope.error("render", f"expected true or false (or auto), got {describe(value)}")
        return DEFAULT_RENDER
    return mode


def _url(scope: Scope, data: Mapping[str, Any]) -> str:
    """A required absolute http(s) URL that the fetcher can request (crawler.catalog.urls)."""
    url = text_field(scope, data, "url", required=True).strip()
    if not url:
        return ""
    problem = url_problem(url)
    if problem:
        scope.error("url", problem)
        return ""
    return url


def _every(scope: Scope, data: Mapping[str, Any]) -> timedelta | None:
    """The optional crawl interval."""
    value = data.get("every")
    if value is None:
        return None
    if not isinstance(value, str):
        scope.error("every", f"expected a duration such as 30m, 12h, 1d, 2w; got {describe(value)}")
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        scope.error("every", str(exc))
        return None


def _ratings(scope: Scope, value: Any, sources: set[str], criteria: set[str]) -> tuple[Rating, ...]:
    """A tool's ratings, keyed by criterion id."""
    if value is None:
        return ()
    data = as_mapping(scope, value, "ratings")
    if data is None:
        return ()
    out = []
    for criterion, item in data.items():
        rating = _rating(scope.at(f"rating {criterion}"), criterion, item, sources, criteria)
        if rating is not None:
            out.append(rating)
    return tuple(out)


def _rating(
    scope: Scope, criterion: str, value: Any, sources: set[str], criteria: set[str]
) -> Rating | None:
    """One rating: the value, its summary, the sources and evidence it rests on."""
    if criterion not in criteria:
        close = difflib.get_close_matches(criterion, sorted(criteria), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        scope.error("criterion", f"{preview(criterion)} is not a criterion of the taxonomy{hint}")
    data = as_mapping(scope, value, "rating")
    if data is None:
        return None
    check_keys(scope, data, _RATING_KEYS)
    word = _rating_value(scope, data)
    cited = strings_field(scope, data, "sources")
    if "sources" not in data:
        scope.error("sources", "required (the ids of the sources this rating rests on)")
    elif not cited:
        scope.error("sources", "must name at least one source")
    for source_id in cited:
        if source_id not in sources:
            scope.error("sources", f"{preview(source_id)} is not a source of this tool")
    evidence = _evidence_list(scope, data.get("evidence"), set(cited))
    if not word or criterion not in criteria:
        return None
    return Rating(
        criterion=criterion,
        rating=word,
        sources=cited,
        summary=text_field(scope, data, "summary"),
        evidence=evidence,
    )


def _rating_value(scope: Scope, data: Mapping[str, Any]) -> str:
    """The rating word, symbols mapped to words."""
    value = data.get("rating")
    if value is None:
        scope.error("rating", f"required ({_RATING_HELP})")
        return ""
    if not isinstance(value, str):
        scope.error(
            "rating", f"expected yes, partial, no, unknown or ✅ ⚠️ ❌ ?; got {describe(value)}"
        )
        return ""
    try:
        return normalize_rating(value)
    except ValueError as exc:
        scope.error("rating", str(exc))
        return ""


def _evidence_list(scope: Scope, value: Any, cited: set[str]) -> tuple[Evidence, ...]:
    """A rating's evidence: quotes from the sources the rating cites."""
    if value is None:
        return ()
    if not isinstance(value, list):
        scope.error("evidence", f"expected a list of {{source, quote}}, got {describe(value)}")
        return ()
    out = []
    for n, item in enumerate(value, 1):
        here = scope.at(f"{scope.entry}, evidence {n}")
        data = as_mapping(here, item, "evidence")
        if data is None:
            continue
        check_keys(here, data, _EVIDENCE_KEYS)
        source = text_field(here, data, "source", required=True)
        quote = text_field(here, data, "quote", required=True)
        if source and source not in cited:
            here.error("source", f"{preview(source)} is not among the rating's sources")
        if source and quote.strip():
            out.append(Evidence(source, quote.strip()))
    return tuple(out)
