"""Crawl runs tell the truth: a run whose process died is marked killed by the next one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage import Store
from storage.runs import is_dead, pid_alive, this_host

HOST = "box"

# (pid, host, alive pids, dead?)
CASES = [
    (100, HOST, set(), True),
    (100, HOST, {100}, False),
    (100, "other-box", set(), False),  # another machine's processes are not ours to judge
    (None, HOST, set(), False),  # a row from before runs recorded their owner
    (None, None, set(), False),
]


@pytest.mark.parametrize(("pid", "host", "alive", "dead"), CASES)
def test_is_dead(pid: int | None, host: str | None, alive: set[int], dead: bool) -> None:
    assert is_dead(pid, host, my_host=HOST, alive=alive.__contains__) is dead


def dead_pid() -> int:
    """The id of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(dead_pid())


def test_next_run_marks_dead_runs_killed(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    first = store.begin_run("catalog")  # alive: this process
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE crawl_runs SET pid = :pid"), {"pid": dead_pid()})
        conn.execute(
            sa.text(
                "INSERT INTO crawl_runs (started_at, catalog, status, pid, host) "
                "VALUES (CURRENT_TIMESTAMP, 'c', 'running', :pid, 'elsewhere')"
            ),
            {"pid": dead_pid()},
        )
    second = store.begin_run("catalog")
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, status, host FROM crawl_runs ORDER BY id")).all()
    assert [(r.id, r.status) for r in rows] == [
        (first, "killed"),
        (first + 1, "running"),  # another host's run is left alone
        (second, "running"),  # this process is alive
    ]
    assert rows[0].host == this_host()
    store.end_run(second, "done")
    store.begin_run("catalog")
    with store.engine.connect() as conn:
        status = conn.execute(sa.text("SELECT status FROM crawl_runs WHERE id = :i"), {"i": second})
        assert status.scalar() == "done"  # a finished run stays finished
