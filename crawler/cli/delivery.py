"""`citewatch report | notify`: reports for editors and the notifications that carry them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from crawler.catalog.model import load_catalog
from crawler.cli.support import cli_errors, environment, open_store, parse_since

if TYPE_CHECKING:
    from crawler.notify.deliver import NotifyReport
    from crawler.notify.settings import NotifySettings


@click.command()
@click.option(
    "--format",
    "formats",
    default="html,md",
    show_default=True,
    help="Comma list of html, md, json, csv (changes.csv: the whole change history).",
)
@click.option(
    "--out", "out", default="citewatch-report", show_default=True, type=click.Path(file_okay=False)
)
@click.option("--since", default=None, help="ISO date; default: since the last report.")
@click.option(
    "--catalog",
    default=None,
    type=click.Path(exists=True, file_okay=False),
    help="Default: the catalog of the last crawl.",
)
@click.pass_context
def report(
    ctx: click.Context, formats: str, out: str, since: str | None, catalog: str | None
) -> None:
    """Write the editors' report and reviewers' site."""
    from crawler.report.build import ReportError, write_reports  # Jinja2 loads only when reporting

    with cli_errors():
        try:
            paths = write_reports(
                open_store(ctx), catalog, Path(out), formats.split(","), parse_since(since)
            )
        except ReportError as exc:
            raise click.ClickException(str(exc)) from exc
    for p in paths:
        click.echo(str(p))


def notify_settings_from(ctx: click.Context, path: str) -> NotifySettings:
    """The notification settings file, or a usage error naming what is wrong in it."""
    from crawler.notify.settings import NotifySettingsError, load_settings

    try:
        return load_settings(Path(path), environment(ctx))
    except NotifySettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def print_notified(done: NotifyReport, err: bool = False) -> None:
    """One line per delivery of a notify round."""
    for line in done.lines():
        click.echo(line, err=err)


@click.command()
@click.option(
    "--settings",
    "settings_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="Notification settings (TOML; default $CITEWATCH_NOTIFY).",
)
@click.option(
    "--catalog",
    default=None,
    type=click.Path(exists=True, file_okay=False),
    help="Default: the catalog of the last crawl.",
)
@click.option(
    "--dry-run",
    "dry_run",
    default=None,
    type=click.Path(dir_okay=False),
    help="Write the email that would be sent to this .eml file (and .txt); send, mark nothing.",
)
@click.option("--status", is_flag=True, help="List every delivery (attempts, error, sent).")
@click.pass_context
def notify(
    ctx: click.Context,
    settings_file: str | None,
    catalog: str | None,
    dry_run: str | None,
    status: bool,
) -> None:
    """Send what is new since the last notification, and retry failed deliveries."""
    from crawler.notify.deliver import notify_pending, outbox_lines, preview_email
    from crawler.notify.settings import NotifySettings

    settings_file = settings_file or environment(ctx).notify_file
    if status:
        with cli_errors():
            click.echo("\n".join(outbox_lines(open_store(ctx))))
        return
    if settings_file is None and dry_run is None:
        raise click.UsageError("give --settings FILE (or $CITEWATCH_NOTIFY), or --dry-run FILE")
    settings = notify_settings_from(ctx, settings_file) if settings_file else NotifySettings("")
    with cli_errors():
        store = open_store(ctx)
        chosen = catalog or store.last_catalog()
        if chosen is None:
            raise click.ClickException("no catalog: pass --catalog or run `citewatch crawl` first")
        cat = load_catalog(chosen)
        if dry_run is not None:
            path, raised = preview_email(store, cat, settings, Path(dry_run))
            click.echo(f"{path}{'' if raised else ' (nothing raised: it would not be sent)'}")
            return
        done = notify_pending(store, cat, settings)
    print_notified(done)
    if done.failed:
        raise click.ClickException(f"{len(done.failed)} delivery(ies) failed; kept for retry")
