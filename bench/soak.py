"""Soak benchmark (not a test): `citewatch run` for N minutes against the replay server.

    python bench/soak.py [--minutes 30] [--shared ../shared] [--out soak.json]

A real scheduler process (`python -m crawler.cli run`, every crawl a child) watches a catalog of
every corpus page with a short `every:`, while this script advances the replay clock
(--steps ticks every --advance seconds) and injects faults (404, 500, 503 + Retry-After, slow,
redirect, truncated body) on random pages for --fault-for seconds. It samples the RSS of the
scheduler and of its crawl children, then stops the scheduler with SIGTERM and reports: memory
over time, crawl runs and fetches, failures by error kind, and text changes recorded vs the
real changes the replay served (per page and clock window, scored like bench/replay_corpus.py).

With --hostile, a tool citing a page of every attack a valid catalog can meet at fetch time
(bench/hostile_site.py: Retry-After of 1e23 and of year 9999, redirects to a bad port, a private,
decimal-IP, credentialed or file: URL, a redirect loop, a meta refresh to 169.254.169.254, PDF
bombs, a gzip bomb, a body over the size cap, slowloris, non-text charsets, a stray NUL, script
injection, 400,000 paragraphs changed at both ends, a 20,000-word quote on a 6 MB page, an IPv6
literal) is crawled beside the corpus the whole time; the figures add what each hostile source
ended in and whether every good source kept its schedule.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from hostile_site import TOOL, HostileSite
from replay_corpus import Corpus, _advanced, _get, _post, write_catalog

ROOT = Path(__file__).resolve().parent.parent
# The replay server is on 127.0.0.1: crawls refuse it unless allowed (crawler/fetch/destinations.py)
CRAWL_SETTINGS = ("DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "CITEWATCH_ALLOW_PRIVATE=True")
# With hostile pages, only the servers' own addresses: their redirects to 127.0.0.2, 10.0.0.5
# and 169.254.169.254 must be refused as they would be on a public crawl.
HOSTILE_SETTINGS = (*CRAWL_SETTINGS[:2], "CITEWATCH_ALLOW_PRIVATE=127.0.0.1,::1")
# Faults a watched web page really shows; 503 with a Retry-After shorter than a clock window.
FAULTS = (
    "kind=404",
    "kind=500",
    "kind=503&retry_after=20",
    "kind=slow&delay=20",
    "kind=redirect&status=301",
    "kind=truncate&declared=full",
)


@dataclass
class Samples:
    """RSS samples: (seconds since start, scheduler RSS, children's total RSS), in MB."""

    rows: list[tuple[float, float, float]] = field(default_factory=list)

    def take(self, pid: int, t: float) -> None:
        try:
            proc = psutil.Process(pid)
            own = proc.memory_info().rss
            kids = sum(_rss(c) for c in proc.children(recursive=True))
        except psutil.NoSuchProcess:
            return
        self.rows.append((round(t, 1), own / 2**20, kids / 2**20))


def _rss(proc: psutil.Process) -> int:
    try:
        return int(proc.memory_info().rss)
    except psutil.NoSuchProcess:
        return 0


def _with_every(folder: Path, every: str) -> None:
    """Give every source of the generated catalog a short `every:`."""
    for path in (folder / "tools").glob("*.yaml"):
        lines = []
        for line in path.read_text().splitlines():
            lines.append(line)
            if line.startswith("    url: "):
                lines.append(f"    every: {every}")
        path.write_text("\n".join(lines) + "\n")


def _scheduler(
    args: argparse.Namespace, catalog: Path, db: str, log: Path
) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "crawler.cli", "--db", db, "run", str(catalog)]
    cmd += ["--every", args.every, "--tick", str(args.tick), "--backoff", args.backoff]
    cmd += ["--crawl-timeout", str(args.crawl_timeout)]
    for setting in HOSTILE_SETTINGS if args.hostile else CRAWL_SETTINGS:
        cmd += ["-s", setting]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True, env=env)


def soak(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Run the scheduler against the replay; return the raw material of the figures."""
    sys.path.insert(0, str(args.shared / "tools"))
    from replay_server import ReplayServer  # type: ignore[import-not-found]

    corpus = Corpus.load(args.shared / "corpus")
    rng = random.Random(args.seed)
    samples, faults, windows = Samples(), [], []
    hostile = HostileSite()
    with ReplayServer(str(args.shared / "corpus"), port=0) as srv, hostile:
        base = srv.base_url
        sources = _get(base, "/_control/sources.json")
        index = write_catalog(tmp / "catalog", args.shared / "corpus", sources, None, None)
        _with_every(tmp / "catalog", args.every)
        if args.hostile:
            (tmp / "catalog" / "tools" / f"{TOOL}.yaml").write_text(hostile.tool_yaml(args.every))
        db_path = tmp / "soak.db"
        seen: dict[tuple[str, str], int] = {}
        _advanced(_get(base, "/_control/state"), index, seen)  # tick 0: first captures
        proc = _scheduler(args, tmp / "catalog", f"sqlite:///{db_path}", args.log)
        start = time.monotonic()
        end = start + args.minutes * 60
        next_advance, next_fault, active = start + args.advance, start + args.fault_every, {}
        try:
            while time.monotonic() < end and proc.poll() is None:
                now = time.monotonic()
                samples.take(proc.pid, now - start)
                if now >= next_advance:
                    _post(base, f"/_control/advance?steps={args.steps}")
                    fresh = _advanced(_get(base, "/_control/state"), index, seen)
                    windows.append({"at": time.time(), "fresh": fresh})
                    next_advance += args.advance
                if now >= next_fault:
                    path = rng.choice(sorted({f"/{d}/{p}" for d, p in index.values()}))
                    kind = rng.choice(FAULTS)
                    _post(base, f"/_control/fault?path={path}&{kind}")
                    faults.append(kind.split("&")[0][5:])
                    active[path] = now + args.fault_for
                    next_fault += args.fault_every
                for path, until in list(active.items()):
                    if now >= until:
                        _post(base, f"/_control/fault?path={path}&kind=none")
                        del active[path]
                time.sleep(args.sample)
        finally:
            proc.send_signal(signal.SIGTERM)  # also when this script fails: no orphan
        stopped = time.monotonic()
        code = proc.wait(timeout=args.crawl_timeout + 60)
        stop_s = time.monotonic() - stopped
    return {
        "seconds": time.monotonic() - start,
        "exit_code": code,
        "stop_seconds": stop_s,
        "samples": samples,
        "faults": faults,
        "windows": windows,
        "index": index,
        "corpus": corpus,
        "db": db_path,
        "hostile_hits": dict(hostile.hits),
    }


def figures(raw: dict[str, Any]) -> dict[str, Any]:
    """Memory, crawls, failures and changes recorded vs real, from the run and its database."""
    db = sqlite3.connect(raw["db"])
    runs = dict(db.execute("SELECT status, count(*) FROM crawl_runs GROUP BY status").fetchall())
    outcomes = dict(db.execute("SELECT outcome, count(*) FROM fetches GROUP BY outcome").fetchall())
    kinds = dict(
        db.execute(
            "SELECT coalesce(error_kind, '?'), count(*) FROM fetches WHERE outcome = 'failed' "
            "GROUP BY error_kind"
        ).fetchall()
    )
    changes = db.execute(
        "SELECT s.tool_id || '/' || s.source_id, unixepoch(o.taken_at), unixepoch(n.taken_at), "
        "c.significant FROM changes c JOIN sources s ON s.id = c.source_pk "
        "JOIN snapshots o ON o.id = c.old_snapshot_id "
        "JOIN snapshots n ON n.id = c.new_snapshot_id WHERE NOT c.technical"
    ).fetchall()
    every = raw["samples"].rows
    rows = [r for r in every if r[0] >= 30] or every  # the first seconds measure the fork
    marks = [
        r for i, r in enumerate(rows) if i == 0 or int(r[0] // 300) > int(rows[i - 1][0] // 300)
    ]
    return {
        "minutes": round(raw["seconds"] / 60, 1),
        "exit_code_after_sigterm": raw["exit_code"],
        "stop_seconds": round(raw["stop_seconds"], 1),
        "scheduler_rss_mb": {f"{t / 60:.0f} min": round(own, 1) for t, own, _ in marks},
        "scheduler_rss_min_max_mb": [
            round(min(r[1] for r in rows), 1),
            round(max(r[1] for r in rows), 1),
        ],
        "children_rss_max_mb": round(max(r[2] for r in rows), 1),
        "rss_per_minute_mb": [
            [round(t / 60), round(own, 1), round(kids, 1)]
            for i, (t, own, kids) in enumerate(rows)
            if i == 0 or int(t // 60) > int(rows[i - 1][0] // 60)
        ],
        "crawl_runs": runs,
        "fetches": outcomes,
        "failures_by_kind": kinds,
        "faults_injected": {k: raw["faults"].count(k) for k in sorted(set(raw["faults"]))},
        "clock_windows": len(raw["windows"]),
        **_versus_real(raw, changes),
        **_schedules(db, raw),
    }


def _schedules(db: sqlite3.Connection, raw: dict[str, Any]) -> dict[str, Any]:
    """Whether good sources kept their schedule, and what each hostile source ended in."""
    gaps = []
    for (times,) in db.execute(
        "SELECT group_concat(unixepoch(f.started_at), ',') FROM fetches f "
        "JOIN sources s ON s.id = f.source_pk WHERE s.tool_id != ? GROUP BY f.source_pk",
        (TOOL,),
    ):
        stamps = sorted(int(t) for t in times.split(","))
        gaps.append(max((b - a for a, b in itertools.pairwise(stamps)), default=0))
    gaps.sort()
    hostile: dict[str, dict[str, int]] = {}
    for source, ended, count in db.execute(
        "SELECT s.source_id, coalesce(f.failure_class, f.outcome), count(*) FROM fetches f "
        "JOIN sources s ON s.id = f.source_pk WHERE s.tool_id = ? GROUP BY 1, 2",
        (TOOL,),
    ):
        hostile.setdefault(source, {})[ended] = count
    return {
        "good_sources": len(gaps),
        "good_fetches_per_source_min": db.execute(
            "SELECT min(n) FROM (SELECT count(*) AS n FROM fetches f JOIN sources s "
            "ON s.id = f.source_pk WHERE s.tool_id != ? GROUP BY f.source_pk)",
            (TOOL,),
        ).fetchone()[0],
        "good_max_gap_s_median_p95_max": [
            gaps[len(gaps) // 2] if gaps else None,
            gaps[int(len(gaps) * 0.95)] if gaps else None,
            gaps[-1] if gaps else None,
        ],
        "hostile_sources": hostile,
        "hostile_requests": raw["hostile_hits"],
    }


def _versus_real(raw: dict[str, Any], changes: list[tuple[str, int, int, int]]) -> dict[str, Any]:
    """Real (scored) text changes per page and clock window vs the changes recorded.

    A recorded change covers the windows after its old snapshot's fetch up to its new one's:
    a page that failed for a while (a fault) shows the change of an earlier window late, which
    counts as found, not as a miss plus a false alert. Unscored windows (first captures,
    archive upgrades) are left out, as in bench/replay_corpus.py.
    """
    corpus: Corpus = raw["corpus"]
    starts = [w["at"] for w in raw["windows"]]
    spans: dict[tuple[str, str], list[tuple[range, int]]] = {}
    for name, old, new, significant in changes:
        if name not in raw["index"]:
            continue  # a hostile page (--hostile): no labels to score it against
        covered = range(_slot(starts, old) + 1, _slot(starts, new) + 1)
        spans.setdefault(raw["index"][name], []).append((covered, significant))
    truth: dict[tuple[tuple[str, str], int], tuple[bool, bool]] = {}
    for slot, window in enumerate(raw["windows"]):
        for page, steps in window["fresh"].items():
            own = tuple(n for n in steps if corpus.steps[(page[0], n)]["page"] == page[1])
            scored, is_real, is_subst, _, _ = corpus.judge(page[0], own)
            if scored:
                truth[(page, slot)] = (is_real, is_subst)
    real = [k for k, (r, _) in truth.items() if r]
    subst = [k for k, (_, s) in truth.items() if s]
    found = [k for k in real if any(k[1] in c for c, _ in spans.get(k[0], ()))]
    alerted = [k for k in subst if any(k[1] in c and sig for c, sig in spans.get(k[0], ()))]
    alerts = [(page, c) for page, items in spans.items() for c, sig in items if sig]
    unscored = [(p, c) for p, c in alerts if not any((p, w) in truth for w in c)]
    false = [
        (p, c)
        for p, c in alerts
        if (p, c) not in unscored and not any(truth.get((p, w), (False, False))[1] for w in c)
    ]
    return {
        "scored_page_windows": len(truth),
        "real_text_changes": len(real),
        "real_changes_recorded": len(found),
        "substantive_changes": len(subst),
        "substantive_alerted": len(alerted),
        "alerts_without_substantive_change": len(false),
        "alerts_on_unscored_captures": len(unscored),
        "text_changes_recorded_total": len(changes),
        "significant_total": sum(c[3] for c in changes),
        "missed": sorted(f"{p[0]}#{p[1]} window {w}" for p, w in subst if (p, w) not in alerted),
        "false": sorted(f"{p[0]}#{p[1]} windows {list(c)}" for p, c in false),
    }


def _slot(starts: list[float], when: int) -> int:
    """The clock window a time falls in (-1: before the first clock move)."""
    return bisect.bisect_right(starts, float(when)) - 1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--minutes", type=float, default=35.0)
    parser.add_argument("--every", default="45s", help="every: of each source")
    parser.add_argument("--tick", type=float, default=5.0, help="run --tick")
    parser.add_argument("--backoff", default="20s", help="run --backoff")
    parser.add_argument("--crawl-timeout", type=float, default=120.0)
    parser.add_argument("--advance", type=float, default=120.0, help="seconds between clock moves")
    parser.add_argument("--steps", type=int, default=10, help="ticks per clock move")
    parser.add_argument("--fault-every", type=float, default=40.0, help="seconds between faults")
    parser.add_argument("--fault-for", type=float, default=90.0, help="seconds a fault lasts")
    parser.add_argument("--sample", type=float, default=2.0, help="seconds between RSS samples")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--hostile", action="store_true", help="crawl bench/hostile_site.py too")
    parser.add_argument("--log", type=Path, default=Path("soak-scheduler.log"))
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="citewatch-soak-") as tmp:
        result = figures(soak(args, Path(tmp)))
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
