"""Alerts on the real capture history, offline: substantive changes found, noise alerted on.

Every capture goes through the crawl's own decision code (``bench/offline.py``: extraction,
failure classes, diff, significance, flagging) and is scored against the corpus's labels
(``bench/scoring.py``): per document, per service and pooled, raw page changes, alerts,
recall on substantive changes, false alerts (and per raw page change), alert precision,
minor-tier changes, and alerts on changes the corpus recorded only inside an upgrade
(``upg``: a real change without a label, neither false nor true). The headline puts the
worst service beside each pooled figure.

    .venv/bin/python bench/noise_offline.py [--corpus ../shared/corpus] [--extractor lxml] [-v]
    .venv/bin/python bench/noise_offline.py --loso [--knobs PAIR_CUTOFF,...] [--loso-out F]

``--extractor trafilatura`` runs trafilatura in place of citewatch's extractor (``pip
install -e '.[bench]'``); ``--loso``: leave-one-service-out of every calibrated constant
(``bench/loso.py``, utility 10 x substantive alerted - false alerts).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loso
import scoring
from extractors import EXTRACTORS
from offline import add_common, cache_folder, knob_values, prepare, replay
from scoring import Scores
from truth import load_truth


def _misses(scores: Scores) -> list[str]:
    out = []
    for key in scores.pooled.misses:
        t, r = scores.truth.steps[key], scores.records[key]
        why = t.label.why[:150] if t.label else ""
        tier = "/" + r.tier if r.outcome == "changed" else ""
        out.append(
            f"  {t.doc} step {t.step} [{t.page}] {t.date[:10]} {r.outcome}{tier}: {r.reason}"
            f" | label: {why}"
        )
    return out


def _false_alerts(scores: Scores) -> list[str]:
    out = []
    for key, r in sorted(scores.records.items()):
        t = scores.truth.steps.get(key)
        if t is None or not t.scored or t.substantive or not scoring.alert(r):
            continue
        kind = "upg: recorded only in an upgrade" if t.upgrade_only else "no real change"
        if t.label is not None:
            kind = f"real non-substantive ({t.label.noise_kind})"
        where = f"  {t.doc} step {t.step} [{t.page}] {t.date[:10]}"
        out.append(f"{where} {kind}: {r.reason} {r.summary}")
    return out


def main(argv: list[str] | None = None) -> int:
    """Replay (or run the LOSO grid) and print the tables, misses and (-v) false alerts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common(parser)
    parser.add_argument("--extractor", choices=sorted(EXTRACTORS), default="lxml")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every false alert")
    parser.add_argument("--loso", action="store_true", help="leave-one-service-out of the knobs")
    parser.add_argument("--knobs", default="", help="comma list of knobs for --loso (default all)")
    parser.add_argument("--loso-out", type=Path, help="write each fold's choices as JSON")
    args = parser.parse_args(argv)
    if args.loso and (args.extractor != "lxml" or args.knob):
        parser.error("--loso varies the product's own knobs: no --extractor or --knob with it")
    started = time.perf_counter()
    folder = cache_folder(args)
    documents = [d for d in args.documents.split(",") if d]
    with prepare(args.corpus, documents) as prepared:
        truth = load_truth(args.corpus, args.workers, folder)
        if args.loso:
            selected = loso.selected_knobs(args.knobs)
            records = loso.run(prepared, truth, loso.ALERTS, selected, folder, args.workers,
                               args.loso_out)  # fmt: skip
        else:
            records = replay(prepared, knob_values(args.knob), extractor=args.extractor,
                             workers=args.workers, cache_dir=folder)  # fmt: skip
    wall = time.perf_counter() - started
    by_doc = scoring.score(truth, records, group=lambda t: t.doc)
    scores = scoring.score(truth, records)
    print(scoring.alert_table(by_doc, "document"))
    print()
    print(scoring.alert_table(scores))
    print(scoring.headline(scores))
    print(scoring.unseen_list(truth))
    print(f"\nextractor={args.extractor}  wall={wall:.1f}s  workers={args.workers}")
    misses = _misses(scores)
    print(f"\nMISSES ({len(misses)}):", *misses, sep="\n")
    pooled = scores.pooled
    print(f"\nFALSE ALERTS ({pooled.false_alerts}, and {pooled.upgrade_alerts} upg)")
    if args.verbose:
        print("\n".join(_false_alerts(scores)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
