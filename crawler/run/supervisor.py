"""The one process supervisor: start a child in a session of its own, wait for it under a hard
time limit, then SIGTERM it and its descendants twice and SIGKILL what survives.

Both children of citewatch go through here: the Scrapy fetch child of a crawl
(`crawler.fetch.parent`) and the `citewatch crawl --json` child of each scheduler cycle
(`crawler.run.scheduler`), which starts its own Scrapy grandchild in a session of its own:
signalling a process group would miss it, so the descendants are collected with psutil at
stop time.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

STDERR_TAIL = 2000  # characters of a failed child's stderr quoted in errors and logs
# How often `on_wait` runs while a child works: a progress display moves twice a second,
# and each call costs one listing of the child's out folder.
WAIT_POLL_S = 0.5
# So a child started from any working folder imports this checkout's packages.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class Grace:
    """Seconds a child gets after the first SIGTERM (a graceful stop) and after the second
    (Scrapy's forced stop) before SIGKILL."""

    first: float
    second: float


# Scrapy's graceful stop, then its forced stop (research §1.2: 3 s, then 5 s).
SCRAPY_GRACE = Grace(3.0, 5.0)
# A `citewatch crawl` child stops its own Scrapy grandchild in up to SCRAPY_GRACE (8 s):
# 3 + 7 s lets it finish and record what was fetched.
CRAWL_GRACE = Grace(3.0, 7.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildExit:
    """How a child ended: its code, whether we stopped it, its stdout, stderr and run time."""

    returncode: int
    killed: bool  # stopped by us at the hard time limit
    stdout: str
    stderr: str  # the whole of it, or its last STDERR_TAIL characters (see run_child)
    seconds: float


class SupervisorError(Exception):
    """The child could not be started."""


def child_env(without: Collection[str] = ()) -> dict[str, str]:
    """The environment of a child: ours minus `without`, with the checkout first on PYTHONPATH."""
    env = {name: value for name, value in os.environ.items() if name not in without}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return env


def python_module(module: str, *args: str) -> list[str]:
    """The command line that runs ``python -m module args…`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def run_child(
    argv: Sequence[str],
    timeout: float,
    *,
    grace: Grace = CRAWL_GRACE,
    merge_stdout: bool = False,
    stderr_tail: int | None = STDERR_TAIL,
    env: dict[str, str] | None = None,
    on_wait: Callable[[], bool | None] | None = None,
    die_with_parent: bool = False,
) -> ChildExit:
    """Run argv to completion, or stop it and its descendants after ``timeout`` seconds.

    ``merge_stdout`` sends the child's stdout to its stderr (a Scrapy child's log lines);
    ``stderr_tail`` keeps only the end of stderr (None keeps all of it); ``env`` replaces
    `child_env()`; ``on_wait`` is called every WAIT_POLL_S while the child runs (progress,
    results to take), and at once again when it returns True (it has more to do).
    ``die_with_parent`` has the kernel SIGKILL the child when we die (Linux): a `citewatch
    worker` killed mid-job must not leave its crawl running beside the job's retry.
    """
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # Own session: Ctrl-C in a terminal reaches us only, and we decide how the child stops.
        try:
            proc = subprocess.Popen(
                list(argv), stdin=subprocess.DEVNULL, stdout=err if merge_stdout else out,
                stderr=err, env=child_env() if env is None else env, start_new_session=True,
                preexec_fn=_kill_me_with_parent if die_with_parent else None,
            )  # fmt: skip
        except OSError as exc:
            raise SupervisorError(f"cannot start {argv[0]}: {exc}") from exc
        killed = False
        try:
            returncode = _wait(proc, started + timeout, on_wait)
        except subprocess.TimeoutExpired:
            killed = True
            returncode = stop_tree(proc, grace)
        finally:
            if proc.poll() is None:  # interrupted ourselves: never leave a child behind
                stop_tree(proc, Grace(0.0, 0.0))
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if stderr_tail is not None:
        stderr = stderr[-stderr_tail:]
    return ChildExit(
        returncode=returncode,
        killed=killed,
        stdout=stdout,
        stderr=stderr,
        seconds=time.monotonic() - started,
    )


def _kill_me_with_parent() -> None:
    """In the child before exec: PR_SET_PDEATHSIG, so our death SIGKILLs it."""
    pr_set_pdeathsig = 1  # <linux/prctl.h>
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)


def _wait(
    proc: subprocess.Popen[bytes], deadline: float, on_wait: Callable[[], bool | None] | None
) -> int:
    """The child's exit code, waiting until the deadline (TimeoutExpired past it)."""
    if on_wait is None:
        return proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    while True:
        busy = on_wait()
        left = deadline - time.monotonic()
        try:
            return proc.wait(timeout=max(0.0, min(0.0 if busy else WAIT_POLL_S, left)))
        except subprocess.TimeoutExpired:
            if time.monotonic() >= deadline:
                raise


def stop_tree(proc: subprocess.Popen[bytes], grace: Grace) -> int:
    """SIGTERM the child and its descendants twice, SIGKILL what survives; the child's code."""
    try:
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        tree = []
    alive = tree
    for wait in (grace.first, grace.second):
        for member in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.terminate()
        # psutil reaps our own child here; the grandchildren are re-parented and reaped by init.
        _, alive = psutil.wait_procs(alive, timeout=wait)
        if not alive:
            break
    for member in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()
    psutil.wait_procs(alive, timeout=5.0)
    code = getattr(tree[0], "returncode", None) if tree else None  # set when psutil reaped it
    return proc.wait() if code is None else int(code)
