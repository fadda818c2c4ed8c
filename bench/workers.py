"""Workers benchmark (not a test): pages/s with 1, 2, 3 `citewatch worker` processes.

    .venv/bin/python bench/workers.py [--hosts 6] [--pages 4] [--reply 0.2] [--workers 1,2,3]
        [--db postgresql+psycopg://…]

The same local pages (`--hosts` loopback addresses 127.0.0.20, .21, …, `--pages` pages each,
each answered after `--reply` s; DOWNLOAD_DELAY 0.5 s) are crawled from scratch by 1, then 2,
then 3 workers (`--tick 1`), each on a fresh PostgreSQL database, in the same run. Without
`--db` a throw-away cluster is started with the Debian package's initdb (as the tests do).
Printed per worker count: wall time from the workers' start to the last page recorded,
pages/s, and the ratio to one worker.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the tests' scripted server, one implementation
from conftest import LocalServer, Reply  # type: ignore[import-not-found]  # noqa: E402

CITEWATCH = shutil.which("citewatch") or str(ROOT / ".venv/bin/citewatch")
SETTINGS = ["DOWNLOAD_DELAY=0.5", "RANDOMIZE_DOWNLOAD_DELAY=False", "AUTOTHROTTLE_ENABLED=False"]
HTML = {"Content-Type": "text/html; charset=utf-8"}
TIMEOUT_S = 900.0  # one worker count's crawl; far above what the defaults take (~1 min)


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def cluster() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on 127.0.0.1; its server URL (database postgres)."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        sys.exit("no PostgreSQL installed (apt-get install postgresql), or pass --db")
    bindir = Path(bins[-1])
    data = Path(tempfile.mkdtemp(prefix="citewatch-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    initdb = [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "citewatch"]
    subprocess.run(_as_postgres(initdb), check=True, capture_output=True)
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c max_connections=200"
    ctl = [str(bindir / "pg_ctl"), "-D", str(data)]
    start = [*ctl, "-o", opts, "-w", "start", "-l", str(data / "log")]
    subprocess.run(_as_postgres(start), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://citewatch@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([*ctl, "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def fresh_database(server: str, name: str) -> str:
    """A new empty database on the server; its URL."""
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return sa.make_url(server).set(database=name).render_as_string(hide_password=False)


def recorded(db: str) -> int:
    """Fetches recorded so far (0 before the first worker created the tables)."""
    engine = sa.create_engine(db, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM fetches")).scalar_one())
    except sa.exc.ProgrammingError:
        return 0
    finally:
        engine.dispose()


def catalog(folder: Path, servers: list[LocalServer], pages: int) -> Path:
    """One tool per host, `pages` sources each."""
    (folder / "tools").mkdir(parents=True, exist_ok=True)
    for i, server in enumerate(servers):
        lines = [f"id: site{i}", f"name: Site {i}", "sources:"]
        lines += [f"  - id: p{n}\n    url: {server.url(f'/p{n}')}" for n in range(pages)]
        (folder / "tools" / f"site{i}.yaml").write_text("\n".join(lines) + "\n")
    return folder


def crawl_with(db: str, cat: Path, workers: int, total: int, logs: Path) -> float:
    """Seconds from starting `workers` workers until `total` pages are recorded."""
    procs = []
    started = time.monotonic()
    for i in range(workers):
        log = (logs / f"w{workers}-{i}.log").open("wb")
        argv = [CITEWATCH, "--db", db, "worker", str(cat), "--tick", "1"]
        for setting in SETTINGS:
            argv += ["-s", setting]
        procs.append(subprocess.Popen(argv, stdout=log, stderr=log))
    try:
        while recorded(db) < total:
            if time.monotonic() - started > TIMEOUT_S:
                sys.exit(f"{workers} workers: timed out; logs in {logs}")
            time.sleep(0.1)
        return time.monotonic() - started
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait()


def main() -> None:
    """Parse the options, crawl with each worker count, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=6)
    parser.add_argument("--pages", type=int, default=4)
    parser.add_argument("--reply", type=float, default=0.2)
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--db", default=None, help="a PostgreSQL server URL (its databases)")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    total = args.hosts * args.pages
    os.environ["CITEWATCH_ALLOW_PRIVATE"] = "127.0.0.0/8"  # the bench's own loopback pages
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        server = args.db or stack.enter_context(cluster())
        servers = [stack.enter_context(LocalServer(f"127.0.0.{20 + i}")) for i in range(args.hosts)]
        for s in servers:
            for n in range(args.pages):
                body = f"<html><body><main><p>{s.host} page {n}</p></main></body></html>"
                s.route(f"/p{n}", Reply(200, body.encode(), HTML, delay=args.reply))
        cat = catalog(Path(tmp) / "catalog", servers, args.pages)
        rows = []
        for n in counts:
            db = fresh_database(server, f"bench_workers_{n}")
            rows.append((n, crawl_with(db, cat, n, total, Path(tmp))))
    one = rows[0][1]
    print(f"{total} pages on {args.hosts} hosts, reply {args.reply} s, DOWNLOAD_DELAY 0.5 s")
    print("| workers | wall (s) | pages/s | vs first |")
    print("|---:|---:|---:|---:|")
    for n, wall in rows:
        print(f"| {n} | {wall:.1f} | {total / wall:.2f} | {one / wall:.2f}× |")


if __name__ == "__main__":
    main()
