"""Pieces of the report context read from the database: changes with their diffs, evidence
never found, citation gaps, and the newest changes citewatch kept quiet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from crawler.catalog.model import Catalog
from crawler.report.watching import unwatched
from diffs.text import TextDiff, diff_texts
from reports.context import (
    ChangedSentence,
    ChangeTier,
    CitationGap,
    ReportChange,
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
    store: Store, c: ChangeRecord, tool_name: str, flagged: tuple[str, ...] = ()
) -> ReportChange:
    """A stored change with the diff of its two snapshots."""
    old, new = store.snapshot(c.old_snapshot_id), store.snapshot(c.new_snapshot_id)
    diff: TextDiff = diff_texts(old.text, new.text)
    return ReportChange(
        c.id,
        c.tool_id,
        tool_name,
        c.source_id,
        c.url,
        c.detected_at,
        c.significant,
        tier_of(c),
        c.reason,
        c.technical,
        c.old_snapshot_id,
        c.new_snapshot_id,
        diff,
        c.added,
        c.removed,
        flagged,
    )


def unwatched_evidence(
    store: Store, catalog: Catalog, names: Names
) -> tuple[UnwatchedEvidence, ...]:
    """The catalog's evidence quotes never found in their source, in catalog order."""
    order = {t.id: i for i, t in enumerate(catalog.tools)}
    found = sorted(unwatched(store, catalog), key=lambda a: order.get(a.tool_id, len(order)))
    return tuple(
        UnwatchedEvidence(
            a.tool_id, names.tool(a.tool_id), a.criterion_id, names.criterion(a.criterion_id),
            a.source_id, a.quote, a.passage, a.score,
        )
        for a in found
    )  # fmt: skip


def citation_gaps(store: Store, change_ids: Iterable[int], names: Names) -> tuple[CitationGap, ...]:
    """The citation gaps these changes raised, oldest first."""
    return tuple(
        CitationGap(
            g.id, g.change_id, g.tool_id, names.tool(g.tool_id), g.criterion_id,
            names.criterion(g.criterion_id), g.source_id,
            tuple(ChangedSentence.between(old, new) for old, new in g.sentences),
            g.matched_terms,
        )
        for g in store.suggestions(list(change_ids))
    )  # fmt: skip


def suppressed_changes(
    store: Store,
    records: Sequence[ChangeRecord],
    names: Names,
    limit: int = SUPPRESSED_LIMIT,
) -> SuppressedChanges:
    """The newest `limit` noise and minor changes of `records` (the whole history), diffed for
    their pages, and how many there are in all."""
    quiet = [c for c in records if tier_of(c) in ("noise", "minor") and not c.technical]
    newest = sorted(quiet, key=lambda c: (c.detected_at, c.id), reverse=True)[: max(0, limit)]
    return SuppressedChanges(
        tuple(report_change(store, c, names.tool(c.tool_id)) for c in newest), len(quiet)
    )
