"""Strict reading of catalog YAML files: errors that name file, entry and field; typed fields.

The loader (`crawler.catalog.yaml_loader`) keeps ``yes``/``no`` as text (YAML 1.2 booleans only)
and rejects duplicate keys, so ``rating: yes`` means the rating and a key written twice is an
error, not a silent overwrite. Every error is one line, however long or odd the text it quotes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from crawler.catalog.fast_yaml import fast_load
from crawler.catalog.limits import MAX_ID_CHARS, PREVIEW_CHARS
from crawler.catalog.yaml_loader import loader_for

SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")


class CatalogError(Exception):
    """A catalog file is invalid; names the file, the entry and the field."""

    def __init__(self, file: Path | str, entry: str, field: str, message: str) -> None:
        # Keys, ids and file names come from the catalog: escaped and cut, so that each error
        # stays one line of `check` whatever they hold.
        self.file = one_line(str(file), 4096)
        self.entry = one_line(entry, 2 * PREVIEW_CHARS)
        self.field = one_line(field, PREVIEW_CHARS) or "''"  # an empty key
        self.message = one_line(message, 8 * PREVIEW_CHARS)
        super().__init__(f"{self.file}: {self.entry}: {self.field}: {self.message}")


class CatalogErrors(CatalogError):
    """Every error found in a catalog, raised together so a user fixes them in one pass."""

    def __init__(self, errors: Sequence[CatalogError]) -> None:
        self.errors = tuple(errors)
        first = self.errors[0]
        super().__init__(first.file, first.entry, first.field, first.message)

    def __str__(self) -> str:
        """One error per line."""
        return "\n".join(str(e) for e in self.errors)


def one_line(text: str, limit: int) -> str:
    """Text cut to `limit` characters, line breaks and other unprintable ones escaped."""
    if len(text) <= limit and text.isprintable():
        return text
    cut = text[:limit]
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return shown + ("…" if len(text) > limit else "")


def preview(text: str) -> str:
    """A value quoted for an error message: its repr, cut after PREVIEW_CHARS characters."""
    if len(text) <= PREVIEW_CHARS:
        return repr(text)
    return f"{text[:PREVIEW_CHARS]!r}… ({len(text):,} characters)"


def parse_yaml(text: str, file: str | Path) -> Any:
    """Parse YAML text; any problem becomes a CatalogErrors naming the line."""
    done, document = fast_load(text)
    if done:
        return document
    try:  # the Python loader: the errors users see come from it
        return yaml.load(text, Loader=loader_for(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        message = exc.problem or exc.context or "invalid YAML"
        lines = text.splitlines()
        if mark and mark.line < len(lines) and lines[mark.line].rstrip().endswith(": ?"):
            message += " (write the unknown rating as '?' in quotes)"
        raise CatalogErrors([CatalogError(file, where, "yaml", message)]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, such as NUL
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - text.rfind("\n", 0, exc.position)
        message = f"unacceptable character #x{exc.character:04x}: {exc.reason}"
        where = f"line {line}, column {column}"
        raise CatalogErrors([CatalogError(file, where, "yaml", message)]) from None
    except yaml.YAMLError as exc:
        raise CatalogErrors([CatalogError(file, "file", "yaml", str(exc))]) from None


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
    """A required id field: a slug (lowercase letters, digits, - and _) of MAX_ID_CHARS at most."""
    value = data.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # an id such as 2024 is a fine slug once quoted; accept it
    text = text_field(scope, {key: value}, key, required=True)
    if not text:
        return ""
    if len(text) > MAX_ID_CHARS:
        scope.error(
            key, f"{preview(text)} is too long: an id has at most {MAX_ID_CHARS} characters"
        )
        return ""
    if not SLUG.match(text):
        scope.error(key, f"{preview(text)} is not a slug (lowercase letters, digits, - or _)")
        return ""
    return text


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
    """How a YAML value reads to a user, for error messages: its type, or a short preview.

    Never the repr of a collection: aliases can make a small file a huge structure.
    """
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return preview(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, date):  # datetime too: an unquoted 2024-05-01 is a date in YAML
        return f"a date ({value.isoformat()}; quote it to write text)"
    return f"a YAML {type(value).__name__}"
