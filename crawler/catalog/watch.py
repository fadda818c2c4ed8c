"""The catalog as the scheduler sees it: reloaded when its files change, last good one kept."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from crawler.catalog.files import FileProblem, catalog_files, read_bounded
from crawler.catalog.model import Catalog, CatalogError, load_catalog

log = logging.getLogger("citewatch.run")


def fingerprint(folder: Path) -> str:
    """A hash of the catalog's files: names and bytes (or why they cannot be read).

    Only the files `load_catalog` reads, read the way it reads them: a FIFO or a huge file
    beside them cannot block or swamp the scheduler.
    """
    digest = hashlib.sha256()
    try:
        paths = catalog_files(folder)
    except OSError as exc:
        return f"unlistable: {exc}"
    for path in paths:
        digest.update(os.fsencode(path.relative_to(folder)) + b"\0")
        try:
            digest.update(read_bounded(path))
        except FileProblem as exc:
            digest.update(str(exc).encode())
        digest.update(b"\0")
    return digest.hexdigest()


class CatalogWatch:
    """Loads the catalog folder again whenever its fingerprint changes.

    A broken edit is logged once and the last good catalog stays in use; crawl children then
    get a private copy of it (`crawl_path`), since they would otherwise load the broken files.
    """

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self._copies = tempfile.TemporaryDirectory(prefix="citewatch-catalog-")
        self._seen = ""  # fingerprint of the files last looked at
        self._good = ""  # fingerprint of the catalog in use
        self.catalog = self._load_first()

    def _load_first(self) -> Catalog:
        self._seen = fingerprint(self.folder)
        catalog = load_catalog(self.folder)  # a broken catalog at start is the caller's error
        self._keep(catalog)
        return catalog

    def _keep(self, catalog: Catalog) -> None:
        """Copy the files of a good catalog (only those: a FIFO beside them would hang a copy)."""
        self._good = self._seen
        copy = Path(self._copies.name) / "catalog"
        shutil.rmtree(copy, ignore_errors=True)
        (copy / "tools").mkdir(parents=True)
        for path in catalog_files(self.folder):
            (copy / path.relative_to(self.folder)).write_bytes(read_bounded(path))

    def refresh(self) -> Catalog:
        """The catalog to use now: reloaded if the files changed and still valid."""
        try:
            seen = fingerprint(self.folder)
        except OSError as exc:
            log.error("catalog %s unreadable, keeping the last good one: %s", self.folder, exc)
            return self.catalog
        if seen == self._seen:
            return self.catalog
        self._seen = seen
        try:
            catalog = load_catalog(self.folder)
        except CatalogError as exc:
            log.error("catalog %s is broken, keeping the last good one:\n%s", self.folder, exc)
            return self.catalog
        except Exception as exc:  # a loader bug must not stop the scheduler: keep the good one
            log.error(
                "catalog %s could not be loaded, keeping the last good one: %s: %s",
                self.folder,
                type(exc).__name__,
                exc,
            )
            return self.catalog
        try:
            self._keep(catalog)
        except (OSError, FileProblem) as exc:  # the catalog is good; only its spare copy failed
            log.error("catalog %s: could not copy it for crawls: %s", self.folder, exc)
        self.catalog = catalog
        log.info("catalog %s reloaded: %d tools", self.folder, len(catalog.tools))
        return catalog

    @property
    def crawl_path(self) -> str:
        """The folder a crawl child should load: the live one while it is the good one."""
        if self._seen == self._good:
            return str(self.folder)
        return str(Path(self._copies.name) / "catalog")

    def close(self) -> None:
        """Remove the private copy."""
        self._copies.cleanup()
