"""The benches' disk cache: results that depend only on their inputs, keyed by a hash of them.

A key always includes the source of the code that computed the value, so an edit of the
product or of a bench never reads a stale entry; the cache only saves time.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

DEFAULT = Path(tempfile.gettempdir()) / "citewatch-bench-cache"


def default_dir() -> Path:
    """The cache folder: $CITEWATCH_BENCH_CACHE, else a folder in the system's temp dir."""
    return Path(os.environ.get("CITEWATCH_BENCH_CACHE") or DEFAULT)


def key(parts: Iterable[object], files: Iterable[Path] = ()) -> str:
    """A short hash of some values and of the bytes of some files."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode("utf-8") + b"\0")
    for file in sorted(files):
        digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def read(path: Path) -> Any | None:
    """A cached JSON value (None when absent or unreadable)."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError, EOFError):
        return None


def write(path: Path, value: Any) -> None:
    """Store a JSON value atomically (concurrent workers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8") as fh:
        json.dump(value, fh)
    os.replace(tmp, path)
