"""Pieces of the report context read from the database: changes (their diffs named by their
texts), evidence never found, citation gaps, and the newest changes citewatch kept quiet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from crawler.catalog.model import Catalog
from crawler.report.stored import stored_diffs
from crawler.report.watching import unwatched
from reports.context import (
    ChangedSentence,
    ChangeTier,
    CitationGap,
    ReportChange,
    StoredDiff,
    UnwatchedEvidence,
)
from reports.history import SUPPRESSED_LIMIT, SuppressedChanges
from storage import Store
from storage.records import ChangeRecord

TIERS: tuple[ChangeTier, ...] = ("substantive", "minor", "noise")


@dataclass(frozen=True, slots=True)
class Names:
    """Display names from the catalog, looked up once per report; unknown ids show as is."""

    tools: Mapping[str, str]
    criteria: Mapping[str, str]

    @classmethod
    def of(cls, catalog: Catalog) -> Names:
        """The names of a catalog's tools and criteria."""
        return cls({t.id: t.name for t in catalog.tools}, {c.id: c.label for c in catalog.criteria})

    def tool(self, tool_id: str) -> str:
        """A tool's name (its id when the catalog no longer has it)."""
        return self.tools.get(tool_id, tool_id)

    def criterion(self, criterion_id: str) -> str:
        """A criterion's label (its id when the taxonomy no longer has it)."""
        return self.criteria.get(criterion_id, criterion_id)


def tier_of(c: ChangeRecord) -> ChangeTier:
    """A stored change's tier; one the code does not know reads as substantive when the change
    was significant, else as noise (the stored verdict wins)."""
    if c.tier in TIERS and (c.tier == "substantive") == c.significant:
        return c.tier
    return "substantive" if c.significant else "noise"


def report_change(
    c: ChangeRecord, tool_name: str, diff: StoredDiff, flagged: tuple[str, ...] = ()
) -> ReportChange:
    """A stored change, its diff named by its two snapshots' texts (computed when shown)."""
    return ReportChange(
        id=c.id,
        tool_id=c.tool_id,
        tool_name=tool_name,
        source_id=c.source_id,
        url=c.url,
        detected_at=c.detected_at,
        significant=c.significant,
        tier=tier_of(c),
        reason=c.reason,
        technical=c.technical,
        old_snapshot_id=c.old_snapshot_id,
        new_snapshot_id=c.new_snapshot_id,
        diff=diff,
        added_count=c.added,
        removed_count=c.removed,
        flags=flagged,
    )


def unwatched_evidence(
    store: Store, catalog: Catalog, names: Names
) -> tuple[UnwatchedEvidence, ...]:
    """The catalog's evidence quotes never found in their source, in catalog order."""
    order = {t.id: i for i, t in enumerate(catalog.tools)}
    found = sorted(unwatched(store, catalog), key=lambda a: order.get(a.tool_id, len(order)))
    return tuple(
        UnwatchedEvidence(
            tool_id=a.tool_id,
            tool_name=names.tool(a.tool_id),
            criterion_id=a.criterion_id,
            criterion_label=names.criterion(a.criterion_id),
            source_id=a.source_id,
            quote=a.quote,
            closest=a.passage,
            score=a.score,
        )
        for a in found
    )


def citation_gaps(store: Store, change_ids: Iterable[int], names: Names) -> tuple[CitationGap, ...]:
    """The citation gaps these changes raised, oldest first."""
    return tuple(
        CitationGap(
            id=g.id,
            change_id=g.change_id,
            tool_id=g.tool_id,
            tool_name=names.tool(g.tool_id),
            criterion_id=g.criterion_id,
            criterion_label=names.criterion(g.criterion_id),
            source_id=g.source_id,
            sentences=tuple(ChangedSentence.between(old, new) for old, new in g.sentences),
            matched_terms=g.matched_terms,
        )
        for g in store.suggestions(list(change_ids))
    )


def suppressed_changes(
    store: Store,
    records: Sequence[ChangeRecord],
    names: Names,
    limit: int = SUPPRESSED_LIMIT,
) -> SuppressedChanges:
    """The newest `limit` noise and minor changes of `records` (the whole history), with the
    diffs of their pages, and how many there are in all."""
    quiet = [c for c in records if tier_of(c) in ("noise", "minor") and not c.technical]
    newest = sorted(quiet, key=lambda c: (c.detected_at, c.id), reverse=True)[: max(0, limit)]
    diffs = stored_diffs(store, newest)
    return SuppressedChanges(
        tuple(report_change(c, names.tool(c.tool_id), diffs[c.id]) for c in newest), len(quiet)
    )
