"""Strict reading of catalog YAML files: errors that name file, entry and field; typed fields.

The loader keeps ``yes``/``no`` as text (YAML 1.2 booleans only) and rejects duplicate keys, so
``rating: yes`` means the rating and a key written twice is an error, not a silent overwrite.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")


class CatalogError(Exception):
    """A catalog file is invalid; names the file, the entry and the field."""

    def __init__(self, file: Path | str, entry: str, field: str, message: str) -> None:
        self.file = str(file)
        self.entry = entry
        self.field = field
        self.message = message
        super().__init__(f"{self.file}: {entry}: {field}: {message}")


class CatalogErrors(CatalogError):
    """Every error found in a catalog, raised together so a user fixes them in one pass."""

    def __init__(self, errors: Sequence[CatalogError]) -> None:
        self.errors = tuple(errors)
        first = self.errors[0]
        super().__init__(first.file, first.entry, first.field, first.message)

    def __str__(self) -> str:
        """One error per line."""
        return "\n".join(str(e) for e in self.errors)


class _Loader(yaml.SafeLoader):
    """YAML 1.2-style booleans (``rating: yes`` stays a string) and no duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# PyYAML follows YAML 1.1, where yes/no/on/off are booleans: a "rating: yes" would become True.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in rules if tag != "tag:yaml.org,2002:bool"]
    for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def parse_yaml(text: str, file: str | Path) -> Any:
    """Parse YAML text; a syntax error becomes a CatalogErrors naming the line."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        message = exc.problem or exc.context or "invalid YAML"
        lines = text.splitlines()
        if mark and mark.line < len(lines) and lines[mark.line].rstrip().endswith(": ?"):
            message += " (write the unknown rating as '?' in quotes)"
        raise CatalogErrors([CatalogError(file, where, "yaml", message)]) from None
    except yaml.YAMLError as exc:
        raise CatalogErrors([CatalogError(file, "file", "yaml", str(exc))]) from None


def read_yaml_file(path: Path) -> Any:
    """Parse a YAML file; unreadable files and syntax errors become CatalogErrors."""
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogErrors([CatalogError(path, "file", "file", f"cannot read: {exc}")]) from None
    return parse_yaml(content, path)


@dataclass(frozen=True, slots=True)
class Scope:
    """Where validation is: the file and entry that errors are reported against."""

    file: str
    entry: str
    errors: list[CatalogError]

    def error(self, field: str, message: str) -> None:
        """Record an error against this entry."""
        self.errors.append(CatalogError(self.file, self.entry, field, message))

    def at(self, entry: str) -> Scope:
        """The same file, another entry."""
        return Scope(self.file, entry, self.errors)


def as_mapping(scope: Scope, value: Any, field: str) -> dict[str, Any] | None:
    """The value as a mapping with string keys, or None after recording an error."""
    if not isinstance(value, dict):
        scope.error(field, f"expected a mapping, got {describe(value)}")
        return None
    for key in value:
        if not isinstance(key, str):
            scope.error(str(key), "keys must be strings")
            return None
    return value


def check_keys(scope: Scope, data: Mapping[str, Any], allowed: Sequence[str]) -> None:
    """Record every key that is not allowed here, suggesting the nearest allowed one."""
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            scope.error(key, f"unknown key ({hint}expected one of: {', '.join(allowed)})")


def text_field(scope: Scope, data: Mapping[str, Any], key: str, required: bool = False) -> str:
    """A string field ('' when absent and optional)."""
    value = data.get(key)
    if value is None:
        if required:
            scope.error(key, "required")
        return ""
    if not isinstance(value, str):
        scope.error(key, f"expected text, got {describe(value)}")
        return ""
    if required and not value.strip():
        scope.error(key, "must not be empty")
    return value


def slug_field(scope: Scope, data: Mapping[str, Any], key: str) -> str:
    """A required id field that must be a slug (lowercase letters, digits, - and _)."""
    value = data.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # an id such as 2024 is a fine slug once quoted; accept it
    text = text_field(scope, {key: value}, key, required=True)
    if text and not SLUG.match(text):
        scope.error(key, f"{text!r} is not a slug (lowercase letters, digits, - or _)")
    return text if text and SLUG.match(text) else ""


def strings_field(scope: Scope, data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """A field that is one string or a list of non-empty strings."""
    value = data.get(key)
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
        scope.error(key, "expected a string or a list of non-empty strings")
        return ()
    return tuple(items)


def describe(value: Any) -> str:
    """How a YAML value reads to a user, for error messages."""
    names = {bool: "true/false", int: "a number", float: "a number", list: "a list"}
    if isinstance(value, dict):
        return "a mapping"
    return names.get(type(value), "nothing" if value is None else repr(value))
