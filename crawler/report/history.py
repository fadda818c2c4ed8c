"""Read the site's history from the database: every change and every version of each source
(their metadata: no text is read)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from crawler.catalog.model import Catalog
from crawler.report.parts import Names, suppressed_changes, tier_of
from crawler.report.stored import StoredHistory, flagged_criteria
from reports.history import NO_SUPPRESSED, ChangeEntry, SiteHistory, SourceTimeline, Version
from storage import Store
from storage.records import ChangeRecord, FlagRecord, VersionRecord


def change_entries(
    store: Store,
    records: Iterable[ChangeRecord],
    names: Mapping[str, str] | None = None,
    *,
    flags: Iterable[FlagRecord] | None = None,
) -> tuple[ChangeEntry, ...]:
    """Change records with the criteria each flagged; tool names from `names` (else the id);
    `flags`: the stored flags when already read."""
    flagged = flagged_criteria(store.flags() if flags is None else flags)
    names = names or {}
    return tuple(_entry(c, names.get(c.tool_id, c.tool_id), flagged.get(c.id, ())) for c in records)


def build_history(
    store: Store, catalog: Catalog, suppressed: int = 0, *, stored: StoredHistory | None = None
) -> SiteHistory:
    """Timelines for the catalog's sources and the whole change history, oldest first; with
    `suppressed`, that many of the newest noise and minor changes (with their diffs named)
    for their pages. `stored`: what the report already read."""
    stored = stored or StoredHistory.read(store)
    names = {t.id: t.name for t in catalog.tools}
    changes = change_entries(store, stored.changes, names, flags=stored.flags)
    by_new_snapshot = {c.new_snapshot_id: c for c in changes}
    # Catalog order, so a tool's page lists its sources as the catalog does.
    pairs = [(t.id, s.id) for t in catalog.tools for s in t.sources]
    order = {pair: i for i, pair in enumerate(pairs)}
    known = sorted(
        (row for row in store.sources() if (row.tool_id, row.source_id) in order),
        key=lambda row: order[(row.tool_id, row.source_id)],
    )
    versions: dict[int, list[VersionRecord]] = {}
    for v in store.versions():  # one query, oldest first per source
        versions.setdefault(v.source_pk, []).append(v)
    timelines: list[SourceTimeline] = []
    for state in known:
        stored_versions = versions.get(state.pk)
        if stored_versions:
            timelines.append(
                SourceTimeline(
                    tool_id=state.tool_id,
                    tool_name=names.get(state.tool_id, state.tool_id),
                    source_id=state.source_id,
                    url=state.url,
                    versions=tuple(_version(v, by_new_snapshot.get(v.id)) for v in stored_versions),
                )
            )
    quiet = (
        suppressed_changes(store, stored.changes, Names.of(catalog), suppressed)
        if suppressed
        else NO_SUPPRESSED
    )
    return SiteHistory(tuple(timelines), changes, quiet)


def _version(v: VersionRecord, change: ChangeEntry | None) -> Version:
    return Version(
        snapshot_id=v.id,
        taken_at=v.taken_at,
        technical=v.technical,
        raw_sha=v.raw_sha,
        text_sha=v.text_sha,
        content_type=v.content_type,
        final_url=v.final_url,
        change=change,
        screenshot_sha=v.screenshot_sha,
        screenshot_size=v.screenshot_size,
        boxes=v.boxes,
    )


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
