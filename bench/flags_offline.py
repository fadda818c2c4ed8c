"""Flag quality on the real capture history, offline: which ratings each change puts in doubt.

Every capture of every corpus page goes, in recording order, through the same decision code
a crawl uses (``bench/offline.py`` runs ``crawler.ingest.analysis.analyze``) with the benchmark
catalog of ``bench/corpus_catalog.py`` (every criterion cites every page of its service;
evidence quotes from each page's first capture), and again with the same catalog without
any quote (topics only). Over the labelled substantive changes it prints, per service and
pooled: criteria recall, criteria precision, and the flags raised on captures without a
substantive label (targets: >= 0.9, >= 0.7, 0); flags on a change the corpus recorded only
inside a declaration upgrade (``bench/upgrades.py``: a real change it never labelled) are
counted apart.

    .venv/bin/python bench/flags_offline.py [--corpus ../shared/corpus] [-v]
    .venv/bin/python bench/flags_offline.py --loso [--knobs MIN_STATEMENT_WORDS,...]

A second table leaves out the labels that describe another comparison than the one
citewatch makes: a label written against a previous corpus version that is a stub
(``truth.STUB_CHARS``, such as Mistral's "Redirecting to legal.mistral.ai"). The stub is a
failed capture to citewatch (class *suspicious*, never a version), so citewatch compares
with the last good text instead, and the label's criteria (everything the full document
speaks about) are not what that change touched.

``--loso``: leave-one-service-out of every calibrated constant (``bench/loso.py``, utility
3 x criteria hits - extra criteria - 3 x noise flags), then of the topic vocabulary
(``bench/vocabulary.py``, from the shipped replay).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loso
import scoring
import vocabulary
from offline import add_common, cache_folder, knob_values, prepare, replay
from scoring import Scores, criteria
from truth import load_truth
from worker import Flag


def _words(flags: tuple[Flag, ...]) -> str:
    return "; ".join(f"{f.criterion}:{f.kind}:{','.join(f.words)}" for f in flags)[:300]


def wrong_flags(scores: Scores, quotes: bool = True) -> list[str]:
    """Every capture whose flags differ from its label (misses, extras, noise, upgrade-only)."""
    out = []
    for t, r in scoring.pairs_of(scores.truth, scores.records, lambda t: True):
        flags = r.flags if quotes else r.topic_flags
        got = criteria(flags)
        where = f"  {t.doc}#{t.step}"
        if t.substantive and t.label is not None and got != t.label.criteria:
            out.append(f"{where} missed={sorted(t.label.criteria - got)} "
                       f"extra={sorted(got - t.label.criteria)} | {_words(flags)}")  # fmt: skip
        elif not t.substantive and got and t.upgrade_only:
            out.append(f"{where} UNLABELLED (recorded only in an upgrade) flags={sorted(got)} "
                       f"| {_words(flags)}")  # fmt: skip
        elif not t.substantive and got:
            recorded = "labelled" if t.label is not None else "no change recorded"
            out.append(f"{where} NON-SUBSTANTIVE ({recorded}) flags={sorted(got)} "
                       f"| {_words(flags)}")  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    """Build the catalog, replay every page, print the per-service tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="list every wrong flag")
    parser.add_argument("--loso", action="store_true", help="leave-one-service-out of the knobs")
    parser.add_argument("--knobs", default="", help="comma list of knobs for --loso (default all)")
    parser.add_argument("--loso-out", type=Path, help="write each fold's choices as JSON")
    args = parser.parse_args(argv)
    if args.loso and args.knob:
        parser.error("--loso varies the product's own knobs: no --knob with it")
    started = time.perf_counter()
    folder = cache_folder(args)
    documents = [d for d in args.documents.split(",") if d]
    with prepare(args.corpus, documents) as prepared:
        truth = load_truth(args.corpus, args.workers, folder)
        if args.loso:
            selected = loso.selected_knobs(args.knobs)
            records = loso.run(prepared, truth, loso.FLAGS, selected, folder, args.workers,
                               args.loso_out)  # fmt: skip
            print(vocabulary.report(truth, records))
        else:
            records = replay(prepared, knob_values(args.knob), workers=args.workers,
                             cache_dir=folder)  # fmt: skip
    scores = scoring.score(truth, records)
    print("\nall labels")
    print(scoring.flag_table(scores))
    consistent = scoring.score(truth, records, keep=lambda t: not t.against_stub)
    print("\nconsistent labels (without the labels written against a stub version)")
    print(scoring.flag_table(consistent))
    stubbed = sorted(f"{t.doc}#{t.step}" for t in truth.steps.values() if t.against_stub)
    print(f"\nlabels written against a stub version (left out of 'consistent'): {stubbed}")
    print(scoring.headline(scores))
    print(f"\nwall={time.perf_counter() - started:.1f}s")
    if args.verbose:
        print("\nwith quotes:", *wrong_flags(scores), sep="\n")
        print("\ntopics only:", *wrong_flags(scores, quotes=False), sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
