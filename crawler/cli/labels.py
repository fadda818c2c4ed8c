"""`citewatch labels export`: editors' decisions as labels in the shape of labels.json."""

from __future__ import annotations

import json
from pathlib import Path

import click

from crawler.cli.support import cli_errors, open_store


@click.group()
def labels() -> None:
    """Editors' decisions as hand labels (labels.json's shape)."""


@labels.command("export")
@click.option(
    "--out",
    default=None,
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file (default: standard output).",
)
@click.pass_context
def export(ctx: click.Context, out: str | None) -> None:
    """Every standing resolution (confirmed, set, dismissed as noise), one label per change."""
    from crawler.report.labels import change_labels, labels_json

    with cli_errors():
        found = change_labels(open_store(ctx))
        text = json.dumps(labels_json(found), ensure_ascii=False, indent=1) + "\n"
        if out is None:
            click.echo(text, nl=False)
            return
        Path(out).write_text(text, encoding="utf-8")
    click.echo(f"{len(found)} labels written to {out}", err=True)
