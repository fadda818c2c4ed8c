"""`citewatch run | status`: the unattended scheduler and what it is doing."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from crawler.catalog.model import parse_duration
from crawler.cli.support import cli_errors, open_store, settings_pairs
from crawler.run.limits import DEFAULT_BUDGET_S, crawl_limits, with_soft_stop


def _log_to_stderr(logger: logging.Logger) -> None:
    """The scheduler's own log lines (not Alembic's or APScheduler's chatter) to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


@click.command()
@click.argument("catalog", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--every", default="1d", show_default=True, help="Interval of sources without every:."
)
@click.option(
    "--tick", default=60.0, show_default=True, help="Seconds between looks for due sources."
)
@click.option(
    "--crawl-timeout",
    default=DEFAULT_BUDGET_S,
    show_default=True,
    help="Hard limit of one crawl (s), and its time budget.",
)
@click.option(
    "--backoff", default="5m", show_default=True, help="First retry delay after a failure."
)
@click.option("--once", is_flag=True, help="Crawl what is due now, then exit.")
@click.option("--max-cycles", type=int, default=None, help="Exit after this many cycles.")
@click.option(
    "-s", "settings", multiple=True, metavar="KEY=VALUE", help="Scrapy setting for every crawl."
)
@click.pass_context
def run(
    ctx: click.Context,
    catalog: str,
    every: str,
    tick: float,
    crawl_timeout: float,
    backoff: str,
    once: bool,
    max_cycles: int | None,
    settings: tuple[str, ...],
) -> None:
    """The unattended scheduler: crawl each source when due, until SIGTERM / Ctrl-C."""
    from crawler.run.lock import LockHeld
    from crawler.run.schedule import Policy
    from crawler.run.scheduler import RunOptions, serve

    _log_to_stderr(logging.getLogger("citewatch"))
    with cli_errors():
        pairs = settings_pairs(settings)
        # Each crawl child would refuse a soft stop past its fetch limit: refuse it once, here.
        with_soft_stop(pairs, crawl_limits(crawl_timeout).fetch_s)
        policy = Policy(parse_duration(every), backoff_base=parse_duration(backoff))
        options = RunOptions(
            db=ctx.obj["db"],
            catalog=str(Path(catalog).resolve()),
            policy=policy,
            tick_s=tick,
            crawl_timeout_s=crawl_timeout,
            settings=tuple(f"{k}={v}" for k, v in pairs.items()),
            once=once,
            max_cycles=max_cycles,
        )
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
    from crawler.run.status import render, status_report

    with cli_errors():
        report = status_report(open_store(ctx), catalog)
    click.echo(json.dumps(report.as_json()) if as_json else render(report))
