"""Files of a report folder written atomically: a reader (a browser, a web server, a feed
reader) sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

# Files get the mode a plain open() would give them (mkstemp's own is 0600, which a web
# server running as another user could not read). Read once: os.umask can only be read by
# setting it.
_UMASK = os.umask(0o022)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK


def fill_atomic(
    target: Path, fill: Callable[[IO[Any]], Any], *, binary: bool = False, made: bool = False
) -> None:
    """Let `fill` write the file's content into a temp file in the same folder, then rename
    it over the target (text files: UTF-8); `made`: the folder is known to exist."""
    if not made:
        target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8") as fh:
            fill(fh)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Folder:
    """A report's output folder: files are written and removed inside it only."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._folders: dict[str, Path] = {"": self.root}
        self._made: set[Path] = set()  # folders known to exist (a mkdir a file costs)

    def path(self, rel: str) -> Path:
        """Where a file of the folder goes; a path that would leave it is refused."""
        folder, _, name = rel.rpartition("/")
        parent = self._folders.get(folder)
        if parent is None:
            # Resolved once per folder (a symlinked folder counts where it points), not per
            # file: a year of history is ~75,000 files.
            parent = (self.root / folder).resolve()
            if not parent.is_relative_to(self.root):
                raise ValueError(f"report path escapes the output folder: {rel}")
            self._folders[folder] = parent
        if name in ("", ".", ".."):
            raise ValueError(f"report path escapes the output folder: {rel}")
        return parent / name

    def write(self, rel: str, data: bytes) -> None:
        """Write a file atomically (a symlink in its place is replaced, never followed)."""
        target = self.path(rel)
        if target.parent not in self._made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(target.parent)
        fill_atomic(target, lambda fh: fh.write(data), binary=True, made=True)

    def remove(self, rel: str) -> None:
        """Remove a file, and the folders it leaves empty (not the root)."""
        try:
            target = self.path(rel)
        except ValueError:
            return  # never outside the folder
        if not target.is_file():
            return
        target.unlink()
        folder = target.parent
        while (
            folder != self.root and folder.is_relative_to(self.root) and not any(folder.iterdir())
        ):
            folder.rmdir()
            self._made.discard(folder)
            folder = folder.parent
