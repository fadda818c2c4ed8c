"""The pinned figures of the offline engine on the dev corpus, and the regression gate's rule.

``bench/baseline.json`` is written by ``bench/offline.py --write-baseline`` (never by hand)
and read by ``tests/test_bench_gate.py``. Per service and pooled it holds: substantive
changes and how many were alerted (recall), false alerts and raw page changes, alert
precision, criteria recall / precision with the catalog's quotes and topics only, and the
noise flags of both.

A run regresses (``compare``) when, for any service or pooled:

- fewer substantive changes are alerted;
- false alerts exceed the pinned count by more than max(2, 10 % of it);
- a criteria recall or precision (quotes or topics only) is more than 0.02 below the pin;
- there are more noise flags (quotes or topics only).

Alert precision is pinned and shown, not gated: it follows from the first two rules.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scoring import Figures, Scores

PATH = Path(__file__).resolve().parent / "baseline.json"
FALSE_ALERTS_SLACK = (2, 0.10)  # at most +max(2, 10 %)
RATE_SLACK = 0.02
RATES = (
    "criteria_recall_quotes",
    "criteria_precision_quotes",
    "criteria_recall_topics",
    "criteria_precision_topics",
)
COUNTS_NOT_MORE = ("noise_flags_quotes", "noise_flags_topics")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def row(f: Figures) -> dict[str, Any]:
    """One service's pinned figures."""
    return {
        "substantive": f.substantive,
        "alerted": f.alerted,
        "recall": _round(f.recall),
        "raw": f.raw,
        "false_alerts": f.false_alerts,
        "alert_precision": _round(f.precision),
        "criteria_recall_quotes": _round(f.quotes.recall),
        "criteria_precision_quotes": _round(f.quotes.precision),
        "criteria_recall_topics": _round(f.topics.recall),
        "criteria_precision_topics": _round(f.topics.precision),
        "noise_flags_quotes": f.quotes.noise_flags,
        "noise_flags_topics": f.topics.noise_flags,
    }


def figures(scores: Scores) -> dict[str, dict[str, Any]]:
    """Every service's pinned figures, and the pooled ones under "POOLED"."""
    out = {name: row(f) for name, f in scores.services.items()}
    out["POOLED"] = row(scores.pooled)
    return out


def write(scores: Scores, path: Path = PATH) -> None:
    """Pin the figures of this run."""
    import crawler.extract.document

    pinned = {
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "by": "bench/offline.py --write-baseline",
        "rules": [crawler.extract.document.HTML_RULES, crawler.extract.document.PDF_RULES],
        "figures": figures(scores),
    }
    path.write_text(json.dumps(pinned, indent=1) + "\n")


def read(path: Path = PATH) -> dict[str, dict[str, Any]]:
    """The pinned figures."""
    pinned: dict[str, dict[str, Any]] = json.loads(path.read_text())["figures"]
    return pinned


def compare(
    now: Mapping[str, Mapping[str, Any]], pinned: Mapping[str, Mapping[str, Any]]
) -> tuple[list[str], list[str]]:
    """(regressions, improvements) of a run against the pinned figures."""
    worse: list[str] = []
    better: list[str] = []
    for service, base in pinned.items():
        cur = now.get(service)
        if cur is None:
            worse.append(f"{service}: missing from this run")
            continue

        def note(ok: bool, improved: bool, what: str, s: str = service) -> None:
            if not ok:
                worse.append(f"{s}: {what}")
            elif improved:
                better.append(f"{s}: {what}")

        a, b = cur["alerted"], base["alerted"]
        note(a >= b, a > b, f"substantive changes alerted {b} -> {a}")
        fa, fb = cur["false_alerts"], base["false_alerts"]
        slack = max(FALSE_ALERTS_SLACK[0], math.ceil(FALSE_ALERTS_SLACK[1] * fb))
        note(fa <= fb + slack, fa < fb, f"false alerts {fb} -> {fa} (allowed up to {fb + slack})")
        for name in RATES:
            x, y = cur[name], base[name]
            if x is None or y is None:
                note(x == y, False, f"{name} {y} -> {x}")
                continue
            note(x >= y - RATE_SLACK, x > y, f"{name} {y} -> {x}")
        for name in COUNTS_NOT_MORE:
            x, y = cur[name], base[name]
            note(x <= y, x < y, f"{name} {y} -> {x}")
    return worse, better
