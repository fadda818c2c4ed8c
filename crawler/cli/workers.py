"""`citewatch worker`: one crawl worker of several, on PostgreSQL through procrastinate."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crawler.cli.options import (
    Duration,
    budget_option,
    check_settings,
    settings_option,
)
from crawler.cli.support import cli_errors, settings_pairs
from crawler.run.limits import crawl_limits, with_soft_stop
from crawler.run.workers_plan import PlanError, tick_cron

# Crawl children one worker runs at once: each is a `citewatch crawl` and its Scrapy child,
# up to ~150 MB together (bench/soak.py: 152.7 MB); 16 of them fill 2.4 GB. More hosts at
# once come from more workers (machines), which is what the workers are for.
MAX_CONCURRENCY = 16
# A worker silent this long counts as dead and its jobs are retried: at least 3 s (it beats
# every third of it, and one beat is a database round trip), at most an hour.
MIN_STALLED_S, MAX_STALLED_S = 3.0, 3600.0

if TYPE_CHECKING:  # click's ParamType is generic in its type stubs only
    _ParamType = click.ParamType[Any, Any]
else:
    _ParamType = click.ParamType


class Tick(_ParamType):
    """Seconds between two looks of the decider, a value a cron can express."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The value as int seconds, or a usage error naming the option."""
        try:
            seconds = int(str(value))
            tick_cron(seconds)
        except ValueError as exc:
            self.fail(str(exc) if isinstance(exc, PlanError) else f"{value!r} is not whole seconds",
                      param, ctx)  # fmt: skip
        return seconds


@click.command()
@click.argument("catalog", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=click.IntRange(1, MAX_CONCURRENCY),
    help="Host jobs this worker runs at once.",
)
@click.option(
    "--tick",
    default=60,
    show_default=True,
    type=Tick(),
    help="Seconds between looks for due sources (cuts a minute or an hour evenly).",
)
@click.option(
    "--every",
    default="1d",
    show_default=True,
    type=Duration(),
    help="Interval of sources without every:.",
)
@click.option(
    "--backoff",
    default="5m",
    show_default=True,
    type=Duration(),
    help="First retry delay after a failure.",
)
@budget_option("--crawl-timeout", "Hard limit of one host job's crawl (s).")
@click.option(
    "--stalled-after",
    default=30.0,
    show_default=True,
    type=click.FloatRange(MIN_STALLED_S, MAX_STALLED_S),
    help="Seconds without a heartbeat after which a worker's jobs are retried.",
)
@settings_option("Scrapy setting for every crawl.")
@click.pass_context
def worker(
    ctx: click.Context,
    catalog: str,
    concurrency: int,
    tick: int,
    every: timedelta,
    backoff: timedelta,
    crawl_timeout: float,
    stalled_after: float,
    settings: tuple[str, ...],
) -> None:
    """A crawl worker on PostgreSQL (procrastinate): run one per machine, until SIGTERM."""
    from procrastinate.exceptions import ProcrastinateException

    from crawler.run.schedule import Policy
    from crawler.run.workers import WorkerOptions, WorkersError, serve

    with cli_errors():
        pairs = settings_pairs(settings)
        check_settings(pairs)
        with_soft_stop(pairs, crawl_limits(crawl_timeout).fetch_s)
        options = WorkerOptions(
            db=ctx.obj["db"],
            catalog=str(Path(catalog).resolve()),
            policy=Policy(every, backoff_base=backoff),
            tick_s=tick,
            crawl_timeout_s=crawl_timeout,
            settings=tuple(f"{k}={v}" for k, v in pairs.items()),
            concurrency=concurrency,
            stalled_s=stalled_after,
        )
        _log_to_stderr(ctx.obj.get("debug", False))
        try:
            serve(options)
        except (WorkersError, ProcrastinateException) as exc:
            raise click.ClickException(" ".join(str(exc).split()) or type(exc).__name__) from exc


def _log_to_stderr(debug: bool) -> None:
    """The worker's own log lines to stderr (procrastinate's only from warnings up)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    for name, level in (("citewatch", logging.DEBUG if debug else logging.INFO),
                        ("procrastinate", logging.WARNING)):  # fmt: skip
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(level)
