"""Crawl runs: who owns a "running" row, and telling the truth about runs that were killed.

A SIGKILLed crawl cannot write its own end, so its row would say "running" forever. Each run
records its host and process id; the next run on the same host marks the rows whose process
is gone as `killed`. Rows of other hosts are left alone: we cannot see their processes.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.models import CrawlRun

KILLED = "killed"


def this_host() -> str:
    """The name runs are recorded under."""
    return socket.gethostname()[:255]


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (signal 0 probes, sends nothing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def is_dead(
    pid: int | None, host: str | None, *, my_host: str, alive: Callable[[int], bool]
) -> bool:
    """Whether a "running" row's process is certainly gone (never guesses about other hosts).

    A live process that reused a dead run's pid keeps the row "running" until a later run
    sees that pid gone too: late, never wrong (a process may run several crawls at once).
    """
    if pid is None or host != my_host:
        return False
    return not alive(pid)


def mark_killed(s: Session, at: datetime, alive: Callable[[int], bool] = pid_alive) -> list[int]:
    """Mark the "running" rows of dead processes on this host as killed; returns their ids."""
    host = this_host()
    rows = s.scalars(sa.select(CrawlRun).filter_by(status="running", host=host)).all()
    dead = [r for r in rows if is_dead(r.pid, r.host, my_host=host, alive=alive)]
    for row in dead:
        row.status, row.finished_at = KILLED, at
    return [r.id for r in dead]
