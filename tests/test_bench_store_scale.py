"""bench/store_scale.py at its --quick sizes, through the same functions: the databases it
builds, status, the due decision and the bytes of an unchanged re-crawl (this code only)."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import store_scale  # noqa: E402  (bench scripts are not a package)


def test_quick_store_scale_bench_measures_every_figure(tmp_path: Path) -> None:
    figures = store_scale.measure(store_scale.QUICK, tmp_path)
    (n,) = store_scale.QUICK["status"]
    assert figures["status"][n] > 0 and figures["parts"][n][1] > 0
    (m,) = store_scale.QUICK["due"]
    seconds, due = figures["due"][m]
    assert seconds > 0 and 0 < due < m  # fetched over the last day: some due, not all
    # A nonce in every body costs what the same bytes cost (within a page of the file): no
    # raw body is kept for it; and an unchanged re-crawl adds at most 300 B a source.
    same, nonce = figures["bytes"]["same"], figures["bytes"]["nonce"]
    assert 0 < same <= 300 and nonce <= same + 4096 / store_scale.QUICK["bytes"]
    table = store_scale.table(figures, None, None)
    assert "due decision, 1,000 sources" in table and "B" in table
