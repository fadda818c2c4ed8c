"""The taxonomy: the criteria directory entries are rated on, with their topic vocabulary.

The built-in taxonomy (``crawler/taxonomy.yaml``, package data) is the seed directory's. A
catalog's ``taxonomy.yaml`` is merged over it: a criterion with a built-in id replaces the
built-in one, new ids are added after the built-in ones, and ``include_defaults: false``
drops the built-in criteria altogether.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from crawler.catalog.files import read_yaml_file
from crawler.catalog.strict_yaml import (
    CatalogError,
    CatalogErrors,
    Scope,
    as_mapping,
    check_keys,
    describe,
    parse_yaml,
    preview,
    slug_field,
    strings_field,
    text_field,
)
from diffs.topics import SOURCE_KINDS, Criterion, SourceKind, source_kind

_LANG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]+)?$")
_TAXONOMY_KEYS = ("criteria", "include_defaults")
_CRITERION_KEYS = ("id", "label", "description", "topics", "source_kinds")


@lru_cache(maxsize=1)
def default_taxonomy() -> tuple[Criterion, ...]:
    """The built-in criteria (the seed directory's taxonomy), shipped as package data."""
    text = resources.files("crawler.catalog").joinpath("taxonomy.yaml").read_text(encoding="utf-8")
    return _taxonomy(parse_yaml(text, "crawler/taxonomy.yaml"), "crawler/taxonomy.yaml")[0]


def load_taxonomy(path: str | Path) -> tuple[Criterion, ...]:
    """A taxonomy file merged over the built-in criteria (see the module docstring)."""
    criteria, include_defaults = _taxonomy(read_yaml_file(Path(path)), path)
    if not include_defaults:
        return criteria
    own = {c.id: c for c in criteria}
    merged = [own.pop(c.id, c) for c in default_taxonomy()]
    return (*merged, *own.values())


def _taxonomy(data: Any, file: str | Path) -> tuple[tuple[Criterion, ...], bool]:
    """The criteria of a parsed taxonomy file and whether it extends the built-in ones."""
    errors: list[CatalogError] = []
    scope = Scope(str(file), "taxonomy", errors)
    if isinstance(data, list):  # a bare list of criteria is accepted too
        data = {"criteria": data}
    taxonomy = as_mapping(scope, data, "file") or {}
    check_keys(scope, taxonomy, _TAXONOMY_KEYS)
    include_defaults = taxonomy.get("include_defaults", True)
    if not isinstance(include_defaults, bool):
        scope.error("include_defaults", f"expected true or false, got {describe(include_defaults)}")
    items = taxonomy.get("criteria")
    if not isinstance(items, list):
        scope.error("criteria", f"expected a list of criteria, got {describe(items)}")
        items = []
    criteria: dict[str, Criterion] = {}
    for n, item in enumerate(items, 1):
        criterion = _criterion(scope.at(f"criterion {n}"), item)
        if criterion is not None and criterion.id in criteria:
            scope.at(f"criterion {criterion.id}").error("id", "duplicate criterion id")
        elif criterion is not None:
            criteria[criterion.id] = criterion
    if errors:
        raise CatalogErrors(errors)
    return tuple(criteria.values()), include_defaults is not False


def _criterion(scope: Scope, value: Any) -> Criterion | None:
    """One criterion with its topic vocabulary per language."""
    data = as_mapping(scope, value, "criterion")
    if data is None:
        return None
    criterion_id = slug_field(scope, data, "id")
    scope = scope.at(f"criterion {criterion_id}") if criterion_id else scope
    check_keys(scope, data, _CRITERION_KEYS)
    label = text_field(scope, data, "label", required=True)
    description = text_field(scope, data, "description")
    topics: dict[str, tuple[str, ...]] = {}
    raw = data.get("topics", {})
    for lang, terms in (as_mapping(scope, raw, "topics") or {}).items():
        if not _LANG.match(lang):
            scope.error(f"topics.{lang}", "not a language code such as en, de, fr")
        found = strings_field(scope, {f"topics.{lang}": terms}, f"topics.{lang}")
        for term in found:
            if any(word.strip("*") == "" for word in term.split()):
                scope.error(
                    f"topics.{lang}", f"term {preview(term)} has a bare * (it would match anything)"
                )
        topics[lang] = found
    kinds = _source_kinds(scope, data)
    if not (criterion_id and label):
        return None
    return Criterion(
        id=criterion_id, label=label, description=description, topics=topics, kinds=kinds
    )


def _source_kinds(scope: Scope, data: dict[str, Any]) -> tuple[SourceKind, ...]:
    """The criterion's `source_kinds:`, each a known source kind (an error otherwise)."""
    kinds: list[SourceKind] = []
    for named in strings_field(scope, data, "source_kinds"):
        kind = source_kind(named)
        if kind is None:
            scope.error(
                "source_kinds", f"{preview(named)} is not a source kind ({', '.join(SOURCE_KINDS)})"
            )
        else:
            kinds.append(kind)
    return tuple(kinds)
