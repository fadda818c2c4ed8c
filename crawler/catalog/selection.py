"""Which sources a crawl covers: sets of names over the catalog, and the selection file.

A selection is a set (one pass over the catalog, whatever its size) and travels between
processes in a selection file (`crawl --source-file`, written by `citewatch run`): one
TOOL/SOURCE a line, never one command-line argument a source.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from crawler.catalog.limits import MAX_SELECTION_BYTES
from crawler.catalog.model import Catalog, Source, Tool

__all__ = [
    "MAX_SELECTION_BYTES",
    "SelectionError",
    "read_selection",
    "select_sources",
    "write_selection",
]


class SelectionError(Exception):
    """--tool / --source name nothing in the catalog, or a selection file is unusable."""


def select_sources(
    catalog: Catalog, tools: Iterable[str] = (), sources: Iterable[str] = ()
) -> list[tuple[Tool, Source]]:
    """The (tool, source) pairs a run covers, in catalog order (one pass: names are a set)."""
    tools, sources = frozenset(tools), frozenset(sources)
    picked = [
        (tool, source)
        for tool in catalog.tools
        if not tools or tool.id in tools
        for source in tool.sources
        # A source given as TOOL/SOURCE names exactly one (what `citewatch run` passes).
        if not sources or source.id in sources or f"{tool.id}/{source.id}" in sources
    ]
    unknown_tools = tools - {t.id for t in catalog.tools}
    if unknown_tools:
        raise SelectionError(f"no tool {', '.join(sorted(unknown_tools))} in {catalog.path}")
    if not picked:
        raise SelectionError(f"no source {_names(sources)} in the selected tools")
    return picked


def _names(names: frozenset[str], shown: int = 5) -> str:
    """A few of the names, sorted (an error line stays short for 100,000 of them)."""
    first = sorted(names)[:shown]
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(first) + more


def write_selection(path: Path, names: Iterable[str]) -> Path:
    """Write a selection file: one TOOL/SOURCE (or SOURCE) a line; returns its path."""
    path.write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
    return path


def read_selection(path: Path) -> tuple[str, ...]:
    """The names of a selection file, in order; blank lines are skipped.

    A file that names nothing is an error, never "every source" (what no --source means).
    """
    try:
        with path.open("rb") as file:
            data = file.read(MAX_SELECTION_BYTES + 1)
    except OSError as exc:
        raise SelectionError(f"cannot read selection file {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_SELECTION_BYTES:
        raise SelectionError(
            f"selection file {path} is larger than {MAX_SELECTION_BYTES >> 20} MiB"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SelectionError(f"selection file {path} is not UTF-8 text: {exc.reason}") from exc
    if "\x00" in text:
        raise SelectionError(f"selection file {path} holds a NUL character: not a list of names")
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    if not names:
        raise SelectionError(f"selection file {path} names no source")
    return names
