"""Scale benchmark (not a test): `citewatch report` over a year of history and over a wide
catalog, and the SQL statements of `flags()`.

    .venv/bin/python bench/scale.py [--quick] [--keep DIR] [--code DIR]

Builds synthetic databases with bench/scale_corpus.py — 100 legal pages (10 tools x 10) with
a version every day for 365 days (~5 % of them real edits, 2,000 flags), and 10,000 pages
(1,000 tools x 10) of one version each — then runs `citewatch report --format html,md,json`
as a child process: the first full report, again with nothing new, and again after one more
day of every page (written by the store's own record_fetch). Each run's wall time, CPU time
and peak RSS (os.wait4 of the child) are printed beside the issue's figures: "before" is
quoted from the issue (measured on the code before incremental reports), "now" is this run.
With `--code DIR` (a checkout or `git archive` export of older code) every report is also run
with that code (PYTHONPATH=DIR), on its own copy of the same databases, right before this
code's: a before/after in the same run, on the same machine load. `--quick` runs small
sizes (seconds, for the test suite).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scale_corpus import build_history, build_wide, pages, record_day

from storage import Store

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the tests' statement counter, one implementation
from test_storage_reads import statements  # type: ignore[import-not-found]  # noqa: E402


@dataclass(frozen=True, slots=True)
class Sizes:
    """The scenario: a history (tools x pages, days, flags) and a wide catalog."""

    tools: int
    per_tool: int
    days: int
    flags: int
    wide_tools: int
    wide_per_tool: int


FULL = Sizes(tools=10, per_tool=10, days=365, flags=2000, wide_tools=1000, wide_per_tool=10)
QUICK = Sizes(tools=2, per_tool=3, days=20, flags=2000, wide_tools=10, wide_per_tool=3)


@dataclass(frozen=True, slots=True)
class Run:
    """One `citewatch report`: wall and CPU seconds, peak RSS (MB), files in its folder."""

    wall: float
    cpu: float
    rss_mb: float
    files: int

    def __str__(self) -> str:
        return f"{self.wall:.1f} s ({self.cpu:.1f} s CPU), {self.rss_mb:.0f} MB"


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything the bench measured."""

    sizes: Sizes
    first: Run
    again: Run
    next_day: Run
    wide: Run
    wide_again: Run
    flags: int
    flag_statements: int
    built_s: float
    before: Figures | None = None  # the --code checkout's, in the same run


# The child reports its own peak RSS (VmHWM, of its own address space) when it exits: the
# ru_maxrss of wait4 keeps, across exec, the peak of the process it was forked from (this
# script, which holds the history it built).
PEAK = """
import atexit, sys
def peak(path=sys.argv.pop(1)):
    status = open("/proc/self/status").read()
    kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    open(path, "w").write(kb)
atexit.register(peak)
sys.argv[0] = "citewatch"
from crawler.cli.commands import main
main()
"""


def report(url: str, catalog: Path, out: Path, code: Path = ROOT) -> Run:
    """Run `citewatch report` (of the checkout `code`) in a child process and measure it."""
    args = ["--db", url, "report", "--format", "html,md,json", "--out", str(out)]
    args += ["--catalog", str(catalog)]
    with tempfile.TemporaryDirectory() as scratch:
        peak, errors_path = Path(scratch) / "peak", Path(scratch) / "errors"
        with errors_path.open("wb") as errors:
            started = time.perf_counter()
            child = subprocess.Popen(
                [sys.executable, "-c", PEAK, str(peak), *args],
                cwd=code,
                env=dict(os.environ, PYTHONPATH=str(code)),
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
            _, status, usage = os.wait4(child.pid, 0)  # this child's own CPU time
            wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            raise RuntimeError(f"report failed: {errors_path.read_text(errors='replace')}")
        rss_mb = int(peak.read_text()) / 1024
    return Run(wall, usage.ru_utime + usage.ru_stime, rss_mb, count_files(out))


def count_files(folder: Path) -> int:
    """Files a report wrote (its own bookkeeping in .citewatch/ left out)."""
    return sum(1 for p in folder.rglob("*") if p.is_file() and ".citewatch" not in p.parts)


def _print(line: str) -> None:
    print(line, flush=True)


def measure(sizes: Sizes, work: Path, log: Any = _print, code: Path | None = None) -> Figures:
    """Build the databases under `work` and measure every figure (this code's, and with
    `code` that checkout's, on a copy of the same databases)."""
    started = time.perf_counter()
    url = f"sqlite:///{work / 'history.db'}"
    history = build_history(
        url, work / "catalog", sizes.tools, sizes.per_tool, sizes.days, sizes.flags
    )
    wide_url = f"sqlite:///{work / 'wide.db'}"
    build_wide(wide_url, work / "wide-catalog", sizes.wide_tools, sizes.wide_per_tool)
    built = time.perf_counter() - started
    log(f"built in {built:.0f} s; {history.flags} flags")
    with statements(history.store) as seen:
        flags = len(history.store.flags())
    history.store.close()
    old: Path | None = None
    if code is not None:
        old = work / "before"
        old.mkdir(exist_ok=True)
        for name in ("history.db", "wide.db"):
            _copy_db(work / name, old / name)

    def both(name: str, db: str, catalog: str, site: str) -> tuple[Run, Run | None]:
        before = None
        if old is not None and code is not None:
            before = report(f"sqlite:///{old / db}", work / catalog, old / site, code)
            log(f"  before, {name}: {before}, {before.files} files")
        now = report(f"sqlite:///{work / db}", work / catalog, work / site)
        log(f"{name}: {now}, {now.files} files")
        return now, before

    first = both("first full report", "history.db", "catalog", "site")
    again = both("again, nothing new", "history.db", "catalog", "site")
    items = pages(sizes.tools, sizes.per_tool)
    for folder in (work, old) if old is not None else (work,):
        store = Store.open(f"sqlite:///{folder / 'history.db'}")
        record_day(store, work / "catalog", items, sizes.days)
        store.close()
    next_day = both("after one more day", "history.db", "catalog", "site")
    wide = both("wide catalog", "wide.db", "wide-catalog", "wide-site")
    wide_again = both("wide, again", "wide.db", "wide-catalog", "wide-site")
    then = None
    if first[1] and again[1] and next_day[1] and wide[1] and wide_again[1]:
        then = Figures(sizes, first[1], again[1], next_day[1], wide[1], wide_again[1], flags,
                       len(seen), built)  # fmt: skip
    return Figures(sizes, first[0], again[0], next_day[0], wide[0], wide_again[0], flags,
                   len(seen), built, before=then)  # fmt: skip


def _copy_db(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database, its write-ahead log included (the backup API;
    a copy of the file alone misses what the log still holds)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def table(f: Figures) -> str:
    """The figures beside the issue's ("before": quoted from the issue, old code) and those
    of the --code checkout in the same run, if measured."""
    old = f.before
    s = f.sizes
    year = f"{s.tools * s.per_tool} sources x {s.days} daily versions"
    wide = f"{s.wide_tools * s.wide_per_tool:,} sources x 1 version"
    statements = f"{f.flag_statements} SQL statements"
    rows: list[tuple[str, ...]] = [
        ("figure", "before (issue, old code)", "now (this run)", "target"),
        (f"report html,md,json, {year}: first full", "883 s, 2.78 GB", str(f.first),
         "<= 30 s, <= 300 MB"),
        ("  again, nothing new", "108 s, 1.35 GB", str(f.again), "<= 5 s"),
        ("  after one more day", "-", str(f.next_day), "<= 5 s"),
        (f"report, {wide}", "48.9 s, 32,006 files", f"{f.wide}, {f.wide.files:,} files",
         "<= 10 s"),
        ("  again, nothing new", "-", str(f.wide_again), "-"),
        (f"flags() with {f.flags:,} flags", "4,002 SQL statements", statements, "a fixed number"),
    ]  # fmt: skip
    if old is not None:
        runs = ("", str(old.first), str(old.again), str(old.next_day), str(old.wide),
                str(old.wide_again), f"{old.flag_statements} SQL statements")  # fmt: skip
        rows = [
            (row[0], row[1], "--code (same run)" if i == 0 else runs[i], row[2], row[3])
            for i, row in enumerate(rows)
        ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    parser.add_argument("--code", type=Path, help="also run every report with this checkout")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    work = args.keep or Path(tempfile.mkdtemp(prefix="citewatch-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        figures = measure(sizes, work, code=args.code.resolve() if args.code else None)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(table(figures))
    print(f"(machine load average when done: {os.getloadavg()[0]:.1f}; 2 CPUs shared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
