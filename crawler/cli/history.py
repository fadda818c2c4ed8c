"""`citewatch changes | flags | review | diff`: reading history and judging flags."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crawler.catalog.model import RATINGS
from crawler.cli.options import MAX_ID, NonBlank
from crawler.cli.support import cli_errors, open_store, parse_since
from crawler.report.shapes import change_json, flag_json
from storage.records import FlagRecord, ReviewRecord

if TYPE_CHECKING:
    from crawler.ingest.review import Outcome


@click.command()
@click.option("--since", default=None, help="ISO date or time.")
@click.option(
    "--all", "show_all", is_flag=True, help="Include minor, noise-only and technical changes."
)
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True, help="CSV, formula-safe (see README).")
@click.pass_context
def changes(
    ctx: click.Context, since: str | None, show_all: bool, as_json: bool, as_csv: bool
) -> None:
    """Detected changes (significant ones unless --all)."""
    with cli_errors():
        rows = [
            c
            for c in open_store(ctx).changes(parse_since(since))
            if show_all or (c.significant and not c.technical)
        ]
    if as_csv:
        from crawler.report.history import change_entries
        from reports.export import changes_csv

        click.echo(changes_csv(change_entries(open_store(ctx), rows)), nl=False)
        return
    if as_json:
        click.echo(json.dumps([change_json(c) for c in rows], ensure_ascii=False))
        return
    for c in rows:
        kind = "technical" if c.technical else _KINDS.get(c.tier, c.tier)
        click.echo(
            f"#{c.id} {c.detected_at:%Y-%m-%d %H:%M} {c.tool_id}/{c.source_id} {kind} "
            f"+{c.added} -{c.removed} — {c.reason}"
        )
    if not rows:
        click.echo("no changes")


# How `changes` names each tier; "noise" is kept for the noise tier alone.
_KINDS = {"substantive": "SIGNIFICANT", "minor": "minor", "noise": "noise"}


@click.command()
@click.option(
    "--status", type=click.Choice(["open", "resolved", "all"]), default="open", show_default=True
)
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--unwatched",
    is_flag=True,
    help="Only the evidence quotes never found (with --json: a list of them, not of flags).",
)
@click.pass_context
def flags(ctx: click.Context, status: str, as_json: bool, unwatched: bool) -> None:
    """Ratings flagged for re-review, with reasons; then the ratings not watched by their quote.

    `--json` prints the list of flags only, as always; `--json --unwatched` prints the list of
    evidence quotes never found instead (tool, criterion, source, quote, closest, score).
    """
    from crawler.report.watching import as_json as unwatched_json
    from crawler.report.watching import describe, last_catalog
    from crawler.report.watching import unwatched as never_found

    with cli_errors():
        store = open_store(ctx)
        rows = [] if unwatched else store.flags(None if status == "all" else status)
        quiet = never_found(store, last_catalog(store))
    if as_json:
        out = [unwatched_json(a) for a in quiet] if unwatched else [flag_json(f) for f in rows]
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    if not unwatched:
        _print_flags(rows, status)
    if quiet:
        click.echo(f"Not watched — evidence never found ({len(quiet)}):")
        for a in quiet:
            click.echo("\n".join(describe(a)))
    elif unwatched:
        click.echo("every evidence quote was found in its source")


def _print_flags(rows: list[FlagRecord], status: str) -> None:
    from crawler.report.watching import one_line

    for f in rows:
        click.echo(
            f"[{f.status}] {f.tool_id} / {f.criterion_id} ({f.severity}) "
            f"since {f.opened_at:%Y-%m-%d %H:%M}"
        )
        done = f.resolution
        if done is not None:
            click.echo(f"    {_how(done)}")
        for r in f.reasons:
            where = f"change #{r.change_id}" if r.change_id is not None else "broken source"
            click.echo(f"    {where} {r.source_id}: {one_line(r.text)}")
            for old, new in r.sentences[:3]:
                click.echo(f"      was: “{one_line(old)}”" if old else "      (new)")
                click.echo(f"      now: “{one_line(new)}”" if new else "      (removed)")
    if not rows:
        click.echo(f"no {status if status != 'all' else ''} flags".replace("  ", " "))


def _how(r: ReviewRecord) -> str:
    """Who resolved a flag, how, when and why, in one line."""
    from crawler.report.watching import one_line

    how = f"set {r.rating}" if r.action == "set" else r.action
    return f"resolved {r.at:%Y-%m-%d %H:%M} by {one_line(r.by)}: {how} — {one_line(r.note)}"


@click.command()
@click.argument("tool")
@click.argument("criterion")
@click.option("--confirm", is_flag=True, help="The rating stays as it is.")
@click.option("--set", "new_rating", default=None, help=f"Set a new rating ({', '.join(RATINGS)}).")
@click.option("--dismiss", is_flag=True, help="The flag was a false alarm.")
@click.option("--reopen", is_flag=True, help="Open the last resolved flag again.")
@click.option("--note", required=True, type=NonBlank(), help="Why (kept in history).")
@click.option("--by", default=None, type=NonBlank(), help="Editor name (default: the user name).")
@click.option(
    "--catalog",
    "catalog_dir",
    default=None,
    type=click.Path(exists=True, file_okay=False),
    help="Catalog a --set is written back to (default: the last crawl's).",
)
@click.option(
    "--no-write-back", is_flag=True, help="With --set: print the catalog patch, do not apply it."
)
@click.pass_context
def review(
    ctx: click.Context,
    tool: str,
    criterion: str,
    confirm: bool,
    new_rating: str | None,
    dismiss: bool,
    reopen: bool,
    note: str,
    by: str | None,
    catalog_dir: str | None,
    no_write_back: bool,
) -> None:
    """Resolve a flag (exactly one of --confirm, --set RATING, --dismiss) or --reopen the last
    resolved one, with a --note; a --set is written back to the catalog's tool file."""
    # Each its own option: as two values of one, `--confirm --dismiss` let the last one win.
    chosen = [confirm, new_rating is not None, dismiss, reopen]
    if chosen.count(True) != 1:
        raise click.UsageError("give exactly one of --confirm, --set RATING, --dismiss, --reopen")
    if no_write_back and new_rating is None:
        raise click.UsageError("--no-write-back goes with --set")
    from crawler.ingest.review import Decision, ReviewActionName, decide  # the ingest stage

    action: ReviewActionName = (
        "confirm" if confirm else "dismiss" if dismiss else "reopen" if reopen else "set"
    )
    with cli_errors():
        store = open_store(ctx, create=True)
        known = catalog_dir or (store.last_catalog() if action == "set" else None)
        decision = Decision(tool, criterion, action, note, by or getpass.getuser(), new_rating)
        out = decide(store, decision, Path(known) if known else None, write_back=not no_write_back)
    done = out.review
    click.echo(
        f"{tool} / {criterion}: {done.action}"
        f"{' ' + done.rating if done.rating else ''} by {done.by}"
    )
    _echo_write_back(out, action, known)


def _echo_write_back(out: Outcome, action: str, catalog: str | None) -> None:
    """Say what became of the catalog: written, unchanged, or the patch to apply by hand."""
    if action != "set":
        return
    if catalog is None:
        click.echo("no catalog known (no crawl yet): pass --catalog to write the rating back")
    elif out.catalog_written is not None:
        click.echo(f"wrote {out.catalog_written}")
    elif out.write_error is not None:
        click.echo(f"catalog not written: {out.write_error}", err=True)
    elif out.patch == "":
        click.echo("the catalog already holds this rating")
    if out.patch and out.catalog_written is None:
        click.echo(out.patch, nl=False)


_DIFF_KINDS = {"substantive": "significant", "minor": "minor edit", "noise": "noise only"}


@click.command()
@click.argument("change", type=click.IntRange(1, MAX_ID))
@click.option("--color/--no-color", default=None, help="Default: when stdout is a terminal.")
@click.pass_context
def diff(ctx: click.Context, change: int, color: bool | None) -> None:
    """Show one change in the terminal (word changes as [-old-]{+new+})."""
    from diffs.text import diff_texts
    from reports.terminal import render_diff  # Jinja2 (via reports.render) only when needed

    with cli_errors():
        store = open_store(ctx)
        c = store.change(change)
        old, new = store.snapshot(c.old_snapshot_id), store.snapshot(c.new_snapshot_id)
    kind = "technical upgrade" if c.technical else _DIFF_KINDS.get(c.tier, c.tier)
    click.echo(
        f"change #{c.id} {c.tool_id}/{c.source_id} {c.url}\n"
        f"{c.detected_at:%Y-%m-%d %H:%M} — {kind}: {c.reason}"
    )
    click.echo(
        render_diff(
            diff_texts(old.text, new.text), color=sys.stdout.isatty() if color is None else color
        )
    )
