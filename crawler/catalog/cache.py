"""The parsed-catalog cache: a loaded Catalog kept between runs, keyed by its files' stats.

Parsing the YAML of 10,000 sources costs ~1.1 s of CPU; `status` reads the catalog only to
name and time its sources, so an unchanged catalog is read back from a pickle instead.
The key is taken from `stat` alone (no file is read): for every file the loader reads
(taxonomy.yaml and the tool files, as `catalog_files` lists them) its name, size, mtime_ns,
ctime_ns and inode, plus the loader's own source files and CACHE_FORMAT. Any change of a
file, an added or a removed tool file, or a new citewatch is a miss. An edit that keeps
size, mtime and ctime (within the file system's timestamp resolution) is not seen — the
limit every stat-keyed cache (make) has.

The cache is never an error: a missing, corrupt, foreign or outdated entry is ignored and
rewritten; a failed write is skipped. Only good catalogs are stored (the caller stores what
the real loader returned), so errors always come from the loader with their file and entry.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from crawler.catalog.files import catalog_files

__all__ = ["CACHE_FORMAT", "MAX_CACHED_CATALOGS", "MAX_CACHE_BYTES", "CatalogCache", "cache_key"]

# Bumped whenever the pickled form's meaning changes in a way the source stats below would
# not show (they already change with any edit of the loader or of the pickled classes).
CACHE_FORMAT = 1

# One cache entry. The pickle of 10,000 sources (1,000 tool files, 1.2 MB of YAML) measured
# 2.4 MB, so 64 MiB holds ~250,000 sources; the largest catalog the loader accepts (128 MiB
# of YAML) would pickle to ~250 MB. The limit bounds the disk used and what a damaged entry
# can cost to read; bigger catalogs are parsed each time.
MAX_CACHE_BYTES = 64 << 20

# Entries kept (one per catalog folder; the least recently written are removed): a machine
# watches a few catalogs, and test runs over temporary catalogs must not fill the folder.
MAX_CACHED_CATALOGS = 16

_MAGIC = b"citewatch catalog cache\n"
_DIGEST = 32  # bytes of the SHA-256 key written after the magic line
_HERE = Path(__file__).resolve().parent
# The code a cached Catalog depends on: the loader and the classes it builds.
_CODE = (_HERE, _HERE.parent.parent / "diffs" / "topics.py")


def cache_key(root: Path) -> bytes | None:
    """The stat key of a catalog folder; None when a file cannot be stat'ed (no caching)."""
    digest = hashlib.sha256(f"{CACHE_FORMAT}\0{sys.version}\0{root}\0".encode())
    digest.update(os.fsencode(os.path.abspath(root)) + b"\0")
    try:
        for path in [*_code_files(), *catalog_files(root)]:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode):
                return None  # the loader reports it: never cache around it
            line = f"{info.st_size} {info.st_mtime_ns} {info.st_ctime_ns} {info.st_ino}\0"
            digest.update(os.fsencode(path) + b"\0" + line.encode())
    except OSError:
        return None
    return digest.digest()


def _code_files() -> list[Path]:
    package, topics = _CODE
    return [*sorted(package.glob("*.py")), *sorted(package.glob("*.yaml")), topics]


@dataclass(frozen=True, slots=True)
class CatalogCache:
    """The folder parsed catalogs are kept in (one file per catalog folder)."""

    folder: Path

    def entry(self, root: Path) -> Path:
        """The cache file of a catalog folder, named by its path as given and resolved."""
        name = hashlib.sha256(os.fsencode(f"{os.path.abspath(root)}\0{root}")).hexdigest()
        return self.folder / "catalogs" / f"{name[:32]}.pickle"

    def read(self, root: Path, key: bytes) -> object | None:
        """The object stored for `root` under `key`; None on a miss or any problem."""
        try:
            fd = os.open(self.entry(root), os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            # A pickle runs code when loaded: only this user's own, not group/other-writable.
            if not _trusted(info) or info.st_size > MAX_CACHE_BYTES:
                return None
            head = handle.read(len(_MAGIC) + _DIGEST)
            if head != _MAGIC + key:
                return None
            try:
                found: object = pickle.loads(handle.read(MAX_CACHE_BYTES))
            except Exception:  # a corrupt or outdated entry is a miss, whatever it raises
                return None
            return found

    def write(self, root: Path, key: bytes, value: object) -> None:
        """Store `value` for `root` under `key`, atomically; a failure only skips caching."""
        try:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            return
        if len(data) + len(_MAGIC) + _DIGEST > MAX_CACHE_BYTES:
            return
        target = self.entry(root)
        try:
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".pickle")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(_MAGIC + key + data)
                os.replace(temp, target)
            except BaseException:
                os.unlink(temp)
                raise
            self._prune(target.parent)
        except OSError:
            return

    @staticmethod
    def _prune(folder: Path) -> None:
        """Keep the MAX_CACHED_CATALOGS most recently written entries."""
        entries = [p for p in folder.glob("*.pickle") if not p.name.startswith(".")]
        if len(entries) <= MAX_CACHED_CATALOGS:
            return
        entries.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in entries[MAX_CACHED_CATALOGS:]:
            old.unlink(missing_ok=True)


def _trusted(info: os.stat_result) -> bool:
    return info.st_uid == os.geteuid() and not info.st_mode & 0o022 and stat.S_ISREG(info.st_mode)
