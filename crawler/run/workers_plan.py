"""What `citewatch worker` queues: the due sources as one job per host, and the decider's cron.

Pure: the same due decision as `citewatch run` (crawler/run/schedule.py), cut per host so
that procrastinate's job lock on the host keeps one worker per host across machines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crawler.run.schedule import SourceTiming, batch, host_of

# The lock name of a host's jobs (procrastinate `lock` and `queueing_lock`). A prefix keeps
# them apart from any other application's locks in the same database.
LOCK_PREFIX = "citewatch-host:"
NO_HOST = "(no host)"  # sources whose URL has none: they fail at once, in one job
# The decider runs on a cron (procrastinate periodic tasks, deduplicated across workers by
# their cron time), so --tick must cut a minute or an hour evenly: these are the values that do.
_EVEN = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)
TICKS_S = (*_EVEN, *(60 * m for m in (*_EVEN, 60)))


class PlanError(ValueError):
    """A worker option the plan cannot use (a tick no cron can express)."""


@dataclass(frozen=True, slots=True)
class HostBatch:
    """The due sources of one host, as one job: TOOL/SOURCE names in catalog order."""

    host: str
    sources: tuple[str, ...]

    @property
    def lock(self) -> str:
        """The procrastinate lock (and queueing lock) of this host's jobs."""
        return host_lock(self.host)


def host_lock(host: str) -> str:
    """The lock name of a host's jobs."""
    return LOCK_PREFIX + host


def host_batches(due: Sequence[SourceTiming], per_host: int) -> tuple[HostBatch, ...]:
    """The due sources cut per host, each host capped at ``per_host`` pages (as `run` does).

    The cap is `batch`'s (the longest unfetched first); the rest stay due for a later job.
    """
    chosen = frozenset(batch(due, per_host=per_host))
    by_host: dict[str, list[str]] = {}
    for t in due:
        key = f"{t.tool}/{t.source}"
        if key in chosen:
            by_host.setdefault(_host(t), []).append(key)
    return tuple(HostBatch(host, tuple(keys)) for host, keys in by_host.items())


def _host(timing: SourceTiming) -> str:
    """The host a source's job is locked on (NO_HOST for a URL without one)."""
    return (host_of(timing.url) if timing.url else None) or NO_HOST


def still_due(
    due: Sequence[SourceTiming], host: str, sources: Sequence[str], per_host: int
) -> tuple[str, ...]:
    """Of a job's sources, those due now and still on its host: what the job crawls.

    Decided again when the job starts, under its host lock: a source another job fetched
    meanwhile (a retried job, a second decider) is not fetched twice, and one whose URL moved
    to another host waits for that host's job.
    """
    wanted = frozenset(sources)
    mine = [
        t
        for t in due
        if f"{t.tool}/{t.source}" in wanted
        and ((host_of(t.url) if t.url else None) or NO_HOST) == host
    ]
    return batch(mine, per_host=per_host)


def tick_cron(tick_s: int) -> str:
    """The cron of a decider every ``tick_s`` seconds (croniter: seconds are a 6th field)."""
    if tick_s not in TICKS_S:
        allowed = ", ".join(str(t) for t in TICKS_S)
        raise PlanError(f"--tick {tick_s}: must cut a minute or an hour evenly ({allowed} s)")
    if tick_s < 60:
        return f"* * * * * */{tick_s}"
    minutes = tick_s // 60
    return "0 * * * *" if minutes == 60 else f"*/{minutes} * * * *"
