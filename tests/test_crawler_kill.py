"""Crash consistency: SIGKILL `citewatch crawl` (parent, Scrapy child, or both) at random points.

Pages change between iterations. After every kill the database must be consistent; every few
kills a crawl runs to the end and must pick up where the killed ones stopped; a last crawl
must leave each source's history exactly the versions seen, in order, with one change between
consecutive snapshots and none recorded twice. Runs killed mid-way must end up `killed`.

Every failure message names the random seed; ``CITEWATCH_KILL_SEED=<seed> pytest
tests/test_crawler_kill.py`` replays the same page changes and kill choices (kill times still
depend on the machine's speed).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, suppress
from pathlib import Path

import pytest
from conftest import LocalServer, Reply

from storage import blobs

ROOT = Path(__file__).resolve().parents[1]
CITEWATCH = shutil.which("citewatch") or str(ROOT / ".venv/bin/citewatch")
SETTINGS = ["DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "BROKEN_AFTER=2"]
PAGES = 4
MIN_KILLS = 20
COMPLETE_EVERY = 10  # kills between two crawls that must run to the end (each costs a crawl)
# A kill lands uniformly in the first KILL_SPAN of a whole crawl's duration (measured on this
# machine): later than that the crawl has mostly finished and the iteration is wasted.
KILL_SPAN = 0.9
CHILD_WAIT = 3.0  # seconds a kill aimed at the Scrapy child waits for it to start
HTML = {"Content-Type": "text/html; charset=utf-8"}
VERSION = re.compile(r"Version (\d+) of page (\d+)")


def page(k: int, version: int) -> Reply:
    """Page k at a version: long enough that a version bump is an ordinary edit."""
    filler = "".join(
        f"<p>Clause {i}: we keep your data in the European Union.</p>" for i in range(40)
    )
    body = f"<html><body><main><h1>Version {version} of page {k}</h1>{filler}</main></body></html>"
    return Reply(200, body.encode(), HTML)


def write_catalog(folder: Path, server: LocalServer) -> Path:
    """One tool, one source per page, one rating resting on all of them."""
    (folder / "tools").mkdir(parents=True)
    ids = [f"p{k}" for k in range(PAGES)]
    sources = "".join(f"  - id: {i}\n    url: {server.url('/' + i)}\n" for i in ids)
    (folder / "tools" / "t.yaml").write_text(
        f"id: t\nname: T\nsources:\n{sources}ratings:\n  server-location:\n    rating: yes\n"
        f"    sources: [{', '.join(ids)}]\n",
        encoding="utf-8",
    )
    return folder


def children(pid: int) -> list[int]:
    """Processes whose parent is pid (the Scrapy child of a crawl), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited while we looked
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie, exited but not reaped by init yet, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill_group(pid: int) -> None:
    """SIGKILL a process group (the Scrapy child leads its own session)."""
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    """Run a query on the database file the way a fresh process would open it."""
    with closing(sqlite3.connect(db, timeout=30)) as conn:
        return conn.execute(sql).fetchall()


def check_consistent(db: Path, note: str) -> None:
    """Everything a killed crawl must not break."""
    assert rows(db, "PRAGMA integrity_check") == [("ok",)], note
    assert rows(db, "PRAGMA foreign_key_check") == [], note
    orphans = {
        "snapshot without its blobs": "SELECT s.id FROM snapshots s LEFT JOIN blobs r ON "
        "r.sha256 = s.raw_sha LEFT JOIN blobs t ON t.sha256 = s.text_sha "
        "WHERE r.sha256 IS NULL OR t.sha256 IS NULL",
        "snapshot without a fetch of its source": "SELECT s.id FROM snapshots s LEFT JOIN "
        "fetches f ON f.id = s.fetch_id AND f.source_pk = s.source_pk WHERE f.id IS NULL",
        "change across sources or backwards": "SELECT c.id FROM changes c JOIN snapshots o ON "
        "o.id = c.old_snapshot_id JOIN snapshots n ON n.id = c.new_snapshot_id WHERE "
        "o.source_pk != c.source_pk OR n.source_pk != c.source_pk OR o.id >= n.id",
        "change not between consecutive snapshots": "SELECT c.id FROM changes c WHERE "
        "c.old_snapshot_id != (SELECT max(s.id) FROM snapshots s WHERE s.source_pk = "
        "c.source_pk AND s.id < c.new_snapshot_id)",
        "snapshot pair changed twice": "SELECT old_snapshot_id FROM changes GROUP BY "
        "old_snapshot_id, new_snapshot_id HAVING count(*) > 1",
        "snapshot reached by two changes": "SELECT new_snapshot_id FROM changes GROUP BY "
        "new_snapshot_id HAVING count(*) > 1",
        "later snapshot without a change": "SELECT s.id FROM snapshots s WHERE s.id > (SELECT "
        "min(f.id) FROM snapshots f WHERE f.source_pk = s.source_pk) AND NOT EXISTS (SELECT 1 "
        "FROM changes c WHERE c.new_snapshot_id = s.id)",
        "run in an unknown state": "SELECT id FROM crawl_runs WHERE status NOT IN "
        "('running', 'done', 'killed', 'failed')",
        "fetch of a run that does not exist": "SELECT f.id FROM fetches f LEFT JOIN crawl_runs r "
        "ON r.id = f.run_id WHERE r.id IS NULL",
    }
    for what, sql in orphans.items():
        assert rows(db, sql) == [], f"{what} ({note})"


def versions_stored(db: Path) -> dict[int, list[int]]:
    """Each page's snapshot versions, oldest first, read back from the stored texts."""
    out: dict[int, list[int]] = {}
    sql = (
        "SELECT b.codec, b.data FROM snapshots s JOIN blobs b ON b.sha256 = s.text_sha "
        "ORDER BY s.id"
    )
    for codec, data in rows(db, sql):
        assert isinstance(codec, str) and isinstance(data, bytes)
        match = VERSION.search(blobs.decompress(codec, data).decode())
        assert match is not None
        out.setdefault(int(match.group(2)), []).append(int(match.group(1)))
    return out


class Crawls:
    """Start crawls of one catalog, kill them, or let them finish."""

    def __init__(self, db: Path, catalog: Path, tmp: Path) -> None:
        self.argv = [CITEWATCH, "--db", f"sqlite:///{db}", "crawl", str(catalog), "--json"]
        for setting in SETTINGS:
            self.argv += ["-s", setting]
        # A parent killed before its child starts (or with it) leaves its small temporary
        # fetch folder behind: keep those in the test's folder.
        self.env = {**os.environ, "TMPDIR": str(tmp)}
        self.orphans: list[int] = []  # Scrapy children whose parent we killed

    def start(self) -> subprocess.Popen[str]:
        """A crawl in its own session, so killing it reaches nothing else."""
        return subprocess.Popen(
            self.argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=self.env,
            start_new_session=True,
        )

    def complete(self) -> dict[str, object]:
        """A crawl that must run to the end: its JSON report."""
        proc = self.start()
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        report: dict[str, object] = json.loads(out)
        return report

    def kill(self, proc: subprocess.Popen[str], rng: random.Random) -> str:
        """SIGKILL the parent, its Scrapy child, or both; returns which (or 'finished')."""
        target = rng.choice(["parent", "child", "both"])
        kids = children(proc.pid)
        # The child lives only mid-crawl: a kill aimed at it waits (briefly) for it to exist.
        deadline = time.monotonic() + CHILD_WAIT
        while target != "parent" and not kids and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.02)
            kids = children(proc.pid)
        if proc.poll() is not None:
            return "finished"
        if not kids:
            target = "parent"
        if target in ("child", "both"):
            for kid in kids:
                kill_group(kid)
        if target in ("parent", "both"):
            proc.kill()
        proc.communicate(timeout=120)  # a child-only kill: the parent records and ends
        if target == "parent":
            self.orphans += kids  # they must notice and exit by themselves
        return target

    def orphans_left(self, wait: float) -> list[int]:
        """Orphaned children still running after `wait` seconds (then killed)."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(alive(pid) for pid in self.orphans):
            time.sleep(0.1)
        left = [pid for pid in self.orphans if alive(pid)]
        for pid in left:
            kill_group(pid)
        return left


def complete_and_check(crawls: Crawls, db: Path, versions: dict[int, int], note: str) -> list[int]:
    """A crawl after kills: it finishes, sees exactly the pages whose version moved on since
    their last stored snapshot as changed, and leaves no run "running"; its change ids."""
    before = {k: history[-1] for k, history in versions_stored(db).items()}
    sources = crawls.complete()["sources"]
    assert isinstance(sources, list)
    outcomes = {int(s["source"][1:]): s["outcome"] for s in sources}
    expected = {k: "unchanged" if before[k] == v else "changed" for k, v in versions.items()}
    assert outcomes == expected, note
    assert not rows(db, "SELECT id FROM crawl_runs WHERE status = 'running'"), note
    check_consistent(db, note)
    return [s["change"] for s in sources if s["change"] is not None]


@pytest.fixture
def served(http_server: LocalServer) -> Iterator[tuple[LocalServer, dict[int, int]]]:
    """The server with every page at version 1, and the versions being served."""
    versions = dict.fromkeys(range(PAGES), 1)
    for k in range(PAGES):
        http_server.route(f"/p{k}", page(k, 1))
    yield http_server, versions


def kill_seed() -> int:
    """The seed of this run: CITEWATCH_KILL_SEED when set (to replay a failure), else random."""
    fixed = os.environ.get("CITEWATCH_KILL_SEED", "").strip()
    return int(fixed) if fixed else random.randrange(1 << 30)


def test_sigkill_at_random_points_never_breaks_the_database(
    served: tuple[LocalServer, dict[int, int]], tmp_path: Path
) -> None:
    server, versions = served
    seed = kill_seed()
    rng = random.Random(seed)
    db = tmp_path / "cw.db"
    (tmp_path / "tmp").mkdir()
    crawls = Crawls(db, write_catalog(tmp_path / "cat", server), tmp_path / "tmp")
    started = time.monotonic()
    crawls.complete()
    full = time.monotonic() - started  # how long a whole crawl takes on this machine
    kills: list[str] = []
    reported: list[int] = []
    for _ in range(3 * MIN_KILLS):  # bounded even if every crawl outran its kill
        if len(kills) >= MIN_KILLS:
            break
        for k in range(PAGES):
            if rng.random() < 0.5:
                versions[k] += 1
                server.route(f"/p{k}", page(k, versions[k]))
        proc = crawls.start()
        time.sleep(rng.uniform(0, KILL_SPAN * full))
        what = crawls.kill(proc, rng)
        note = f"seed {seed}, kill {len(kills) + 1} ({what})"
        check_consistent(db, note)
        if what != "finished":
            kills.append(what)
        if len(kills) % COMPLETE_EVERY == 0 and what != "finished":
            reported += complete_and_check(crawls, db, versions, note)
    took = time.monotonic() - started
    assert len(kills) >= MIN_KILLS, f"seed {seed}: only {len(kills)} kills landed"

    reported += complete_and_check(crawls, db, versions, f"seed {seed}, final crawl")
    stored = versions_stored(db)
    for k in range(PAGES):
        history = stored[k]
        assert history == sorted(set(history)), f"seed {seed}: page {k} went back: {history}"
        assert history[-1] == versions[k], f"seed {seed}: page {k} missed its last version"
    changes = rows(db, "SELECT count(*) FROM changes")[0][0]
    assert changes == sum(len(h) - 1 for h in stored.values())  # one per step, none twice
    assert len(reported) == len(set(reported))
    assert crawls.orphans_left(wait=5.0) == [], f"seed {seed}: orphaned Scrapy children run on"
    statuses = dict(rows(db, "SELECT status, count(*) FROM crawl_runs GROUP BY status"))
    assert set(statuses) <= {"done", "killed"} and statuses.get("killed", 0) >= 1
    assert statuses["killed"] <= sum(k != "child" for k in kills)  # only dead parents
    print(
        f"kill test: seed {seed}, {len(kills)} kills "
        f"({', '.join(f'{k}={kills.count(k)}' for k in ('parent', 'child', 'both'))}), "
        f"loop {took:.1f} s, whole crawl {full:.1f} s, {changes} changes, "
        f"{statuses.get('killed', 0)} runs marked killed"
    )
