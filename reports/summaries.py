"""The added and removed passages of changes' diffs, kept in the report's folder.

report.json lists them for every change of the report; a diff is computed once (by the
site's change page or by the export) and read back in later reports. Entries are keyed by
the two texts' SHA-256 (a stored text never changes) and by the code that diffs (an upgrade
starts afresh); a save keeps only the entries the report used.
"""

from __future__ import annotations

import json
from pathlib import Path

from diffs.text import TextDiff
from reports.context import StoredDiff
from reports.files import fill_atomic
from reports.manifest import STATE_DIR

SUMMARIES = "diffs.json"
Summary = tuple[tuple[str, ...], tuple[str, ...]]  # (added passages, removed passages)


def summary_of(diff: TextDiff) -> Summary:
    """What report.json shows of a diff."""
    return diff.added_text(), diff.removed_text()


class DiffSummaries:
    """The summaries of one report folder, read at start and saved when the report used
    them."""

    def __init__(self, root: Path, build: str) -> None:
        self.path = root / STATE_DIR / SUMMARIES
        self.build = build
        self._known: dict[str, Summary] | None = None  # read when first asked
        self.used: dict[str, Summary] = {}
        self.changed = False

    @property
    def known(self) -> dict[str, Summary]:
        """The summaries the folder kept (read once, when a report first needs them)."""
        if self._known is None:
            self._known = self._load()
        return self._known

    def _load(self) -> dict[str, Summary]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data["build"] != self.build:
                return {}
            return {
                str(k): (tuple(map(str, added)), tuple(map(str, removed)))
                for k, (added, removed) in data["diffs"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}  # none, unreadable or of other code: computed again

    def get(self, diff: StoredDiff) -> Summary | None:
        """The diff's summary, if one was kept."""
        key = _key(diff)
        found = self.used.get(key) or self.known.get(key)
        if found is not None:
            self.used[key] = found
        return found

    def put(self, stored: StoredDiff, diff: TextDiff) -> Summary:
        """Keep the summary of a diff just computed."""
        key = _key(stored)
        found = self.used[key] = summary_of(diff)
        self.changed = self.changed or key not in self.known
        return found

    def save(self) -> None:
        """Write the summaries this report used (when they differ from the file's)."""
        if not self.used and self._known is None:
            return  # this report listed no diff
        if not self.changed and set(self.used) == set(self.known):
            return
        payload = {"build": self.build, "diffs": {k: self.used[k] for k in sorted(self.used)}}
        text = json.dumps(payload, ensure_ascii=False)  # the C encoder (json.dump is Python)
        fill_atomic(self.path, lambda fh: fh.write(text))


def _key(diff: StoredDiff) -> str:
    return f"{diff.old_sha}:{diff.new_sha}"
