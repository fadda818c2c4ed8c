"""`citewatch prune`: apply the retention policy (storage/prune.py); a dry run by default."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import click

from crawler.cli.support import cli_errors, open_store
from storage.prune import MAX_FAILED_AGE_DAYS, PruneReport, prune


@click.command("prune")
@click.option("--apply", is_flag=True, help="Remove them (default: only say what would go).")
@click.option("--failed-older-than", "days", default=None,
              type=click.IntRange(1, MAX_FAILED_AGE_DAYS), metavar="DAYS",
              help="Also remove failed fetches older than DAYS (never a source's current "
                   "run of failures).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def prune_command(ctx: click.Context, apply: bool, days: int | None, as_json: bool) -> None:
    """Remove raw bodies no stored version uses (and old failed fetches): a dry run unless
    --apply."""
    with cli_errors():
        store = open_store(ctx)
        age = None if days is None else timedelta(days=days)
        done = prune(store.sessions, apply=apply, failed_older_than=age, now=datetime.now(UTC))
    if as_json:
        out = asdict(done)
        out["failed_before"] = done.failed_before.isoformat() if done.failed_before else None
        click.echo(json.dumps(out))
    else:
        click.echo(render(done))


def render(done: PruneReport) -> str:
    """What was (or would be) removed, one line each."""
    verb = "removed" if done.applied else "would remove"
    lines = [
        f"{verb} {done.raw_blobs} raw bodies no stored version uses "
        f"({done.raw_bytes / 1e6:.1f} MB as stored; {done.fetch_refs} fetches pointed at them)"
    ]
    if done.failed_before is not None:
        lines.append(
            f"{verb} {done.failed_fetches} failed fetches from before "
            f"{done.failed_before:%Y-%m-%d %H:%M} UTC (current runs of failures kept)"
        )
    if not done.applied:
        lines.append("dry run: nothing removed; run again with --apply")
    return "\n".join(lines)
