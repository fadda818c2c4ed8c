"""What an extractor provides: the content types it reads, its rules version, how it reads.

An extractor is one module of crawler/extract/ (html.py, pdf.py, text.py) that defines an
`EXTRACTOR` and is listed once in document.py, which picks one per body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


class ExtractError(Exception):
    """A body could not be turned into text (empty, unparsable, unsupported type)."""


@dataclass(frozen=True, slots=True)
class Body:
    """A fetched body and what its source says about reading it."""

    raw: bytes
    content_type: str | None  # the HTTP header as sent, charset included
    url: str  # for error messages
    select: tuple[str, ...] = ()  # CSS: keep only these subtrees (markup only)
    exclude: tuple[str, ...] = ()  # CSS: drop these subtrees (markup only)


@dataclass(frozen=True, slots=True)
class Extractor:
    """One kind of body: the content types it reads, its rules version and how it reads them."""

    # Version of its extraction rules, e.g. "html/3", stored with every snapshot. Bump it
    # whenever the output for the same body can change: the store re-extracts old snapshots
    # with the new rules and records a technical upgrade instead of raising alerts.
    rules: str
    content_types: frozenset[str]  # MIME types, lowercase, without parameters
    # The body's normalized blocks (possibly none); ExtractError when it cannot be read.
    blocks: Callable[[Body], tuple[str, ...]]
