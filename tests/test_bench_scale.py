"""bench/scale.py at its --quick sizes, through the same functions: the synthetic history it
builds, a report child measured three times, the wide catalog, and flags() statements."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import scale  # noqa: E402  (bench scripts are not a package)


def test_quick_scale_bench_measures_every_figure(tmp_path: Path) -> None:
    figures = scale.measure(scale.QUICK, tmp_path, log=lambda _line: None)
    sizes = scale.QUICK
    # 6 pages x 20 days: a substantive edit every 18 days per page, each one flag.
    assert figures.flags == 6 and figures.flag_statements == 4  # BEGIN and three SELECTs
    versions = sizes.tools * sizes.per_tool * sizes.days
    assert figures.first.files > 2 * versions  # a raw and a text file per version, and pages
    assert figures.next_day.files > figures.first.files  # the day's versions and pages
    wide = sizes.wide_tools * sizes.wide_per_tool
    assert figures.wide.files >= 3 * wide  # timeline, raw and text of each page
    for run in (figures.first, figures.again, figures.next_day, figures.wide):
        assert run.cpu > 0 and 40 < run.rss_mb < 300
    table = scale.table(figures)
    assert "883 s, 2.78 GB" in table and "4 SQL statements" in table
