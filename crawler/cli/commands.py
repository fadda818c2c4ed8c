"""The `citewatch` command line: the only place that maps errors to exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crawler.catalog.model import load_catalog
from crawler.catalog.selection import read_selection
from crawler.cli.conflicts import conflict_lines
from crawler.cli.delivery import notify, notify_settings_from, print_notified, report
from crawler.cli.exits import USER_ERROR, Citewatch, crawl_exit
from crawler.cli.history import changes, diff, flags, review
from crawler.cli.labels import labels
from crawler.cli.maintenance import prune_command
from crawler.cli.operation import run, status
from crawler.cli.options import (
    budget_option,
    check_settings,
    settings_option,
    verbose_option,
)
from crawler.cli.probe import probe
from crawler.cli.serve import serve
from crawler.cli.support import cli_errors, environment, open_store, settings_pairs
from crawler.cli.users import users
from crawler.cli.workers import worker
from storage import database_url

if TYPE_CHECKING:  # the crawl's modules (Scrapy's parent, extraction) load when crawling only
    from crawler.ingest.crawl import RunReport


@click.group(cls=Citewatch)
@click.option(
    "--db",
    "db",
    default=None,
    help="Database URL (default $CITEWATCH_DB or sqlite:///citewatch.db).",
)
@click.option(
    "--debug",
    is_flag=True,
    help="Print the traceback of an internal error (also: CITEWATCH_DEBUG=1).",
)
@click.version_option(package_name="citewatch")
@click.pass_context
def cli(ctx: click.Context, db: str | None, debug: bool) -> None:
    """Watch the pages a directory cites and flag the ratings a change puts in doubt."""
    ctx.ensure_object(dict)
    ctx.obj["db"] = database_url(db, environment(ctx).db_url)
    ctx.obj["debug"] = debug or environment(ctx).debug


@cli.command()
@click.argument("catalog", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--fail-on-conflict",
    is_flag=True,
    help="Exit 1 when a catalog rating differs from the one last set in review.",
)
@click.pass_context
def check(ctx: click.Context, catalog: str, fail_on_conflict: bool) -> None:
    """Validate a catalog folder; errors name file, entry and field. With a database, warn
    about each rating the catalog and the newest `review --set` disagree on."""
    with cli_errors():
        cat = load_catalog(catalog)
    sources = sum(len(t.sources) for t in cat.tools)
    ratings = sum(len(t.ratings) for t in cat.tools)
    click.echo(
        f"{catalog}: ok — {len(cat.tools)} tools, {sources} sources, "
        f"{ratings} ratings, {len(cat.criteria)} criteria"
    )
    found = conflict_lines(ctx, cat)
    for line in found:
        click.echo(line, err=True)
    if found and fail_on_conflict:
        ctx.exit(USER_ERROR)


@cli.command()
@click.argument("catalog", type=click.Path(exists=True, file_okay=False))
@click.option("--tool", "tools", multiple=True, help="Only this tool (repeatable).")
@click.option(
    "--source", "sources", multiple=True, help="Only this source id, or TOOL/SOURCE (repeatable)."
)
@click.option(
    "--source-file",
    "source_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="Only the sources this file names, one TOOL/SOURCE a line (what `run` passes).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run as one JSON object.")
@settings_option("Scrapy setting, or BROKEN_AFTER=N (repeatable).")
@click.option(
    "--notify",
    "notify_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="Notification settings (TOML; default $CITEWATCH_NOTIFY): tell editors what was raised.",
)
@budget_option(
    "--timeout", "Time budget of this crawl (s); the fetch stops softly and is killed within it."
)
@verbose_option()
@click.pass_context
def crawl(
    ctx: click.Context,
    catalog: str,
    tools: tuple[str, ...],
    sources: tuple[str, ...],
    source_file: str | None,
    as_json: bool,
    settings: tuple[str, ...],
    notify_file: str | None,
    budget: float,
    verbose: bool,
) -> None:
    """Crawl the catalog's sources once now and record what changed.

    Exits 0 when every source was fetched, 3 when some failed, 4 when all failed (README).
    """
    from crawler.cli.progress import fetch_display
    from crawler.ingest.crawl import run_crawl

    notify_file = notify_file or environment(ctx).notify_file
    with cli_errors():
        pairs = settings_pairs(settings)
        check_settings(pairs)
        if source_file is not None:
            sources += read_selection(Path(source_file))
        cat = load_catalog(catalog)
        notify_settings = notify_settings_from(ctx, notify_file) if notify_file else None
        store = open_store(ctx, create=True)
        with fetch_display(show_progress=not as_json, verbose=verbose) as display:
            report = run_crawl(
                store, cat, tools=tools, sources=sources, settings=pairs, timeout=budget,
                display=display,
            )  # fmt: skip
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        _print_run(report)
    if notify_settings is not None:
        from crawler.notify.deliver import notify_pending

        with cli_errors():
            done = notify_pending(store, cat, notify_settings)
        print_notified(done, err=as_json)  # stdout carries exactly one JSON object
    ctx.exit(crawl_exit(s.outcome for s in report.sources))


def _print_run(report: RunReport) -> None:
    for s in report.sources:
        what = s.outcome + (f" [{s.failure_class}]" if s.failure_class else "")
        if s.outcome == "changed":
            what += {"substantive": " (significant)", "minor": " (minor edit)"}.get(
                s.tier or "", " (noise only)"
            )
        extra = f" change #{s.change}" if s.change else ""
        extra += f" flags: {', '.join(s.flags)}" if s.flags else ""
        extra += f" may concern: {', '.join(s.suggestions)}" if s.suggestions else ""
        extra += f" — {s.error}" if s.error else ""
        click.echo(f"{s.tool}/{s.source}: {what}{extra}")
        for u in s.unwatched:
            near = f' closest ({u.score:.0f}%): "{u.closest}"' if u.closest else ""
            click.echo(
                f'  evidence never found — {u.criterion} is not watched by its quote "{u.quote}"'
                f"{near}"
            )
    click.echo(f"run {report.run_id}: {len(report.sources)} sources")


@cli.command()
@click.argument("target")
@click.option("--select", multiple=True, help="CSS selector to keep (repeatable).")
@click.option("--exclude", multiple=True, help="CSS selector to drop (repeatable).")
def extract(target: str, select: tuple[str, ...], exclude: tuple[str, ...]) -> None:
    """Print the normalized text citewatch compares, for a file or a URL."""
    from crawler.ingest.target import extract_target

    with cli_errors():
        extraction = extract_target(target, select, exclude)
    click.echo(extraction.text)
    click.echo(f"-- {len(extraction.blocks)} blocks, {extraction.method}", err=True)


@cli.command()
@click.option("--out", default="demo-out", show_default=True, type=click.Path(file_okay=False))
@click.pass_context
def demo(ctx: click.Context, out: str) -> None:
    """Run the whole pipeline offline on bundled pages and print where the report is.

    The demo keeps its own fresh database in OUT/citewatch.db unless --db is given.
    """
    from crawler.demo import run_demo

    explicit = ctx.parent.params.get("db") if ctx.parent else None
    with cli_errors():
        if explicit:
            open_store(ctx, create=True)  # refuses what Store.open refuses, before the demo
        run_demo(explicit, Path(out), echo=click.echo)


for command in (
    changes,
    flags,
    review,
    diff,
    report,
    notify,
    run,
    status,
    prune_command,
    worker,
    probe,
    serve,
    users,
):
    cli.add_command(command)
cli.add_command(labels)


def main() -> None:
    """Console entry point."""
    cli(obj={})
