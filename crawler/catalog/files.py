"""The files a catalog is read from, read safely: regular files only, each and all bounded.

A FIFO named `x.yaml` would block `check` forever, `/dev/zero` would fill memory and a folder
cannot be read: only regular files are opened, after a stat, and never past MAX_FILE_BYTES.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crawler.catalog.limits import MAX_CATALOG_BYTES, MAX_FILE_BYTES
from crawler.catalog.strict_yaml import CatalogError, CatalogErrors, parse_yaml

__all__ = [
    "catalog_files",
    "read_bounded",
    "read_tool_files",
    "read_yaml_file",
    "tool_files",
]

_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


class FileProblem(Exception):
    """A catalog file that cannot be read: why, in one line."""


def tool_files(folder: Path) -> list[Path]:
    """The tool files of a tools/ folder in name order: *.yaml and *.yml, hidden ones skipped.

    Editors leave hidden swap and backup files (`.acme.yaml.swp`) beside the ones they edit.
    """
    names = (p for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
    return sorted(p for p in names if not p.name.startswith("."))


def catalog_files(root: Path) -> list[Path]:
    """Every file a catalog folder is loaded from: taxonomy.yaml (if any) and the tool files."""
    taxonomy = root / "taxonomy.yaml"
    found = [taxonomy] if os.path.lexists(taxonomy) else []
    tools = root / "tools"
    return found + (tool_files(tools) if tools.is_dir() else [])


def read_bounded(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes; FileProblem if it is anything else, unreadable or over `limit`."""
    try:
        # Stat before opening: opening a FIFO blocks and opening some devices acts.
        _check_kind(os.stat(path).st_mode)
        # O_NONBLOCK: should the path become a FIFO after the stat, opening it cannot block.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise FileProblem(f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        _check_kind(info.st_mode)
        if info.st_size > limit:
            raise FileProblem(_too_big(info.st_size, limit))
        # The size it has now, and one byte more to notice a file growing while it is read.
        data = handle.read(info.st_size + 1)
        if len(data) > info.st_size:
            data += handle.read(limit + 1 - len(data))
    if len(data) > limit:
        raise FileProblem(_too_big(len(data), limit))
    return data


def _check_kind(mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), "not a file")
        raise FileProblem(f"not a regular file ({kind}); catalog files are YAML files")


def _too_big(size: int, limit: int) -> str:
    return f"{size:,} bytes, over the limit of {limit:,} bytes for one catalog file"


def read_yaml_file(path: Path) -> Any:
    """Parse a YAML catalog file; unreadable files and syntax errors become CatalogErrors."""
    try:
        data = read_bounded(path)
    except FileProblem as exc:
        raise CatalogErrors([CatalogError(path, "file", "file", str(exc))]) from None
    return parse_yaml(_text(path, data), path)


def _text(path: Path, data: bytes) -> str:
    """The file's UTF-8 text, or CatalogErrors naming the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (byte {exc.start:,}: {exc.reason})"
        raise CatalogErrors([CatalogError(path, "file", "file", message)]) from None


def read_tool_files(folder: Path, errors: list[CatalogError]) -> Iterator[tuple[Path, Any]]:
    """Each tool file of tools/, parsed, in name order; the others' errors go to `errors`.

    Reading stops at MAX_CATALOG_BYTES, with one error naming the first file left unread.
    """
    try:
        files = tool_files(folder)
    except OSError as exc:
        errors.append(CatalogError(folder, "catalog", "tools", f"cannot read: {exc.strerror}"))
        return
    left = MAX_CATALOG_BYTES
    for file in files:
        try:
            data = read_bounded(file)
        except FileProblem as exc:
            errors.append(CatalogError(file, "file", "file", str(exc)))
            continue
        left -= len(data)
        if left < 0:
            message = (
                f"not read from {file.name} on: the tool files are over the limit of"
                f" {MAX_CATALOG_BYTES:,} bytes for a whole catalog"
            )
            errors.append(CatalogError(folder.parent, "catalog", "size", message))
            return
        try:
            parsed = parse_yaml(_text(file, data), file)
        except CatalogErrors as exc:
            errors.extend(exc.errors)
            continue
        yield file, parsed
