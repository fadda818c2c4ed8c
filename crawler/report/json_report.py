"""report.json, written as it is encoded: the context's long lists one element at a time.

The file is what `json.dumps(payload, indent=1, ensure_ascii=False)` gives, byte for byte,
without holding the encoder's millions of pieces at once (a year of history's report is
~30 MB; encoded in one go it peaked at 400 MB). Values become plain data first (dataclasses
as objects, diffs as their added and removed passages), each type's fields looked up once.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from diffs.text import TextDiff
from reports.context import ReportContext, StoredDiff
from reports.files import fill_atomic
from reports.summaries import Summary

_FIELDS: dict[type, tuple[str, ...] | None] = {}
# What json.dumps(ensure_ascii=False) writes for these (the C string encoder it uses).
_string: Callable[[str], str] = json.encoder.encode_basestring
_LITERALS = {None: "null", True: "true", False: "false"}


def plain(value: Any, summaries: Mapping[StoredDiff, Summary]) -> Any:
    """A value of the report context as JSON data."""
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, tuple | list):
        return [plain(v, summaries) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, TextDiff):
        return {"added": list(value.added_text()), "removed": list(value.removed_text())}
    if isinstance(value, StoredDiff):
        added, removed = summaries[value]
        return {"added": list(added), "removed": list(removed)}
    if isinstance(value, dict):
        return {k: plain(v, summaries) for k, v in value.items()}
    names = _fields(value)
    if names is None:
        raise TypeError(type(value).__name__)
    return {name: plain(getattr(value, name), summaries) for name in names}


def _fields(value: Any) -> tuple[str, ...] | None:
    """The field names of a context dataclass (None: not one; diffs are no objects here)."""
    kind = type(value)
    if kind not in _FIELDS:
        plain_object = dataclasses.is_dataclass(value) and not isinstance(value, type)
        special = isinstance(value, TextDiff | StoredDiff)
        _FIELDS[kind] = (
            tuple(f.name for f in dataclasses.fields(kind))
            if plain_object and not special
            else None
        )
    return _FIELDS[kind]


def _encoded(value: Any, depth: int) -> str:
    """One value as json.dumps(indent=1) writes it `depth` levels down: JSON strings hold no
    raw newline, so every newline is a line break to indent further."""
    text = json.dumps(value, ensure_ascii=False, indent=1)
    return text.replace("\n", "\n" + " " * depth) if depth else text


class _Encoder:
    """Encodes context values `depth` levels down, each object once: every flag of a rating
    repeats the rating's review history (2,000 flags of a year: 136,000 resolutions, 2,000
    distinct), so an object met again costs a lookup."""

    def __init__(self, summaries: Mapping[StoredDiff, Summary]) -> None:
        self.summaries = summaries
        self.seen: dict[tuple[int, int], tuple[object, str]] = {}

    def __call__(self, value: Any, depth: int) -> str:
        if isinstance(value, str):  # the leaves json.dumps would encode the same way
            return _string(value)
        if value is None or isinstance(value, bool):
            return _LITERALS[value]
        if type(value) is int:
            return int.__repr__(value)
        if isinstance(value, tuple) and value:
            pad = " " * (depth + 1)
            items = ",\n".join(pad + self(item, depth + 1) for item in value)
            return f"[\n{items}\n{' ' * depth}]"
        names = _fields(value)
        if not names:  # a leaf, a diff, a mapping, or an object without fields ("{}")
            return _encoded(plain(value, self.summaries), depth)
        key = (id(value), depth)
        found = self.seen.get(key)
        if found is not None and found[0] is value:
            return found[1]
        pad = " " * (depth + 1)
        members = ",\n".join(
            f"{pad}{_string(n)}: {self(getattr(value, n), depth + 1)}" for n in names
        )
        text = f"{{\n{members}\n{' ' * depth}}}"
        self.seen[key] = (value, text)  # the value is kept alive, so its id stays its own
        return text


def write_report_json(
    target: Path,
    ctx: ReportContext,
    digest: Mapping[str, Any],
    summaries: Mapping[StoredDiff, Summary],
) -> None:
    """Write the context's fields and the digest as one JSON object, atomically."""
    fields = [(name, getattr(ctx, name)) for name in _names(ctx)] + [("digest", digest)]
    fill_atomic(target, lambda fh: _object(fh.write, fields, summaries))


def _object(
    write: Callable[[str], Any],
    fields: list[tuple[str, Any]],
    summaries: Mapping[StoredDiff, Summary],
) -> None:
    encode = _Encoder(summaries)
    write("{\n")
    for i, (name, value) in enumerate(fields):
        write(f" {json.dumps(name, ensure_ascii=False)}: ")
        if isinstance(value, tuple) and value:  # the long lists: flags, changes
            write("[\n")
            for j, item in enumerate(value):
                write("  " + encode(item, 2))
                write(",\n" if j < len(value) - 1 else "\n")
            write(" ]")
        else:
            write(encode(value, 1))
        write(",\n" if i < len(fields) - 1 else "\n")
    write("}")


def _names(ctx: ReportContext) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(ctx))
