"""Leave-one-service-out (``--loso``): would each calibrated constant survive without the service
it is scored on?

For each knob (``bench/knobs.py``), one at a time (the others at their shipped value), the
corpus is replayed once per candidate value. For each held-out service S, the value that
maximises the bench's utility summed over the *other* services is chosen (a tie keeps the
shipped value, then the value nearest to it), and S is scored with it. Per service this
prints the figures with the shipped value and under the fold's choice, and whether any fold
chose another value than the shipped one: if none did, the figures do not depend on that
choice.

Utilities (the weights say what an editor pays for each outcome):

- alerts (``noise_offline.py``): 10 × substantive changes alerted − false alerts. A missed
  change is a rating left wrong with nobody told; a false alert costs a reader a minute.
  Ten false alerts for one missed change is the trade the issue's targets imply (recall
  ≥ 0.95 with false alerts ≤ 5 %).
- flags (``flags_offline.py``): 3 × criteria hits − extra criteria − 3 × noise flags,
  summed over the catalog with quotes and topics only. A hit saves a review of a rating
  gone stale; an extra criterion costs one needless re-read; a flag on a change that is
  not substantive costs as much as a hit gains (it teaches editors to ignore flags).

The per-fold choices are written as JSON (``--loso-out``) for ``bench/replay_corpus.py
--loso FILE``. Runs are cached on disk by knob values and the product's source, so the
second bench's ``--loso`` (and re-runs) reuse the first one's replays.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import cache
import knobs
import scoring
from offline import Prepared, replay
from scoring import Figures, Pair, ratio
from truth import Truth
from worker import StepRecord

Records = Mapping[tuple[str, int], StepRecord]
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class Family:
    """The figures one bench reports, and the utility its folds maximise."""

    name: str
    utility_text: str
    utility: Callable[[Figures], float]
    columns: tuple[tuple[str, Callable[[Figures], str]], ...]


def _flag_utility(f: Figures) -> float:
    return sum(3 * x.hits - (x.raised - x.hits) - 3 * x.noise_flags for x in (f.quotes, f.topics))


ALERTS = Family(
    "alerts",
    "10 x substantive changes alerted - false alerts",
    lambda f: 10 * f.alerted - f.false_alerts,
    (
        ("recall", lambda f: ratio(f.alerted, f.substantive)),
        ("false alerts", lambda f: str(f.false_alerts)),
        ("alert precision", lambda f: ratio(f.alerted, f.alerts - f.upgrade_alerts)),
    ),
)
FLAGS = Family(
    "flags",
    "3 x criteria hits - extra criteria - 3 x noise flags (quotes + topics only)",
    _flag_utility,
    (
        ("crit R quotes", lambda f: ratio(f.quotes.hits, f.quotes.labelled)),
        ("crit P quotes", lambda f: ratio(f.quotes.hits, f.quotes.raised)),
        ("noise q", lambda f: str(f.quotes.noise_flags)),
        ("crit R topics", lambda f: ratio(f.topics.hits, f.topics.labelled)),
        ("crit P topics", lambda f: ratio(f.topics.hits, f.topics.raised)),
        ("noise t", lambda f: str(f.topics.noise_flags)),
    ),
)


def _product_files() -> list[Path]:
    """The code a replay's records depend on (product and bench engine)."""
    files = [*ROOT.glob("crawler/**/*.py"), *ROOT.glob("diffs/**/*.py"), *ROOT.glob("storage/*.py")]
    files += [ROOT / "crawler" / "taxonomy.yaml"]
    return files + [ROOT / "bench" / f for f in ("worker.py", "extractors.py", "corpus_catalog.py")]


def cached_replay(
    prepared: Prepared, values: Mapping[str, float], folder: Path | None, workers: int, label: str
) -> dict[tuple[str, int], StepRecord]:
    """A replay with these knob values, from the cache when the same code ran it already."""
    path = None
    if folder is not None:
        catalog = sorted(prepared.catalog.glob("tools/*.yaml"))
        parts = [sorted(values.items()), [asdict(j) for j in prepared.jobs]]
        path = folder / f"records-{cache.key(parts, [*_product_files(), *catalog])}.json.gz"
        rows = cache.read(path)
        if rows is not None:
            print(f"  {label}: cached", file=sys.stderr)
            return {(r["doc"], r["step"]): StepRecord.from_json(r) for r in rows}
    records = replay(prepared, values, workers=workers, cache_dir=folder, label=label)
    if path is not None:
        cache.write(path, [asdict(r) for r in records.values()])
    return records


def _decided(records: Records) -> dict[tuple[str, int], StepRecord]:
    """The records without their timing: what the decisions were."""
    return {k: replace(r, ms=0.0) for k, r in records.items()}


def _closest(values: Sequence[float], shipped: float) -> float:
    return min(values, key=lambda v: (v != shipped, abs(v - shipped), v))


def choose(
    runs: Mapping[float, Mapping[str, Figures]], family: Family, held_out: str, shipped: float
) -> float:
    """The value with the best utility over every service but the held-out one."""
    utility = {
        v: sum(family.utility(f) for s, f in per.items() if s != held_out)
        for v, per in runs.items()
    }
    best = max(utility.values())
    return _closest([v for v, u in utility.items() if u == best], shipped)


def _pairs(truth: Truth, records: Records, service: str) -> list[Pair]:
    return scoring.pairs_of(truth, records, lambda t: t.service == service)


def knob_loso(
    prepared: Prepared,
    truth: Truth,
    family: Family,
    knob: knobs.Knob,
    shipped_records: Records,
    folder: Path | None,
    workers: int,
) -> tuple[str, dict[str, float]]:
    """The printed LOSO table of one knob, and each fold's choice."""
    shipped = knob.shipped()
    records: dict[float, Records] = {shipped: shipped_records}
    for value in knob.candidates()[1:]:
        label = f"{knob.name}={value}"
        records[value] = cached_replay(prepared, {knob.path: value}, folder, workers, label)
    runs = {v: scoring.score(truth, r).services for v, r in records.items()}
    services = truth.services()
    chosen = {s: choose(runs, family, s, shipped) for s in services}
    decided = _decided(shipped_records)
    moved = [v for v in records if v != shipped and _decided(records[v]) != decided]
    lines = [
        f"\n{knob.path} (shipped {shipped}; candidates {', '.join(map(str, knob.candidates()))};"
        f" {len(moved)} of {len(records) - 1} other values change some decision)",
        f"  {'service':<11} {'choice':>8}  " + "  ".join(f"{n:>24}" for n, _ in family.columns),
    ]
    loso_pairs: list[Pair] = []
    for s in services:
        a, b = runs[shipped][s], runs[chosen[s]][s]
        loso_pairs += _pairs(truth, records[chosen[s]], s)
        mark = "=" if chosen[s] == shipped else "*"
        cells = "  ".join(f"{get(a) + ' > ' + get(b):>24}" for _, get in family.columns)
        lines.append(f"  {s:<11} {chosen[s]!s:>7}{mark}  {cells}")
    pooled_a = scoring.score(truth, shipped_records).pooled
    pooled_b = Figures.of(loso_pairs)
    cells = "  ".join(f"{get(pooled_a) + ' > ' + get(pooled_b):>24}" for _, get in family.columns)
    lines.append(f"  {'POOLED':<11} {'':>8}  {cells}")
    differ = [s for s in services if chosen[s] != shipped]
    lines.append(
        f"  folds choosing another value: {', '.join(differ)}"
        if differ
        else "  no fold chooses another value: these figures do not depend on this knob's choice"
    )
    return "\n".join(lines), chosen


def run(
    prepared: Prepared,
    truth: Truth,
    family: Family,
    selected: Sequence[knobs.Knob],
    folder: Path | None,
    workers: int,
    out: Path | None,
) -> Records:
    """Every selected knob's LOSO table (printed); returns the shipped run's records."""
    started = time.perf_counter()
    shipped_records = cached_replay(prepared, {}, folder, workers, "shipped")
    print(f"\ndev corpus: leave-one-service-out, {family.name} (utility: {family.utility_text})")
    print("  cells: figure with the shipped value > figure with the fold's choice (* differs)")
    choices: dict[str, dict[str, float]] = {s: {} for s in truth.services()}
    for n, knob in enumerate(selected, 1):
        print(f"knob {n}/{len(selected)}: {knob.path}", file=sys.stderr)
        text, chosen = knob_loso(prepared, truth, family, knob, shipped_records, folder, workers)
        print(text, flush=True)
        for service, value in chosen.items():
            choices[service][knob.path] = value
    if out is not None:
        shipped = {k.path: k.shipped() for k in selected}
        document: dict[str, Any] = {
            "bench": family.name, "utility": family.utility_text, "shipped": shipped,
            "choices": choices,
        }  # fmt: skip
        out.write_text(json.dumps(document, indent=1) + "\n")
        print(f"\nper-fold choices written to {out}")
    print(f"\nLOSO wall={time.perf_counter() - started:.0f}s")
    return shipped_records


def selected_knobs(names: str) -> list[knobs.Knob]:
    """The knobs ``--knobs a,b`` names (all when empty)."""
    return [knobs.knob(n) for n in names.split(",") if n] or list(knobs.KNOBS)
