"""Flag quality on the real capture history, offline: which ratings each change puts in doubt.

Every capture of every corpus page goes, in recording order, through the same decision code
a crawl uses (`crawler.ingest.analyze`: extract, diff, assess, flag) with the benchmark
catalog of `bench/corpus_catalog.py` (every criterion cites every page of its service;
evidence quotes from each page's first capture). Over the labelled substantive changes it
prints, per service and overall: criteria recall, criteria precision, and the flags raised
on changes that are not substantive (targets: >= 0.9, >= 0.7, 0): every flag on a capture
without a substantive label, and apart, how many of them are on a change the corpus labels
non-substantive (the others are on captures where the corpus recorded no change at all).
Flags on a change the corpus recorded only inside a declaration upgrade (`bench/upgrades.py`:
a real text change it never labelled) are counted in a column of their own.

    .venv/bin/python bench/flags_offline.py [--corpus ../shared/corpus] [-v]

A second table leaves out the labels that describe another comparison than the one
citewatch makes: a label written against a previous corpus version that is a stub
(under ``STUB_CHARS`` characters, such as Mistral's "Redirecting to legal.mistral.ai"). The
stub is a failed capture to citewatch (class *suspicious*, never a version), so citewatch
compares with the last good text instead, and the label's criteria (everything the full
document speaks about) are not what that change touched.

`bench/replay_corpus.py` measures the same through real `citewatch crawl` runs (31 min).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from multiprocessing import Pool
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_catalog import (
    captures,
    corpus_pages,
    previous_version,
    version_texts,
    write_catalog,
)
from upgrades import corpus_absorbed

from crawler.catalog import load_catalog
from crawler.fetch import FetchResult
from crawler.ingest import analyze, anchor_states, stored_anchors
from storage.records import AnchorState, SnapshotRecord

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
# A recorded version shorter than this is a redirect or loading stub, not a document (the
# shortest real document of the corpus, an imprint, has 2,294 characters).
STUB_CHARS = 200


@dataclass(frozen=True, slots=True)
class Seen:
    """What the pipeline decided for one capture of one page."""

    doc: str
    step: int
    significant: bool
    flags: tuple[tuple[str, str], ...]  # (criterion, kind)
    words: str


def _same(value: SnapshotRecord | None) -> SnapshotRecord | None:
    return value


def replay_page(job: tuple[str, str, str, str, str, str]) -> list[Seen]:
    """Analyze every capture of one page in order, as successive crawls would (a worker)."""
    catalog_dir, doc_dir, doc, archive, service, source_id = job
    catalog = load_catalog(catalog_dir)
    tool = next(t for t in catalog.tools if t.id == service)
    source = next(s for s in tool.sources if s.id == source_id)
    previous: SnapshotRecord | None = None
    anchors: dict[tuple[str, str], AnchorState] = {}
    out: list[Seen] = []
    when = datetime.now(UTC)
    for step, body in captures(Path(doc_dir), archive):
        result = FetchResult(
            source_id, step["url"], step["url"], (), 200, "text/html", None, None,
            body, None, None, None, when, 0,
        )  # fmt: skip
        analysis = analyze(
            result, tool, source, catalog, partial(_same, previous), lambda _: b"",
            partial(stored_anchors, list(anchors.values())),
        )  # fmt: skip
        for a in anchor_states(analysis.evidence):
            anchors[(a.criterion_id, a.quote)] = a
        for snap, _change in analysis.versions:
            previous = SnapshotRecord(
                0, 0, when, "", "", snap.text, snap.extract_key, snap.content_type,
                snap.final_url, snap.technical,
            )  # fmt: skip
        flags = tuple(sorted({(r.criterion, r.kind) for r in analysis.reasons}))
        words = "; ".join(f"{r.criterion}:{r.kind}:{','.join(r.matched_terms)}"
                          for r in analysis.reasons)  # fmt: skip
        out.append(Seen(doc, step["step"], bool(analysis.significant), flags, words))
    return out


def against_stub(doc_dir: Path, data: dict[str, Any]) -> set[str]:
    """The version shas of this document whose previous recorded version is a stub."""
    versions = data["versions"]
    texts = version_texts(doc_dir, versions)
    out: set[str] = set()
    for i, version in enumerate(versions):
        before = previous_version(versions, i)
        if before is not None and len(texts[before["sha"]].strip()) < STUB_CHARS:
            out.add(version["sha"])
    return out


@dataclass(slots=True)
class Score:
    """Flag quality over a set of captures."""

    substantive: int = 0
    labelled: int = 0
    raised: int = 0
    hits: int = 0
    non_substantive_flags: int = 0
    non_substantive_flagged_changes: int = 0
    # Of those, the flags on a change the corpus labels non-substantive; the rest are on
    # captures where the corpus recorded no change at all.
    labelled_non_substantive_flags: int = 0
    # Flags on changes the corpus recorded only inside a declaration upgrade (bench/upgrades.py):
    # real text changes without a label, counted apart from the non-substantive ones.
    upgrade_flags: int = 0
    upgrade_flagged_changes: int = 0

    def row(self, name: str) -> str:
        """One printed line."""
        recall = (
            f"{self.hits}/{self.labelled}={self.hits / self.labelled:.2f}" if self.labelled else "-"
        )
        prec = f"{self.hits}/{self.raised}={self.hits / self.raised:.2f}" if self.raised else "-"
        return (
            f"{name:<12} {self.substantive:>6} {recall:>14} {prec:>14} "
            f"{self.non_substantive_flags:>6} ({self.non_substantive_flagged_changes} changes) "
            f"{self.labelled_non_substantive_flags:>8} "
            f"{self.upgrade_flags:>10} ({self.upgrade_flagged_changes} changes)"
        )


def _count(
    score: Score, label: dict[str, Any] | None, s: Seen, wrong: list[str], upgrade: bool
) -> None:
    """Add one capture's flags to a score; note what was wrong (``upgrade``: the corpus
    recorded this change only inside a declaration upgrade)."""
    criteria = {c for c, _ in s.flags}
    if label and label["substantive"]:
        truth = set(label["criteria"])
        score.substantive += 1
        score.labelled += len(truth)
        score.raised += len(criteria)
        score.hits += len(truth & criteria)
        if criteria != truth:
            wrong.append(f"  {s.doc}#{s.step} missed={sorted(truth - criteria)} "
                         f"extra={sorted(criteria - truth)} | {s.words[:300]}")  # fmt: skip
    elif criteria and upgrade:
        score.upgrade_flags += len(criteria)
        score.upgrade_flagged_changes += 1
        wrong.append(f"  {s.doc}#{s.step} UNLABELLED (recorded only in an upgrade) "
                     f"flags={sorted(criteria)} | {s.words[:300]}")  # fmt: skip
    elif criteria:
        score.non_substantive_flags += len(criteria)
        score.non_substantive_flagged_changes += 1
        if label is not None:
            score.labelled_non_substantive_flags += len(criteria)
        recorded = "labelled" if label is not None else "no change recorded"
        wrong.append(f"  {s.doc}#{s.step} NON-SUBSTANTIVE ({recorded}) flags={sorted(criteria)} "
                     f"| {s.words[:300]}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Build the catalog, replay every page, print the per-service table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("-v", "--verbose", action="store_true", help="list every wrong flag")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    labels = {x["version_sha"]: x for x in json.loads((args.corpus / "labels.json").read_text())}
    pages = corpus_pages(args.corpus)
    with tempfile.TemporaryDirectory() as tmp:
        index = write_catalog(Path(tmp), pages)
        jobs = []
        for key, page in index.items():
            doc = f"{page.service}/{page.document}"
            manifest = json.loads((args.corpus / doc / "manifest.json").read_text())
            archive = next(p for p in manifest["pages"] if p["page"] == page.page)
            jobs.append((tmp, str(args.corpus / doc), doc, archive["captures_archive"],
                         page.service, key.split("/", 1)[1]))  # fmt: skip
        with Pool(args.workers) as pool:
            seen = {(s.doc, s.step): s for got in pool.map(replay_page, jobs) for s in got}
    in_upgrade = corpus_absorbed(args.corpus, args.workers)
    tables: dict[str, dict[str, Score]] = {"all labels": {}, "consistent labels": {}}
    wrong: list[str] = []
    skipped: list[str] = []
    for manifest in sorted(args.corpus.glob("*/*/manifest.json")):
        data = json.loads(manifest.read_text())
        doc = f"{data['service_slug']}/{data['document_slug']}"
        stubbed = against_stub(manifest.parent, data)
        for step in data["steps"]:
            s = seen.get((doc, step["step"]))
            if s is None or not step["scored"]:
                continue
            label = labels.get(step["version_sha"] or "") if step["real_change"] else None
            for name, table in tables.items():
                if name == "consistent labels" and step["version_sha"] in stubbed:
                    continue
                upgrade = (doc, step["step"]) in in_upgrade
                _count(table.setdefault(data["service_slug"], Score()), label, s,
                       wrong if name == "all labels" else [], upgrade)  # fmt: skip
            if step["version_sha"] in stubbed:
                skipped.append(f"{doc}#{step['step']}")
    for name, table in tables.items():
        total = Score()
        print(f"\n{name}")
        print(f"{'service':<12} {'subst':>6} {'recall':>14} {'precision':>14}  "
              "non-substantive flags  of them on labelled ones  "
              "flags on changes recorded only in an upgrade")  # fmt: skip
        for service, score in sorted(table.items()):
            print(score.row(service))
            for slot in Score.__slots__:
                setattr(total, slot, getattr(total, slot) + getattr(score, slot))
        print(total.row("OVERALL"))
    print(f"\nlabels written against a stub version (left out of 'consistent'): {skipped}")
    print(f"\nwall={time.perf_counter() - started:.1f}s")
    if args.verbose:
        print("\n".join(wrong))
    return 0


if __name__ == "__main__":
    sys.exit(main())
