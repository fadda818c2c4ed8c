"""Storage scale benchmark (not a test): `status --json`, the scheduler's due decision and
the bytes an unchanged re-crawl adds, on this code and (with --before REV) on an older one.

    .venv/bin/python bench/store_scale.py [--before main] [--quick] [--json]

Each code version is measured in a child process (PYTHONPATH set to an export of the code,
`git archive REV`), on databases it builds itself through its own store:

- `status --json` (a `citewatch status --json --catalog DIR` child, wall and CPU time) with 1,000
  and 10,000 sources, 10 % of them failing (1 to 3 failures in a row): without the catalog
  cache, then with an empty one (cold: parses and writes it) and again (warm); and in process, CPU
  time, its two parts: parsing the catalog, and the rest (database, due times, JSON);
- the due decision of one scheduler cycle (`due_now(timings(catalog, source_schedules()))`,
  in process, CPU time, the catalog already loaded: the scheduler caches it) at 10,000 and
  100,000;
- bytes per source added by one re-crawl of 1,000 unchanged pages (file size after a WAL
  checkpoint), once with the same bytes and once with a nonce in every body.

The wide databases get their fetch log in bulk (one run, one fetch per source) and their
source rows' state from it, the way migration 0008 fills it for an existing database.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FULL = {"status": (1_000, 10_000), "due": (10_000, 100_000), "bytes": 1_000}
QUICK = {"status": (100,), "due": (1_000,), "bytes": 100}
FAILING_EVERY = 10  # one source in ten fails
PAGE_BLOCKS = 40  # paragraphs of a synthetic page (~6 KB of HTML)


def _keys(n: int) -> list[tuple[str, str, str]]:
    from scale_corpus import pages

    tools = max(1, n // 10)
    return [(p.tool, p.source, p.url) for p in pages(tools, 10)][:n]


def _catalog(folder: Path, n: int) -> Path:
    from scale_corpus import write_catalog

    return write_catalog(folder, max(1, n // 10), 10)


def build_wide(url: str, n: int, catalog: Path) -> None:
    """n sources, each fetched once (one in ten failed, 1-3 times in a row)."""
    import sqlalchemy as sa

    from storage import Store
    from storage.models import CrawlRun, Fetch, SourceRow

    store = Store.open(url)
    states = store.source_states(_keys(n))
    start = datetime.now(UTC) - timedelta(days=1)  # fetched over the last day: about half due
    run = store.begin_run(str(catalog))
    rows: list[dict[str, Any]] = []
    for i, st in enumerate(states):
        fails = 1 + i // FAILING_EVERY % 3 if i % FAILING_EVERY == 0 else 0
        at = start + timedelta(seconds=i * 86_400 // n)
        for k in range(max(1, fails)):
            rows.append(dict(
                run_id=run, source_pk=st.pk, requested_url=st.url, final_url=None,
                redirects=[], status=503 if fails else 200,
                outcome="failed" if fails else "unchanged",
                error="http: HTTP 503" if fails else None, error_kind="http" if fails else None,
                content_type="text/html", raw_sha=None,
                started_at=at + timedelta(minutes=k), elapsed_ms=100,
                failure_class="transient" if fails else None, retry_after=None,
            ))  # fmt: skip
    with store.sessions.begin() as s:
        s.execute(sa.insert(Fetch), rows)
        s.execute(sa.update(CrawlRun).values(status="done", finished_at=datetime.now(UTC)))
        last = sa.select(sa.func.max(Fetch.started_at)).where(Fetch.source_pk == SourceRow.id)
        failures = (
            sa.select(sa.func.count(Fetch.id))
            .where(Fetch.source_pk == SourceRow.id, Fetch.outcome == "failed")
            .scalar_subquery()
        )
        s.execute(
            sa.update(SourceRow).values(
                last_fetch_at=last.scalar_subquery(), consecutive_failures=failures
            )
        )
        backfill = _backfill()
        if backfill is not None:
            backfill(s.connection())
    store.close()


def _backfill() -> Any:
    try:
        from storage.sourcelog import backfill
    except ImportError:  # code before migration 0008: no materialised state to fill
        return None
    return backfill


def time_status(url: str, catalog: Path) -> float:
    """Wall seconds of a `citewatch status --json` child."""
    return status_times(url, catalog)[0]


def status_times(url: str, catalog: Path, cache: Path | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, of the child alone: os.wait4) of a
    `citewatch status --json` child. On a shared machine the CPU time is the code's figure;
    the wall time also holds the wait for a core. `cache`: the child's CITEWATCH_CACHE_DIR
    (the parsed-catalog cache); None: no cache (CITEWATCH_NO_CACHE)."""
    env = dict(os.environ, CITEWATCH_NO_CACHE="1")
    if cache is not None:
        env = dict(os.environ, CITEWATCH_CACHE_DIR=str(cache), CITEWATCH_NO_CACHE="")
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "--db", url, "status", "--json",
         "--catalog", str(catalog)],
        stdout=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"status failed: {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime


def time_due(url: str, catalog: Path) -> tuple[float, int]:
    """CPU seconds of one cycle's due decision (best of 3; CPU time: the machine is shared),
    and the sources it found due."""
    from crawler.catalog.model import load_catalog
    from crawler.run.schedule import Policy, due_now, timings
    from storage import Store
    from storage.scheduling import source_schedules

    cat = load_catalog(str(catalog))
    store = Store.open(url, create=False)
    best, due = float("inf"), 0
    for _ in range(3):
        started = time.process_time()
        found = due_now(timings(cat, source_schedules(store)), Policy(timedelta(days=1)),
                        datetime.now(UTC))  # fmt: skip
        best = min(best, time.process_time() - started)
        due = len(found)
        if best > 5:
            break  # slow enough: one run tells
    store.close()
    return best, due


def time_status_parts(url: str, catalog: Path) -> tuple[float, float]:
    """CPU seconds of `status --json`'s two parts, in process: loading the catalog, and
    everything else (the database, due times, the JSON text)."""
    from crawler.catalog.model import load_catalog
    from crawler.report.watching import unwatched
    from crawler.run.schedule import Policy
    from crawler.run.status import build_status
    from storage import Store
    from storage.scheduling import read_heartbeat, source_schedules

    started = time.process_time()
    cat = load_catalog(str(catalog))
    loaded = time.process_time()
    store = Store.open(url, create=False)
    # What status_report does once it has the catalog.
    hb, known = read_heartbeat(store), source_schedules(store)
    report = build_status(hb, known, cat, Policy(timedelta(days=1)), datetime.now(UTC),
                          unwatched(store, cat))  # fmt: skip
    json.dumps(report.as_json())
    store.close()
    return loaded - started, time.process_time() - loaded


def _page(i: int, nonce: str) -> tuple[bytes, str]:
    words = [f"Paragraph {b} of page {i}: we process personal data as described." for b in
             range(PAGE_BLOCKS)]  # fmt: skip
    html = f'<html><head><script nonce="{nonce}"></script></head><body>'
    html += "".join(f"<p>{w}</p>" for w in words) + "</body></html>"
    return html.encode(), "\n".join(words)


def bytes_per_recrawl(folder: Path, n: int, nonce: bool) -> float:
    """Bytes per source one unchanged re-crawl adds to the database file."""
    from storage import Store
    from storage.records import FetchEntry, NewSnapshot
    from storage.values import Outcome

    path = folder / f"bytes-{'nonce' if nonce else 'same'}.db"
    store = Store.open(f"sqlite:///{path}")
    states = store.source_states(_keys(n))

    def crawl(outcome: Outcome, tag: str) -> None:
        run = store.begin_run("catalog")
        for i, st in enumerate(states):
            raw, text = _page(i, tag if nonce else "fixed")
            entry = FetchEntry(
                run_id=run, source_pk=st.pk, requested_url=st.url, final_url=None,
                redirects=(), status=200, outcome=outcome, error=None, error_kind=None,
                content_type="text/html", raw=raw, started_at=datetime.now(UTC),
                elapsed_ms=120, etag=None, last_modified=None,
            )  # fmt: skip
            snap = NewSnapshot(raw=raw, text=text, extract_key="html/1",
                               content_type="text/html", final_url=None)  # fmt: skip
            store.record_fetch(entry, [(snap, None)] if outcome == "new" else [])
        store.end_run(run, "done")

    def size() -> int:
        store.engine.dispose()  # no pooled connection keeps a read mark in the WAL
        conn = sqlite3.connect(path)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        return path.stat().st_size

    crawl("new", "first")
    crawl("unchanged", "second")  # the first re-crawl settles the source rows' state
    before = size()
    crawl("unchanged", "third")
    added = size() - before
    store.close()
    return added / n


def measure(sizes: dict[str, Any], work: Path) -> dict[str, Any]:
    """Every figure of the code on PYTHONPATH."""
    out: dict[str, Any] = {"status": {}, "status_cpu": {}, "parts": {}, "due": {}, "bytes": {}}
    out |= {"cold": {}, "cold_cpu": {}, "warm": {}, "warm_cpu": {}}
    for n in sorted({*sizes["status"], *sizes["due"]}):
        catalog = _catalog(work / f"catalog-{n}", n)
        url = f"sqlite:///{work / f'wide-{n}.db'}"
        started = time.perf_counter()
        build_wide(url, n, catalog)
        print(f"  built {n:,} sources in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        if n in sizes["status"]:
            out["status"][n], out["status_cpu"][n] = status_times(url, catalog)
            # The catalog cache: the first run parses and writes it (cold), the next reads it.
            cache = work / f"cache-{n}"
            out["cold"][n], out["cold_cpu"][n] = status_times(url, catalog, cache)
            out["warm"][n], out["warm_cpu"][n] = status_times(url, catalog, cache)
            out["parts"][n] = time_status_parts(url, catalog)
        if n in sizes["due"]:
            out["due"][n] = time_due(url, catalog)
    for nonce in (False, True):
        out["bytes"]["nonce" if nonce else "same"] = bytes_per_recrawl(work, sizes["bytes"], nonce)
    return out


def run_child(code: Path, quick: bool) -> dict[str, Any]:
    """Measure the code at `code` in a child process."""
    env = dict(os.environ, PYTHONPATH=str(code))
    args = [sys.executable, str(Path(__file__)), "--measure"] + (["--quick"] if quick else [])
    done = subprocess.run(args, env=env, cwd=code, check=True, stdout=subprocess.PIPE)
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


def export(rev: str, folder: Path) -> Path:
    """The code of a git revision, exported (not a worktree)."""
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True,
                             stdout=subprocess.PIPE).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def table(now: dict[str, Any], before: dict[str, Any] | None, rev: str | None) -> str:
    """The figures side by side."""

    def cell(figures: dict[str, Any] | None, part: str, n: Any) -> str:
        if figures is None:
            return "-"
        value = figures.get(part, {}).get(str(n), figures.get(part, {}).get(n))
        if value is None:
            return "-"
        if part == "due":
            return f"{value[0]:.2f} s ({value[1]:,} due)"
        if part == "parts":
            return f"{value[1]:.2f} s (catalog: {value[0]:.2f} s)"
        return f"{value:.0f} B" if part == "bytes" else f"{value:.2f} s"

    rows = [("figure", f"before ({rev})" if rev else "before", "now")]
    for n in now["status"]:
        rows.append((f"status --json, {int(n):,} sources (wall)", cell(before, "status", n),
                     cell(now, "status", n)))  # fmt: skip
        rows.append((f"  its CPU time (user + system), {int(n):,}",
                     cell(before, "status_cpu", n), cell(now, "status_cpu", n)))  # fmt: skip
        for run in ("cold", "warm"):
            rows.append((f"  catalog cache {run}: wall (CPU), {int(n):,}",
                         cell(before, run, n) + f" ({cell(before, f'{run}_cpu', n)})",
                         cell(now, run, n) + f" ({cell(now, f'{run}_cpu', n)})"))  # fmt: skip
    for n in now["parts"]:
        rows.append((f"  of which the database part (CPU), {int(n):,}",
                     cell(before, "parts", n), cell(now, "parts", n)))  # fmt: skip
    for n in now["due"]:
        rows.append((f"due decision, {int(n):,} sources (CPU)", cell(before, "due", n),
                     cell(now, "due", n)))  # fmt: skip
    for kind in ("same", "nonce"):
        what = "same bytes" if kind == "same" else "a nonce in every body"
        rows.append((f"bytes per source, unchanged re-crawl ({what})",
                     cell(before, "bytes", kind), cell(now, "bytes", kind)))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure (this code, and --before REV) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="REV", help="also measure this git revision")
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="store-scale-") as scratch:
        if args.measure:
            print(json.dumps(measure(sizes, Path(scratch))))
            return 0
        before = None
        if args.before:
            print(f"measuring {args.before} …", file=sys.stderr)
            before = run_child(export(args.before, Path(scratch)), args.quick)
        print("measuring this code …", file=sys.stderr)
        now = run_child(ROOT, args.quick)
    if args.json:
        print(json.dumps({"before": before, "now": now}))
    else:
        print(table(now, before, args.before))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    raise SystemExit(main())
