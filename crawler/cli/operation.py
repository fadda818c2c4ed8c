"""`citewatch run | status`: the unattended scheduler and what it is doing."""

from __future__ import annotations

import json
import logging
import sys
from datetime import timedelta
from pathlib import Path

import click

from crawler.cli.delivery import notify_settings_from
from crawler.cli.options import (
    MAX_TICK_S,
    Duration,
    Seconds,
    budget_option,
    check_settings,
    settings_option,
)
from crawler.cli.support import cli_errors, environment, open_store, settings_pairs
from crawler.run.limits import crawl_limits, with_soft_stop


def _log_to_stderr(logger: logging.Logger, debug: bool) -> None:
    """The scheduler's own log lines (not Alembic's or APScheduler's chatter) to stderr;
    with --debug, the tracebacks of the errors it logs in one line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.INFO)


@click.command()
@click.argument("catalog", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--every",
    default="1d",
    show_default=True,
    type=Duration(),
    help="Interval of sources without every:.",
)
@click.option(
    "--tick",
    default=60.0,
    show_default=True,
    type=Seconds(MAX_TICK_S),
    help="Seconds between looks for due sources.",
)
@budget_option("--crawl-timeout", "Hard limit of one crawl (s), and its time budget.")
@click.option(
    "--backoff",
    default="5m",
    show_default=True,
    type=Duration(),
    help="First retry delay after a failure.",
)
@click.option("--once", is_flag=True, help="Crawl what is due now, then exit.")
@click.option(
    "--max-cycles", type=click.IntRange(min=1), default=None, help="Exit after this many cycles."
)
@settings_option("Scrapy setting for every crawl.")
@click.option(
    "--notify",
    "notify_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="Notification settings (TOML; default $CITEWATCH_NOTIFY): sent after each cycle.",
)
@click.option(
    "--site",
    default=None,
    type=click.Path(file_okay=False),
    help="Rebuild the HTML site in this folder after each cycle that recorded something.",
)
@click.pass_context
def run(
    ctx: click.Context,
    catalog: str,
    every: timedelta,
    tick: float,
    crawl_timeout: float,
    backoff: timedelta,
    once: bool,
    max_cycles: int | None,
    settings: tuple[str, ...],
    notify_file: str | None,
    site: str | None,
) -> None:
    """The unattended scheduler: crawl each source when due, until SIGTERM / Ctrl-C."""
    from crawler.run.lock import LockHeld
    from crawler.run.schedule import Policy
    from crawler.run.scheduler import RunOptions, serve

    notify_file = notify_file or environment(ctx).notify_file
    with cli_errors():
        pairs = settings_pairs(settings)
        check_settings(pairs)
        # Each crawl child would refuse a soft stop past its fetch limit: refuse it once, here.
        with_soft_stop(pairs, crawl_limits(crawl_timeout).fetch_s)
        policy = Policy(every, backoff_base=backoff)
        notify_settings = notify_settings_from(ctx, notify_file) if notify_file else None
        if site is not None:
            Path(site).mkdir(parents=True, exist_ok=True)  # a folder we cannot make: say it now
        options = RunOptions(
            db=ctx.obj["db"],
            catalog=str(Path(catalog).resolve()),
            policy=policy,
            tick_s=tick,
            crawl_timeout_s=crawl_timeout,
            settings=tuple(f"{k}={v}" for k, v in pairs.items()),
            once=once,
            max_cycles=max_cycles,
            notify=notify_settings,
            site=str(Path(site).resolve()) if site is not None else None,
        )
        _log_to_stderr(logging.getLogger("citewatch"), ctx.obj.get("debug", False))
        try:
            serve(options)
        except LockHeld as exc:
            raise click.ClickException(str(exc)) from exc


@click.command()
@click.option("--catalog", default=None, type=click.Path(exists=True, file_okay=False),
              help="Default: the running scheduler's catalog.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def status(ctx: click.Context, catalog: str | None, as_json: bool) -> None:
    """Each source's last fetch, outcome, next due time and breakage; the scheduler's heartbeat."""
    from crawler.catalog.cache import CatalogCache
    from crawler.run.status import render, status_report

    cache_dir = environment(ctx).cache_dir  # status only reads the catalog: the cache is safe
    cache = CatalogCache(Path(cache_dir)) if cache_dir else None
    with cli_errors():
        report = status_report(open_store(ctx), catalog, cache)
    click.echo(json.dumps(report.as_json()) if as_json else render(report))
