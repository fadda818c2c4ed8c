"""The report formats: one writer per format, each writing its file into the output folder.

A format is one writer function and one entry of WRITERS. `citewatch report --format` accepts
the names of WRITERS and writes the chosen ones in its order (the site, whose index page
opens the report, first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from crawler.catalog.model import Catalog
from crawler.report.history import build_history, change_entries
from crawler.report.json_report import write_report_json
from crawler.report.parts import Names
from crawler.report.stored import StoredHistory
from diffs.text import TextDiff, diff_texts
from reports.context import ReportContext, StoredDiff
from reports.digest import DigestScope, build_digest
from reports.digest_json import digest_json
from reports.export import changes_csv
from reports.render import render_markdown
from reports.site import write_site
from reports.summaries import DiffSummaries, Summary, summary_of
from storage import Store


@dataclass(frozen=True, slots=True)
class ReportInputs:
    """What a writer reads: the report's context and digest scope, the store and the catalog,
    what the report read of the database, and the diffs it keeps in its folder."""

    store: Store
    catalog: Catalog
    context: ReportContext
    scope: DigestScope
    suppressed: int  # how many of the newest suppressed changes the site diffs for a page
    stored: StoredHistory | None = None  # None: read when a writer needs it
    diffs: DiffSummaries | None = None  # None: report.json computes every diff it lists

    def history(self) -> StoredHistory:
        """Every stored change and flag (as read for the context when it was)."""
        return self.stored or StoredHistory.read(self.store)


# Diffs report.json computes per batch: their texts are read in one statement and dropped after.
SUMMARY_BATCH = 100

# (inputs, output folder) -> the file written (for the site: its index page).
Writer = Callable[[ReportInputs, Path], Path]


def write_html(inputs: ReportInputs, out: Path) -> Path:
    """The reviewers' site: the report, and the whole history (timelines, feeds, diff pages),
    written incrementally: only what changed since the last report into `out`."""
    # Only the site shows the suppressed changes (each with its page): diff them for it alone.
    history = build_history(
        inputs.store, inputs.catalog, inputs.suppressed, stored=inputs.history()
    )
    listed = {c.diff for c in inputs.context.changes if isinstance(c.diff, StoredDiff)}
    kept = inputs.diffs

    def keep(stored: StoredDiff, diff: TextDiff) -> None:
        if kept is not None and stored in listed:  # report.json lists it: computed once
            kept.put(stored, diff)

    return write_site(inputs.context, out, history, blobs=inputs.store.blobs, on_diff=keep)


def write_markdown(inputs: ReportInputs, out: Path) -> Path:
    """report.md: the editors' report."""
    target = out / "report.md"
    target.write_text(render_markdown(inputs.context, inputs.scope), encoding="utf-8")
    return target


def write_json(inputs: ReportInputs, out: Path) -> Path:
    """report.json: the whole report context, and the digest as the email tells it."""
    target = out / "report.json"
    digest = digest_json(build_digest(inputs.context, inputs.scope))
    write_report_json(target, inputs.context, digest, _summaries(inputs))
    if inputs.diffs is not None:
        inputs.diffs.save()
    return target


def _summaries(inputs: ReportInputs) -> dict[StoredDiff, Summary]:
    """The added and removed passages of every listed change's diff: kept from an earlier
    report, or computed from the stored texts, a batch at a time."""
    kept = inputs.diffs
    wanted = {c.diff for c in inputs.context.changes if isinstance(c.diff, StoredDiff)}
    found: dict[StoredDiff, Summary] = {}
    missing = []
    for stored in sorted(wanted, key=lambda d: (d.old_sha, d.new_sha)):
        summary = kept.get(stored) if kept is not None else None
        if summary is None:
            missing.append(stored)
        else:
            found[stored] = summary
    for start in range(0, len(missing), SUMMARY_BATCH):
        batch = missing[start : start + SUMMARY_BATCH]
        shas = {sha for d in batch for sha in (d.old_sha, d.new_sha)}
        texts = {sha: data.decode("utf-8") for sha, data in inputs.store.blobs(sorted(shas))}
        for stored in batch:
            diff = diff_texts(texts[stored.old_sha], texts[stored.new_sha])
            found[stored] = summary_of(diff) if kept is None else kept.put(stored, diff)
    return found


def write_csv(inputs: ReportInputs, out: Path) -> Path:
    """changes.csv: the whole change history, not only the report's period."""
    stored = inputs.history()
    names = Names.of(inputs.catalog).tools
    changes = change_entries(inputs.store, stored.changes, names, flags=stored.flags)
    target = out / "changes.csv"
    target.write_text(changes_csv(changes), encoding="utf-8", newline="")
    return target


WRITERS: Mapping[str, Writer] = MappingProxyType(
    {"html": write_html, "md": write_markdown, "json": write_json, "csv": write_csv}
)
FORMATS = tuple(WRITERS)  # every format name, in writing order
