"""Read the site's history from the database: every change and every version of each source."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from crawler.catalog.model import Catalog
from crawler.report.parts import Names, suppressed_changes, tier_of
from reports.history import NO_SUPPRESSED, ChangeEntry, SiteHistory, SourceTimeline, Version
from storage import Store
from storage.records import ChangeRecord


def change_entries(
    store: Store, records: Iterable[ChangeRecord], names: Mapping[str, str] | None = None
) -> tuple[ChangeEntry, ...]:
    """Change records with the criteria each flagged; tool names from `names` (else the id)."""
    flagged: dict[int, list[str]] = {}
    for flag in store.flags():
        for reason in flag.reasons:
            if reason.change_id is not None:  # a broken-source reason belongs to no change
                flagged.setdefault(reason.change_id, []).append(flag.criterion_id)
    names = names or {}
    return tuple(
        _entry(c, names.get(c.tool_id, c.tool_id), tuple(dict.fromkeys(flagged.get(c.id, []))))
        for c in records
    )


def build_history(store: Store, catalog: Catalog, suppressed: int = 0) -> SiteHistory:
    """Timelines for the catalog's sources and the whole change history, oldest first; with
    `suppressed`, that many of the newest noise and minor changes diffed for their pages."""
    names = {t.id: t.name for t in catalog.tools}
    records = store.changes()
    changes = change_entries(store, records, names)
    by_new_snapshot = {c.new_snapshot_id: c for c in changes}
    # Catalog order, so a tool's page lists its sources as the catalog does.
    pairs = [(t.id, s.id) for t in catalog.tools for s in t.sources]
    order = {pair: i for i, pair in enumerate(pairs)}
    known = sorted(
        (row for row in store.sources() if (row.tool_id, row.source_id) in order),
        key=lambda row: order[(row.tool_id, row.source_id)],
    )
    timelines: list[SourceTimeline] = []
    for state in known:
        versions = tuple(
            Version(
                snapshot_id=snap.id,
                taken_at=snap.taken_at,
                technical=snap.technical,
                raw_sha=snap.raw_sha,
                text_sha=snap.text_sha,
                content_type=snap.content_type,
                final_url=snap.final_url,
                change=by_new_snapshot.get(snap.id),
            )
            for snap in store.snapshots(state.pk)
        )
        if versions:
            name = names.get(state.tool_id, state.tool_id)
            timelines.append(
                SourceTimeline(
                    tool_id=state.tool_id,
                    tool_name=name,
                    source_id=state.source_id,
                    url=state.url,
                    versions=versions,
                )
            )
    quiet = (
        suppressed_changes(store, records, Names.of(catalog), suppressed)
        if suppressed
        else NO_SUPPRESSED
    )
    return SiteHistory(tuple(timelines), changes, quiet)


def _entry(c: ChangeRecord, tool_name: str, flags: tuple[str, ...]) -> ChangeEntry:
    return ChangeEntry(
        id=c.id,
        tool_id=c.tool_id,
        tool_name=tool_name,
        source_id=c.source_id,
        url=c.url,
        detected_at=c.detected_at,
        significant=c.significant,
        tier=tier_of(c),
        technical=c.technical,
        reason=c.reason,
        added=c.added,
        removed=c.removed,
        old_snapshot_id=c.old_snapshot_id,
        new_snapshot_id=c.new_snapshot_id,
        flags=flags,
    )
