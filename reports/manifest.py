"""What the site's folder holds and from which inputs, so a report rewrites only what changed.

The manifest (.citewatch/site.json in the site's folder) maps every file the site wrote to
the hash of its inputs (a page's view, a snapshot file's SHA-256). A page whose hash is
unchanged and whose file is still there is not rendered again; a file the site no longer
has is removed. Before anything is written, the files about to be written or removed are
listed in a journal (.citewatch/site.pending.json), so a run cut short leaves them for the
next run to redo; the manifest is rewritten once the run is done, when it changed.
The code that renders pages is part of every hash (build_key): an upgrade rebuilds all.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from reports.files import fill_atomic

STATE_DIR = ".citewatch"  # the site's own bookkeeping, beside its pages
MANIFEST = "site.json"
JOURNAL = "site.pending.json"  # the files a run is about to change, until it is done
FORMAT = 1  # of the manifest file; another value is read as no manifest
_CODE = Path(__file__).resolve().parent  # reports/
_RENDERING = (_CODE, _CODE.parent / "diffs")  # templates and filters; the diffs pages show


@functools.cache  # a report asks twice (site manifest, diff summaries); the code is loaded once
def build_key() -> str:
    """A hash of the code and templates that render the site's files."""
    digest = hashlib.sha256(f"manifest {FORMAT}".encode())
    for folder in _RENDERING:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in {".py", ".html", ".md", ".txt"}:
                digest.update(path.relative_to(folder.parent).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def input_key(kind: str, view: object) -> str:
    """The hash of a file's inputs: its kind and the repr of its view (tuples and frozen
    dataclasses only, so the repr is the same in every process)."""
    return hashlib.sha256(f"{kind}\0{view!r}".encode()).hexdigest()


class SiteManifest:
    """The manifest of one site folder: file -> hash of the inputs it was written from."""

    def __init__(self, root: Path, build: str) -> None:
        self.root = root
        self.path = root / STATE_DIR / MANIFEST
        self.journal = root / STATE_DIR / JOURNAL
        self.build = build
        self.files = self._load()
        self.in_doubt = self._pending()
        # Files a run cut short may have written or left: known (so removed if the site no
        # longer has them), with no hash (so written again).
        self.files.update(dict.fromkeys(self.in_doubt, ""))

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            files = data["files"]
            same_code = data["format"] == FORMAT and data["build"] == self.build
        except (OSError, ValueError, KeyError, TypeError):
            return {}  # none, or unreadable: every page is rendered again
        if not isinstance(files, dict):
            return {}
        # Written by other code: every file is redone, and those gone from the site removed.
        return {str(p): (str(k) if same_code else "") for p, k in files.items()}

    def _pending(self) -> list[str]:
        try:
            paths = json.loads(self.journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [str(p) for p in paths] if isinstance(paths, list) else []

    def current(self, rel: str, key: str) -> bool:
        """Whether a file was written from inputs of this hash (the caller checks that it is
        still there)."""
        return bool(key) and self.files.get(rel) == key

    def begin(self, changing: Iterable[str]) -> None:
        """Write down, before any write, the files about to be written or removed: a run cut
        short leaves them in doubt for the next one (a short list, not the whole manifest)."""
        doubt = sorted({*changing, *self.in_doubt})
        if doubt:
            text = json.dumps(doubt)
            fill_atomic(self.journal, lambda fh: fh.write(text))

    def stale(self, planned: Mapping[str, str]) -> list[str]:
        """Files the site wrote before and no longer has."""
        return sorted(p for p in self.files if p not in planned)

    def commit(self, planned: Mapping[str, str]) -> None:
        """Record the files written and the inputs each came from; the doubt is over."""
        if planned != self.files or not self.path.is_file():
            data = {"format": FORMAT, "build": self.build, "files": dict(planned)}
            text = json.dumps(data, separators=(",", ":"))  # json.dumps: the C encoder
            fill_atomic(self.path, lambda fh: fh.write(text))
        self.journal.unlink(missing_ok=True)
        self.files, self.in_doubt = dict(planned), []
