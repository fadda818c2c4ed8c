"""`citewatch worker`: crawl workers on several machines sharing one PostgreSQL, on procrastinate.

Two tasks. `decide` is a procrastinate periodic task (one job per cron tick across all
workers: procrastinate deduplicates periodic defers in the database): it retries the jobs of
workers that stopped beating (killed), then takes the same due decision as `citewatch run`
and defers one `crawl_host` job per host, whose procrastinate `lock` is the host (one worker
per host at a time, across machines) and whose `queueing_lock` is the host too (a host is
never queued twice). `crawl_host` decides again under its lock which of its sources are
still due, and crawls them exactly as `run` does: a `citewatch crawl --source-file --json`
child under the same hard limit (crawler/run/supervisor.py), which streams each page into
the store as it lands, so a worker killed mid-job loses none of the pages already recorded.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from procrastinate import App, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Status
from procrastinate.schema import SchemaManager

from crawler.catalog.model import Catalog
from crawler.catalog.selection import write_selection
from crawler.catalog.watch import CatalogWatch
from crawler.environment import NOTIFY
from crawler.run.crawl_report import one_line, outcome_lines, run_report, summary
from crawler.run.limits import host_page_s, pages_per_host
from crawler.run.schedule import Policy, SourceTiming, due_now, timings
from crawler.run.scheduler import crawl_argv
from crawler.run.supervisor import child_env, run_child
from crawler.run.workers_plan import HostBatch, host_batches, still_due, tick_cron
from storage import Store
from storage.scheduling import record_killed
from storage.scheduling import source_schedules as load_schedules
from storage.store import now

log = logging.getLogger("citewatch.worker")

QUEUE = "citewatch"  # our jobs' procrastinate queue (a database may hold other apps' queues)
CRAWL_TASK = "citewatch.crawl_host"
DECIDE_TASK = "citewatch.decide"
# The decider goes before crawls when a worker frees up: it is quick, and it is what retries
# a killed worker's job.
DECIDE_PRIORITY = 10
# An exception in our own code (the database gone for a moment) retries the job twice, a
# minute apart; a crawl that fails or is killed is recorded as data, not retried here.
CRAWL_ATTEMPTS = 3
RETRY_WAIT_S = 60
# procrastinate's default: a worker silent for 30 s is stalled and its jobs are retried. It
# beats every third of that, so two lost beats in a row are not a death.
DEFAULT_STALLED_S = 30.0
HEARTBEAT_SHARE = 1 / 3
# Key of the advisory lock under which one worker applies procrastinate's schema (distinct
# from storage's migration lock 7236410771 and the scheduler's 7236410772).
SCHEMA_LOCK_KEY = 7236410773
NEEDS_POSTGRES = "workers need PostgreSQL; use citewatch run"


class WorkersError(Exception):
    """The workers cannot start (not PostgreSQL, a bad option)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerOptions:
    """What `citewatch worker` was asked to do."""

    db: str
    catalog: str
    policy: Policy
    tick_s: int  # how often the decider looks for due sources (a cron: see workers_plan)
    crawl_timeout_s: float  # hard limit of one crawl child, and its time budget
    settings: tuple[str, ...] = ()  # KEY=VALUE Scrapy settings for each crawl
    concurrency: int = 1  # jobs (crawl children) this worker runs at once
    stalled_s: float = DEFAULT_STALLED_S  # a worker silent this long is dead: retry its jobs


def conninfo(db: str) -> str:
    """The libpq URL procrastinate connects with; WorkersError on anything but PostgreSQL."""
    url = sa.make_url(db)
    if url.get_backend_name() != "postgresql":
        raise WorkersError(NEEDS_POSTGRES)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Workers:
    """One worker process: its procrastinate app, the decider and the host crawl task."""

    def __init__(self, options: WorkerOptions, store: Store, watch: CatalogWatch) -> None:
        self.options = options
        self.store = store
        self.watch = watch
        self._catalog_lock = threading.Lock()  # jobs run in threads; the watch is not shared
        self.settings = dict(item.split("=", 1) for item in options.settings)
        self.app = App(connector=PsycopgConnector(conninfo=conninfo(options.db)))
        retry = RetryStrategy(max_attempts=CRAWL_ATTEMPTS, wait=RETRY_WAIT_S)
        self.crawl_task = self.app.task(name=CRAWL_TASK, queue=QUEUE, retry=retry)(self.crawl_host)
        decide = self.app.task(
            name=DECIDE_TASK, queue=QUEUE, priority=DECIDE_PRIORITY, queueing_lock=DECIDE_TASK
        )(self.decide)
        self.app.periodic(cron=tick_cron(options.tick_s), periodic_id="due")(decide)

    def per_host(self) -> int:
        """Pages of one host in one job: what fits in one crawl's budget (as for `run`)."""
        return pages_per_host(self.options.crawl_timeout_s, self.settings)

    def _due(self) -> tuple[Catalog, str, tuple[SourceTiming, ...]]:
        with self._catalog_lock:
            catalog = self.watch.refresh()
            crawl_path = self.watch.crawl_path
        due = due_now(timings(catalog, load_schedules(self.store)), self.options.policy, now())
        return catalog, crawl_path, due

    def plan(self) -> tuple[HostBatch, ...]:
        """The due sources, one batch per host (the decider's work, off the event loop)."""
        return host_batches(self._due()[2], self.per_host())

    async def decide(self, timestamp: int) -> str:
        """Retry dead workers' jobs, then queue one job per host with due sources."""
        retried = await self._retry_stalled()
        busy = {
            job.lock
            for job in await self.app.job_manager.list_jobs_async(
                queue=QUEUE, task=CRAWL_TASK, status=Status.DOING.value
            )
        }
        queued = 0
        for b in await asyncio.to_thread(self.plan):
            if b.lock in busy:  # decided again when its running job is done
                continue
            job = self.crawl_task.configure(lock=b.lock, queueing_lock=b.lock)
            try:
                await job.defer_async(host=b.host, sources=list(b.sources))
            except AlreadyEnqueued:  # queued by an earlier tick, not started yet
                continue
            queued += 1
        if queued or retried:
            log.info("decided at %d: %d host jobs queued, %d retried", timestamp, queued, retried)
        return f"{queued} queued, {retried} retried"

    async def _retry_stalled(self) -> int:
        """Put the running jobs of workers that stopped beating back in the queue."""
        manager = self.app.job_manager
        stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=self.options.stalled_s)
        retried = 0
        for job in stalled:
            try:
                await manager.retry_job(job)
                retried += 1
                log.warning("job %s (%s) of a dead worker retried", job.id, job.lock or "-")
            except Exception as exc:  # its host was queued again meanwhile: that job covers it
                await manager.finish_job(job, status=Status.FAILED, delete_job=False)
                log.warning("job %s of a dead worker closed (%s)", job.id, one_line(str(exc), 120))
        return retried

    def crawl_host(self, host: str, sources: list[str]) -> str:
        """Crawl the job's sources that are still due, in one `citewatch crawl` child."""
        catalog, crawl_path, due = self._due()
        chosen = still_due(due, host, sources, self.per_host())
        if not chosen:
            return "nothing due"
        budget = self.options.crawl_timeout_s
        started = now()
        with tempfile.TemporaryDirectory(prefix="citewatch-job-") as tmp:
            selection = write_selection(Path(tmp) / "selection.txt", chosen)
            argv = crawl_argv(self.options.db, crawl_path, selection, self.options.settings, budget)
            # No $CITEWATCH_NOTIFY: workers do not notify (README). Killed with us: a dead
            # worker's job is retried elsewhere, and its crawl must not go on beside that one.
            done = run_child(
                argv, budget, env=child_env(without={NOTIFY}), die_with_parent=True
            )  # fmt: skip
        report = None if done.killed else run_report(done.stdout)
        if report is None:
            why = (
                f"crawl killed at the {budget:g} s hard limit"
                if done.killed
                else f"crawl child failed (exit {done.returncode}): {one_line(done.stderr)}"
            )
            wanted = frozenset(chosen)
            keys = [
                (t.id, s.id, s.url)
                for t in catalog.tools
                for s in t.sources
                if f"{t.id}/{s.id}" in wanted
            ]
            kind = "crawl-killed" if done.killed else "crawl-failed"
            failed = record_killed(
                self.store, crawl_path, keys, started, why, kind, close_runs=False
            )
            line = (
                f"host {host}: crawl of {len(chosen)} sources: {why}; {failed} recorded as failed"
            )
            log.error("%s", line)
        else:
            line = f"host {host}: crawl of {len(chosen)} sources: {summary(report, done)}"
            log.info("%s", line)
            for outcome in outcome_lines(report):
                log.info("%s", outcome)
        # Politeness across jobs: the next job of this host (maybe on another machine) starts
        # only when we let go of the lock, one pace after our last request at the earliest.
        time.sleep(host_page_s(self.settings))
        return line


def apply_schema(db: str) -> bool:
    """Create procrastinate's tables in the database unless there; whether they were created.

    Under an advisory lock, so workers started together on several machines apply it once.
    """
    engine = sa.create_engine(db, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK_KEY})
            there = conn.execute(sa.text("SELECT to_regclass('procrastinate_jobs')")).scalar()
            if there is None:  # psycopg itself: the schema's `%` are no placeholders
                conn.connection.driver_connection.execute(SchemaManager.get_schema())  # type: ignore[union-attr]
            return there is None
    finally:
        engine.dispose()


async def _work(workers: Workers, name: str) -> None:
    """procrastinate's worker loop, with a thread for each job it may run at once."""
    options = workers.options
    # Sync jobs run in the event loop's default executor, whose size (cores + 4) would cap
    # --concurrency silently; +1 for the decider's due decision (asyncio.to_thread).
    threads = ThreadPoolExecutor(options.concurrency + 1, thread_name_prefix="citewatch-job")
    asyncio.get_running_loop().set_default_executor(threads)
    async with workers.app.open_async():
        await workers.app.run_worker_async(
            queues=[QUEUE],
            name=name,
            concurrency=options.concurrency,
            update_heartbeat_interval=options.stalled_s * HEARTBEAT_SHARE,
            stalled_worker_timeout=options.stalled_s,
        )


def serve(options: WorkerOptions) -> None:
    """Run one worker until SIGTERM / Ctrl-C (its running crawls finish first)."""
    conninfo(options.db)  # not PostgreSQL: say so before touching anything
    store = Store.open(options.db)
    watch = CatalogWatch(options.catalog)
    try:
        if apply_schema(options.db):
            log.info("procrastinate's schema applied")
        workers = Workers(options, store, watch)
        name = f"citewatch@{socket.gethostname()}:{os.getpid()}"
        log.info("worker %s started (%d at once), catalog %s", name, options.concurrency,
                 options.catalog)  # fmt: skip
        asyncio.run(_work(workers, name))
        log.info("worker %s stopped", name)
    finally:
        watch.close()
        store.close()
