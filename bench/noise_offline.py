"""Replay the real capture history of the corpus through extract() + diff + assess().

For every page of every document, each capture is extracted in recording order, diffed with
the previous capture of the same page, and assessed. Scored steps are compared with the
corpus ground truth (manifest real_change + labels.json substantive/scope) and the script
prints, per document and overall: raw page changes, changed, alerts, recall on substantive
changes (all scopes and text only), false alerts, and extraction time per page. Alerts on a
change the corpus recorded only inside a declaration upgrade (`bench/upgrades.py`: a real
text change it never labelled) are not false alerts; column ``upg`` counts them.

    .venv/bin/python bench/noise_offline.py [--corpus ../shared/corpus] [--extractor lxml]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

from corpus_catalog import captures
from upgrades import corpus_absorbed

from crawler.extract import ExtractError, extract
from diffs.significance import assess
from diffs.text import diff_blocks

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@dataclass(frozen=True, slots=True)
class StepResult:
    """What the pipeline decided for one capture."""

    doc: str
    step: int
    page: str
    ms: float
    changed: bool
    significant: bool
    reason: str
    summary: str  # first changed words, for reading misses and false alerts
    error: str | None


def _lxml(body: bytes, url: str) -> tuple[str, ...]:
    return extract(body, content_type="text/html", url=url).blocks


def _trafilatura(body: bytes, url: str) -> tuple[str, ...]:
    """The research recommendation (tech_scrapy §5.2), for comparison only."""
    import trafilatura

    from crawler.normalize import has_words, normalize_text

    consent = (
        "//*[contains(translate(@id,'COKIE','cokie'),'cookie')"
        " or contains(translate(@class,'COKIE','cokie'),'cookie')"
        " or contains(@id,'consent') or contains(@class,'consent')]"
    )
    out = trafilatura.extract(
        body,
        url=url,
        output_format="markdown",
        include_tables=True,
        include_comments=False,
        include_links=False,
        include_images=False,
        favor_recall=True,
        prune_xpath=[consent],
        deduplicate=False,
        with_metadata=False,
    )
    if not out:
        raise ExtractError("trafilatura returned nothing")
    return tuple(b for line in out.splitlines() if has_words(b := normalize_text(line)))


EXTRACTORS: dict[str, Callable[[bytes, str], tuple[str, ...]]] = {
    "lxml": _lxml,
    "trafilatura": _trafilatura,
}


def _summary(blocks_old: tuple[str, ...], blocks_new: tuple[str, ...]) -> str:
    diff = diff_blocks(blocks_old, blocks_new)
    gone = " / ".join(diff.removed_text())[:160]
    came = " / ".join(diff.added_text())[:160]
    return f"-[{gone}] +[{came}]"


def replay_page(job: tuple[str, str, str, str]) -> list[StepResult]:
    """Extract every capture of one page in order and assess each change (runs in a worker)."""
    doc_dir, doc, archive, extractor = job
    run = EXTRACTORS[extractor]
    results: list[StepResult] = []
    previous: tuple[str, ...] | None = None
    for step, body in captures(Path(doc_dir), archive):
        started = time.perf_counter()
        error = None
        try:
            blocks = run(body, step["url"])
        except ExtractError as exc:
            blocks, error = (), str(exc)
        ms = (time.perf_counter() - started) * 1000
        if previous is None:
            results.append(
                StepResult(doc, step["step"], step["page"], ms, False, False, "", "", error)
            )
        else:
            diff = diff_blocks(previous, blocks)
            verdict = assess(diff)
            summary = _summary(previous, blocks) if verdict.significant else ""
            results.append(
                StepResult(
                    doc,
                    step["step"],
                    step["page"],
                    ms,
                    diff.changed,
                    verdict.significant,
                    verdict.reason,
                    summary,
                    error,
                )
            )
        previous = blocks
    return results


@dataclass(slots=True)
class Tally:
    """Counts for one document (or all of them)."""

    raw: int = 0
    changed: int = 0
    alerts: int = 0
    positives: int = 0
    hits: int = 0
    text_positives: int = 0
    text_hits: int = 0
    false_alerts: int = 0
    # Alerts on a change the corpus recorded only inside a declaration upgrade
    # (bench/upgrades.py): real text changes it never labelled, counted apart.
    upgrade_alerts: int = 0
    captures: int = 0
    ms: float = 0.0
    errors: int = 0

    def add(self, other: Tally) -> None:
        """Accumulate another tally into this one."""
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def row(self, name: str) -> str:
        """One printed line."""
        recall = (
            f"{self.hits}/{self.positives}={self.hits / self.positives:.2f}"
            if self.positives
            else "-"
        )
        text_recall = (
            f"{self.text_hits}/{self.text_positives}={self.text_hits / self.text_positives:.2f}"
            if self.text_positives
            else "-"
        )
        fa_pct = 100 * self.false_alerts / self.raw if self.raw else 0.0
        ms = self.ms / self.captures if self.captures else 0.0
        return (
            f"{name:<40} {self.raw:>5} {self.changed:>7} {self.alerts:>6} {recall:>12} "
            f"{text_recall:>12} {self.false_alerts:>4} {fa_pct:>6.2f}% {self.upgrade_alerts:>4} "
            f"{ms:>7.1f} {self.errors:>4}"
        )


HEADER = (
    f"{'document':<40} {'raw':>5} {'changed':>7} {'alerts':>6} {'recall(subst)':>12} "
    f"{'recall(text)':>12} {'FA':>4} {'FA/raw':>7} {'upg':>4} {'ms/page':>7} {'err':>4}"
)


def main(argv: list[str] | None = None) -> int:
    """Run the replay and print the table, then the misses and (with -v) the false alerts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--extractor", choices=sorted(EXTRACTORS), default="lxml")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("-v", "--verbose", action="store_true", help="list every false alert")
    args = parser.parse_args(argv)
    labels = {x["version_sha"]: x for x in json.loads((args.corpus / "labels.json").read_text())}
    manifests = {
        str(p.parent.relative_to(args.corpus)): json.loads(p.read_text())
        for p in sorted(args.corpus.glob("*/*/manifest.json"))
    }
    jobs = [
        (str(args.corpus / doc), doc, page["captures_archive"], args.extractor)
        for doc, m in manifests.items()
        for page in m["pages"]
    ]
    started = time.perf_counter()
    with Pool(args.workers) as pool:
        results = {(r.doc, r.step): r for page in pool.map(replay_page, jobs) for r in page}
    wall = time.perf_counter() - started
    in_upgrade = corpus_absorbed(args.corpus, args.workers)

    total, misses, false_alerts = Tally(), [], []
    print(HEADER)
    for doc, m in manifests.items():
        tally = Tally()
        for step in m["steps"]:
            r = results[(doc, step["step"])]
            tally.captures += 1
            tally.ms += r.ms
            tally.errors += r.error is not None
            if not step["scored"]:
                continue
            label = labels.get(step["version_sha"] or "") if step["real_change"] else None
            substantive = bool(label and label["substantive"])
            tally.raw += 1
            tally.changed += r.changed
            tally.alerts += r.significant
            if substantive and label:
                tally.positives += 1
                tally.hits += r.significant
                is_text = label["scope"] == "text"
                tally.text_positives += is_text
                tally.text_hits += is_text and r.significant
                if not r.significant:
                    misses.append((r, label, step))
            elif r.significant and not label and (doc, step["step"]) in in_upgrade:
                tally.upgrade_alerts += 1
                false_alerts.append((r, label, step))
            elif r.significant:
                tally.false_alerts += 1
                false_alerts.append((r, label, step))
        print(tally.row(doc))
        total.add(tally)
    print(total.row("OVERALL"))
    print(f"\nextractor={args.extractor}  wall={wall:.1f}s  workers={args.workers}")
    print(f"\nMISSES ({len(misses)}):")
    for r, label, step in misses:
        print(
            f"  {r.doc} step {r.step} [{r.page}] {step['date'][:10]} changed={r.changed}: "
            f"{r.reason or r.error} | label: {label['why'][:150]}"
        )
    print(f"\nFALSE ALERTS ({total.false_alerts}, and {total.upgrade_alerts} upg):")
    for r, label, step in false_alerts if args.verbose else false_alerts[:0]:
        kind = f"real non-substantive ({label['noise_kind']})" if label else "no real change"
        if not label and (r.doc, r.step) in in_upgrade:
            kind = "upg: recorded only in an upgrade"
        print(
            f"  {r.doc} step {r.step} [{r.page}] {step['date'][:10]} {kind}: {r.reason} {r.summary}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
