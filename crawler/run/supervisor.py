"""A crawl child process under a hard time limit: SIGTERM to it and its descendants, then SIGKILL.

`citewatch crawl` starts its own Scrapy grandchild in a session of its own, so signalling our
child's process group would miss it; the descendants are collected with psutil at kill time.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

# Seconds between SIGTERM and SIGKILL: Scrapy's graceful stop plus the crawl's own two-step
# stop of its grandchild take up to 3 + 5 s (crawler/fetch/parent.py), so 10 s lets them finish.
TERM_GRACE_S = 10.0
FIRST_TERM_SHARE = 0.3  # of the grace: Scrapy's graceful stop, before the forcing second SIGTERM
STDERR_TAIL = 2000  # characters of a failed child's stderr kept for the log
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class ChildExit:
    """How a child ended: its code, whether we killed it, its stdout and stderr's tail."""

    returncode: int
    killed: bool
    stdout: str
    stderr_tail: str
    seconds: float


def crawl_argv(
    db: str, catalog: str, selection: Sequence[str], settings: Sequence[str]
) -> list[str]:
    """The command line of one `citewatch crawl --json` child over TOOL/SOURCE selections."""
    argv = [sys.executable, "-m", "crawler.cli.main", "--db", db, "crawl", catalog, "--json"]
    for source in selection:
        argv += ["--source", source]
    for setting in settings:
        argv += ["-s", setting]
    return argv


def run_child(argv: Sequence[str], timeout: float, grace: float = TERM_GRACE_S) -> ChildExit:
    """Run argv to completion or kill it (and its descendants) after `timeout` seconds."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PROJECT_ROOT), env.get("PYTHONPATH")]))
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # Own session: Ctrl-C in the terminal reaches the scheduler only, which lets the
        # current crawl finish instead of having it interrupted with it.
        proc = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
            start_new_session=True,
        )  # fmt: skip
        killed = False
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            killed = True
            returncode = stop_tree(proc, grace)
        finally:
            if proc.poll() is None:  # interrupted ourselves: never leave a child behind
                stop_tree(proc, 0.0)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")[-STDERR_TAIL:]
    return ChildExit(returncode, killed, stdout, stderr, time.monotonic() - started)


def stop_tree(proc: subprocess.Popen[bytes], grace: float) -> int:
    """SIGTERM the child and its descendants twice, SIGKILL what survives; the child's code.

    The first SIGTERM asks Scrapy for a graceful stop, the second forces it (as crawler/fetch/parent.py
    does); `grace` is split between the two waits.
    """
    try:
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        tree = []
    alive = tree
    for share in (FIRST_TERM_SHARE, 1 - FIRST_TERM_SHARE):
        for member in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.terminate()
        # psutil reaps our own child here; the grandchildren are re-parented and reaped by init.
        _, alive = psutil.wait_procs(alive, timeout=grace * share)
    for member in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()
    psutil.wait_procs(alive, timeout=5.0)
    code = getattr(tree[0], "returncode", None) if tree else None  # set when psutil reaped it
    return proc.wait() if code is None else int(code)
