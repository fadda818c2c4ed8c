"""What one report reads from the database once and every part of it shares: each stored
change (without its texts) and each flag with its reasons and reviews."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from reports.context import StoredDiff
from storage import Store
from storage.records import ChangeRecord, FlagRecord


@dataclass(frozen=True, slots=True)
class StoredHistory:
    """Every stored change, oldest first, and every flag."""

    changes: tuple[ChangeRecord, ...]
    flags: tuple[FlagRecord, ...]

    @classmethod
    def read(cls, store: Store) -> StoredHistory:
        """Read them (metadata only: no text is decompressed)."""
        return cls(tuple(store.changes()), tuple(store.flags()))

    def since(self, store: Store, since: datetime | None) -> Sequence[ChangeRecord]:
        """The changes of a report period (the database compares the times, as before)."""
        return self.changes if since is None else store.changes(since)


def flagged_criteria(flags: Iterable[FlagRecord]) -> dict[int, tuple[str, ...]]:
    """change id -> the criteria whose flags cite it (a broken source's reason cites none)."""
    found: dict[int, dict[str, None]] = {}
    for flag in flags:
        for reason in flag.reasons:
            if reason.change_id is not None:
                found.setdefault(reason.change_id, {})[flag.criterion_id] = None
    return {change: tuple(criteria) for change, criteria in found.items()}


def stored_diffs(store: Store, changes: Iterable[ChangeRecord]) -> Mapping[int, StoredDiff]:
    """change id -> its diff, named by the texts of its two snapshots (one query)."""
    listed = list(changes)
    ids = {i for c in listed for i in (c.old_snapshot_id, c.new_snapshot_id)}
    texts = {v.id: v.text_sha for v in store.versions(ids=ids)} if ids else {}
    return {c.id: StoredDiff(texts[c.old_snapshot_id], texts[c.new_snapshot_id]) for c in listed}
