"""`citewatch run`: an APScheduler 3.11 process that crawls each source when it is due.

No Twisted here: every crawl is a `citewatch crawl --json` child under a hard time limit
(crawler/run/supervisor.py). Due times come from the database (crawler/run/schedule.py), so a
restart catches up once. SIGTERM / Ctrl-C stop after the current crawl; the exit is clean.
After each cycle that crawled, the reviewers' site is rebuilt (`--site`, when the crawl
recorded something) and the notifications are sent (`--notify`): by this process only, never
by the crawl children. Every changed source, flag and failed fetch is one log line.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler

from crawler.catalog.selection import write_selection
from crawler.catalog.watch import CatalogWatch
from crawler.environment import NOTIFY
from crawler.run.crawl_report import RECORDED_NEWS, one_line, outcome_lines, run_report, summary
from crawler.run.limits import pages_per_host, seconds_text
from crawler.run.lock import SchedulerLock, holder_text
from crawler.run.schedule import Policy, batch, due_now, next_wake, timings
from crawler.run.supervisor import child_env, python_module, run_child
from storage import Store
from storage.scheduling import Heartbeat, beat, read_heartbeat, record_killed, write_heartbeat
from storage.scheduling import source_schedules as load_schedules
from storage.store import now

if TYPE_CHECKING:
    from crawler.notify.settings import NotifySettings

log = logging.getLogger("citewatch.run")

# The heartbeat moves at least this often even when --tick is long or a crawl runs for an
# hour, so `status` can tell a busy scheduler from a dead one.
HEARTBEAT_S = 30
SELECTION_PREFIX = "citewatch-cycle-"  # the temporary folder of a cycle's selection file


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    """What `citewatch run` was asked to do."""

    db: str
    catalog: str
    policy: Policy
    tick_s: float  # how often to look for due sources
    crawl_timeout_s: float  # hard limit of one crawl child, and its time budget
    settings: tuple[str, ...] = ()  # KEY=VALUE Scrapy settings for each crawl
    once: bool = False  # one cycle, then exit
    max_cycles: int | None = None
    notify: NotifySettings | None = None  # notify after each cycle that crawled
    site: str | None = None  # rebuild this HTML site after each cycle that recorded something


class Scheduler:
    """One scheduler process: the cycle job, the heartbeat job and the clean stop."""

    def __init__(self, options: RunOptions, store: Store, watch: CatalogWatch) -> None:
        self.options = options
        self.store = store
        self.watch = watch
        self.stopping = threading.Event()
        self._cycle_lock = threading.Lock()
        self.cycles = 0

    def cycle(self) -> None:
        """Crawl every due source (in one child), then record the heartbeat."""
        with self._cycle_lock:
            if self.stopping.is_set():
                return
            try:
                self._crawl_due()
            except Exception as exc:  # a cycle's failure must not end the scheduler
                log.error("cycle failed; next cycle in %g s: %s", self.options.tick_s, _error(exc))
                log.debug("the cycle's traceback", exc_info=True)
            self.cycles += 1
            if self.options.max_cycles and self.cycles >= self.options.max_cycles:
                self.stopping.set()

    def _crawl_due(self) -> None:
        catalog = self.watch.refresh()
        due = due_now(timings(catalog, load_schedules(self.store)), self.options.policy, now())
        left = 0
        if due and not self.stopping.is_set():
            selection = batch(due, per_host=self._per_host())
            left = len(due) - len(selection)
            recorded = self._crawl(selection)
            self._publish(recorded)
        after = timings(catalog, load_schedules(self.store))
        wake = now() if left else next_wake(after, self.options.policy, now())
        beat(self.store, next_wake_at=wake, cycle_done=True)
        if left:
            log.info(
                "cycle done: %d due source%s left for the next cycle (at most %d pages of a host "
                "fit in one crawl)", left, "" if left == 1 else "s", self._per_host(),
            )  # fmt: skip
        elif due:
            log.info("cycle done: next source due %s", wake.isoformat() if wake else "now")

    def _per_host(self) -> int:
        """Pages of one host that fit in one crawl of this scheduler (crawler/run/limits.py)."""
        settings = dict(item.split("=", 1) for item in self.options.settings)
        return pages_per_host(self.options.crawl_timeout_s, settings)

    def _crawl(self, selection: tuple[str, ...]) -> bool:
        """Crawl the selection in a child; whether anything new was recorded."""
        started = now()
        with tempfile.TemporaryDirectory(prefix=SELECTION_PREFIX) as tmp:
            # In a file: 100,000 sources on the command line are past the kernel's ARG_MAX.
            chosen = write_selection(Path(tmp) / "selection.txt", selection)
            argv = crawl_argv(
                self.options.db, self.watch.crawl_path, chosen, self.options.settings,
                self.options.crawl_timeout_s,
            )  # fmt: skip
            # Without $CITEWATCH_NOTIFY: this process notifies after the cycle, the child must not.
            done = run_child(argv, self.options.crawl_timeout_s, env=child_env(without={NOTIFY}))
        report = None if done.killed else run_report(done.stdout)
        if report is None:
            # Whatever the child did not record counts as a failed fetch: the sources back off
            # instead of being retried every tick by a crawl that keeps dying.
            chosen_keys = frozenset(selection)
            keys = [
                (t.id, s.id, s.url)
                for t in self.watch.catalog.tools
                for s in t.sources
                if f"{t.id}/{s.id}" in chosen_keys
            ]
            why = (
                f"crawl killed at the {self.options.crawl_timeout_s:g} s hard limit"
                if done.killed
                else f"crawl child failed (exit {done.returncode}): {one_line(done.stderr)}"
            )
            kind = "crawl-killed" if done.killed else "crawl-failed"
            failed = record_killed(self.store, self.watch.crawl_path, keys, started, why, kind)
            log.error("crawl of %d sources: %s; %d recorded as failed", len(keys), why, failed)
            return failed > 0
        log.info("crawl of %d sources: %s", len(selection), summary(report, done))
        for line in outcome_lines(report):
            log.info("%s", line)
        return any(s["outcome"] in RECORDED_NEWS for s in report["sources"])

    def _publish(self, recorded: bool) -> None:
        """The site (when something was recorded), then the notifications, whose links it serves."""
        if recorded and self.options.site is not None:
            try:
                self._rebuild_site(Path(self.options.site))
            except Exception as exc:  # the next cycle tries again; the crawl is recorded
                log.error("site %s not rebuilt: %s", self.options.site, _error(exc))
                log.debug("the site's traceback", exc_info=True)
        if self.options.notify is not None:
            from crawler.notify.deliver import notify_pending

            try:
                done = notify_pending(self.store, self.watch.catalog, self.options.notify)
            except Exception as exc:  # pending deliveries stay in the outbox for the next cycle
                log.error("notification failed: %s", _error(exc))
                log.debug("the notification's traceback", exc_info=True)
                return
            for line in done.lines():
                log.info("%s", line)

    def _rebuild_site(self, site: Path) -> None:
        from crawler.report import write_reports  # Jinja2 loads only when a site is asked for

        # The HTML site only, and no digest marked as reported: `citewatch report` still tells
        # editors everything since the last report they made.
        write_reports(self.store, self.watch.crawl_path, site, ["html"], None, mark=False)
        log.info("site %s rebuilt", site)

    def heartbeat(self) -> None:
        """Move the heartbeat (a job of its own, so it beats during long crawls)."""
        try:
            beat(self.store)
        except Exception as exc:
            log.error("heartbeat failed: %s", _error(exc))
            log.debug("the heartbeat's traceback", exc_info=True)


def _error(exc: BaseException) -> str:
    """An exception as one line: its type and first line."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def crawl_argv(
    db: str, catalog: str, selection: Path, settings: Sequence[str], budget_s: float
) -> list[str]:
    """The command line of one `citewatch crawl --json` child over a selection file.

    Its length does not grow with the selection (`--source-file`). The child gets our hard
    limit as its time budget: it derives its own fetch and soft-stop limits inside it
    (crawler/run/limits.py), so it normally ends before we would kill it.
    """
    argv = python_module("crawler.cli", "--db", db, "crawl", catalog, "--json")
    argv += ["--timeout", seconds_text(budget_s), "--source-file", str(selection)]
    for setting in settings:
        argv += ["-s", setting]
    return argv


@contextmanager
def _stop_on_signals(stopping: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT ask for a clean stop instead of killing the process."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: stopping after the current crawl", signal.Signals(signum).name)
        stopping.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def serve(options: RunOptions) -> None:
    """Run the scheduler until stopped (or one cycle with --once); raises LockHeld."""
    # A cycle that outlasts its tick makes APScheduler warn on every skipped tick; coalescing
    # them is the design, so only its errors are worth a line.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    store = Store.open(options.db)
    lock = SchedulerLock(options.db)
    try:
        lock.acquire(_holder(store))
        watch = CatalogWatch(options.catalog)
        try:
            _run(Scheduler(options, store, watch))
        finally:
            watch.close()
            beat(store, stopped=True)
    finally:
        lock.release()
        store.close()


def _holder(store: Store) -> str | None:
    hb = read_heartbeat(store)
    if hb is None or hb.stopped_at is not None:
        return None
    return f"pid {hb.pid} on {hb.host}, heartbeat {hb.heartbeat_at.isoformat(timespec='seconds')}"


def _run(scheduler: Scheduler) -> None:
    options = scheduler.options
    beat_s = max(1, int(min(options.tick_s, HEARTBEAT_S)))
    started = now()
    write_heartbeat(
        scheduler.store,
        Heartbeat(
            pid=os.getpid(),
            host=socket.gethostname(),
            started_at=started,
            heartbeat_at=started,
            stopped_at=None,
            catalog=options.catalog,
            every_s=int(options.policy.every.total_seconds()),
            heartbeat_s=beat_s,
            next_wake_at=None,
            cycles=0,
            last_cycle_at=None,
        ),
    )
    log.info("scheduler started (%s), catalog %s", holder_text(), options.catalog)
    with _stop_on_signals(scheduler.stopping):
        if options.once:
            scheduler.cycle()
            return
        jobs = BackgroundScheduler(
            timezone="UTC",
            # One cycle at a time; a cycle that overran its tick is not run twice to catch up.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        jobs.add_job(
            scheduler.cycle, "interval", seconds=options.tick_s, next_run_time=started, id="cycle"
        )
        jobs.add_job(scheduler.heartbeat, "interval", seconds=beat_s, id="beat")
        jobs.start()
        # Poll instead of a bare wait(): the signal handler then runs promptly in this thread.
        while not scheduler.stopping.wait(0.5):
            pass
        jobs.shutdown(wait=True)  # lets the current crawl finish
    log.info("scheduler stopped after %d cycles", scheduler.cycles)
