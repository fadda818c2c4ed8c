"""The `citewatch` command line: the only place that maps errors to exit codes."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crawler.catalog import RATINGS, CatalogError, load_catalog, normalize_rating
from crawler.crawl import RunReport, SelectionError, run_crawl
from crawler.extract import ExtractError
from crawler.fetch import FetchError
from crawler.review import resolve
from diffs.text import diff_texts
from storage import NotFound, Store, StoreError, database_url
from storage.records import ChangeRecord, FlagRecord

if TYPE_CHECKING:
    from crawler.notify import NotifyReport
    from crawler.notify_settings import NotifySettings


@contextmanager
def _errors() -> Iterator[None]:
    """Turn each stage's own exception into a clear message and a non-zero exit."""
    try:
        yield
    except CatalogError as exc:
        raise click.ClickException(f"invalid catalog:\n{exc}") from exc
    except (
        StoreError,
        NotFound,
        SelectionError,
        ExtractError,
        FetchError,
        ValueError,
    ) as exc:
        raise click.ClickException(str(exc)) from exc


def _store(ctx: click.Context) -> Store:
    store: Store | None = ctx.obj.get("store")
    if store is None:
        store = Store.open(ctx.obj["db"])
        ctx.obj["store"] = store
        ctx.call_on_close(store.close)
    return store


def settings_pairs(pairs: Sequence[str]) -> Mapping[str, str]:
    """Parse `-s KEY=VALUE` options (ValueError names the bad one)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"-s expects KEY=VALUE, got {pair!r}")
        out[key.strip()] = value
    return out


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@click.group()
@click.option(
    "--db",
    "db",
    default=None,
    help="Database URL (default $CITEWATCH_DB or sqlite:///citewatch.db).",
)
@click.version_option(package_name="citewatch")
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """Watch the pages a directory cites and flag the ratings a change puts in doubt."""
    ctx.ensure_object(dict)
    ctx.obj["db"] = database_url(db)


@cli.command()
@click.argument("catalog", type=click.Path(exists=True, file_okay=False))
def check(catalog: str) -> None:
    """Validate a catalog folder; errors name file, entry and field."""
    with _errors():
        cat = load_catalog(catalog)
    sources = sum(len(t.sources) for t in cat.tools)
    ratings = sum(len(t.ratings) for t in cat.tools)
    click.echo(
        f"{catalog}: ok — {len(cat.tools)} tools, {sources} sources, "
        f"{ratings} ratings, {len(cat.criteria)} criteria"
    )


@cli.command()
@click.argument("catalog", type=click.Path(exists=True, file_okay=False))
@click.option("--tool", "tools", multiple=True, help="Only this tool (repeatable).")
@click.option("--source", "sources", multiple=True, help="Only this source id (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the run as one JSON object.")
@click.option(
    "-s",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="Scrapy setting, or BROKEN_AFTER=N (repeatable).",
)
@click.option(
    "--notify",
    "notify_file",
    default=None,
    envvar="CITEWATCH_NOTIFY",
    type=click.Path(dir_okay=False),
    help="Notification settings (TOML; default $CITEWATCH_NOTIFY): tell editors what was raised.",
)
@click.pass_context
def crawl(
    ctx: click.Context,
    catalog: str,
    tools: tuple[str, ...],
    sources: tuple[str, ...],
    as_json: bool,
    settings: tuple[str, ...],
    notify_file: str | None,
) -> None:
    """Crawl the catalog's sources once now and record what changed."""
    with _errors():
        cat = load_catalog(catalog)
        notify_settings = _notify_settings(notify_file) if notify_file else None
        report = run_crawl(
            _store(ctx), cat, tools=tools, sources=sources, settings=settings_pairs(settings)
        )
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        _print_run(report)
    if notify_settings is not None:
        from crawler.notify import notify_pending

        with _errors():
            done = notify_pending(_store(ctx), cat, notify_settings)
        _print_notified(done, err=as_json)  # stdout carries exactly one JSON object


def _print_run(report: RunReport) -> None:
    for s in report.sources:
        what = s.outcome + (f" [{s.failure_class}]" if s.failure_class else "")
        if s.outcome == "changed":
            what += " (significant)" if s.significant else " (noise only)"
        extra = f" change #{s.change}" if s.change else ""
        extra += f" flags: {', '.join(s.flags)}" if s.flags else ""
        extra += f" — {s.error}" if s.error else ""
        click.echo(f"{s.tool}/{s.source}: {what}{extra}")
    click.echo(f"run {report.run_id}: {len(report.sources)} sources")


@cli.command()
@click.option("--since", default=None, help="ISO date or time.")
@click.option("--all", "show_all", is_flag=True, help="Include noise-only and technical changes.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True, help="CSV, formula-safe (see README).")
@click.pass_context
def changes(
    ctx: click.Context, since: str | None, show_all: bool, as_json: bool, as_csv: bool
) -> None:
    """Detected changes (significant ones unless --all)."""
    with _errors():
        rows = [
            c
            for c in _store(ctx).changes(_since(since))
            if show_all or (c.significant and not c.technical)
        ]
    if as_csv:
        from crawler.history import change_entries
        from reports.export import changes_csv

        click.echo(changes_csv(change_entries(_store(ctx), rows)), nl=False)
        return
    if as_json:
        click.echo(json.dumps([_change_json(c) for c in rows], ensure_ascii=False))
        return
    for c in rows:
        kind = "technical" if c.technical else ("SIGNIFICANT" if c.significant else "noise")
        click.echo(
            f"#{c.id} {c.detected_at:%Y-%m-%d %H:%M} {c.tool_id}/{c.source_id} {kind} "
            f"+{c.added} -{c.removed} — {c.reason}"
        )
    if not rows:
        click.echo("no changes")


def _change_json(c: ChangeRecord) -> dict[str, Any]:
    return {
        "id": c.id,
        "tool": c.tool_id,
        "source": c.source_id,
        "url": c.url,
        "detected_at": c.detected_at.isoformat(),
        "significant": c.significant,
        "technical": c.technical,
        "reason": c.reason,
        "noise": list(c.noise),
        "added": c.added,
        "removed": c.removed,
    }


@cli.command()
@click.option(
    "--status", type=click.Choice(["open", "resolved", "all"]), default="open", show_default=True
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def flags(ctx: click.Context, status: str, as_json: bool) -> None:
    """Ratings flagged for re-review, with reasons."""
    with _errors():
        rows = _store(ctx).flags(None if status == "all" else status)
    if as_json:
        click.echo(json.dumps([_flag_json(f) for f in rows], ensure_ascii=False))
        return
    for f in rows:
        click.echo(
            f"[{f.status}] {f.tool_id} / {f.criterion_id} ({f.severity}) "
            f"since {f.opened_at:%Y-%m-%d %H:%M}"
        )
        for r in f.reasons:
            where = f"change #{r.change_id}" if r.change_id is not None else "broken source"
            click.echo(f"    {where} {r.source_id}: {r.text}")
            for old, new in r.sentences[:3]:
                click.echo(f"      was: “{old}”" if old else "      (new)")
                click.echo(f"      now: “{new}”" if new else "      (removed)")
    if not rows:
        click.echo(f"no {status if status != 'all' else ''} flags".replace("  ", " "))


def _flag_json(f: FlagRecord) -> dict[str, Any]:
    return {
        "id": f.id,
        "tool": f.tool_id,
        "criterion": f.criterion_id,
        "status": f.status,
        "severity": f.severity,
        "opened_at": f.opened_at.isoformat(),
        "resolved_at": f.resolved_at.isoformat() if f.resolved_at else None,
        "reasons": [
            {
                "change": r.change_id,
                "source": r.source_id,
                "kind": r.kind,
                "text": r.text,
                "sentences": [{"old": o, "new": n} for o, n in r.sentences],
                "matched_terms": list(r.matched_terms),
                "old_quote": r.old_quote,
                "new_quote": r.new_quote,
                "failure_class": r.failure_class,
                "broken_since": r.broken_since.isoformat() if r.broken_since else None,
            }
            for r in f.reasons
        ],
    }


@cli.command()
@click.argument("tool")
@click.argument("criterion")
@click.option("--confirm", "action", flag_value="confirm", help="The rating stays as it is.")
@click.option("--set", "new_rating", default=None, help=f"Set a new rating ({', '.join(RATINGS)}).")
@click.option("--dismiss", "action", flag_value="dismiss", help="The flag was a false alarm.")
@click.option("--note", required=True, help="Why (kept in history).")
@click.option("--by", default=None, help="Editor name (default: the user name).")
@click.pass_context
def review(
    ctx: click.Context,
    tool: str,
    criterion: str,
    action: str | None,
    new_rating: str | None,
    note: str,
    by: str | None,
) -> None:
    """Resolve a flag: --confirm, --set RATING or --dismiss, with a --note."""
    if (action is None) == (new_rating is None):
        raise click.UsageError("give exactly one of --confirm, --set RATING, --dismiss")
    with _errors():
        rating = normalize_rating(new_rating) if new_rating else None
        done = resolve(
            _store(ctx), tool, criterion, action or "set", rating, note, by or getpass.getuser()
        )
    click.echo(
        f"{tool} / {criterion}: {done.action}"
        f"{' ' + done.rating if done.rating else ''} by {done.by}"
    )


@cli.command()
@click.argument("change", type=int)
@click.option("--color/--no-color", default=None, help="Default: when stdout is a terminal.")
@click.pass_context
def diff(ctx: click.Context, change: int, color: bool | None) -> None:
    """Show one change in the terminal (word changes as [-old-]{+new+})."""
    from reports.terminal import render_diff  # Jinja2 (via reports.render) only when needed

    with _errors():
        store = _store(ctx)
        c = store.change(change)
        old, new = store.snapshot(c.old_snapshot_id), store.snapshot(c.new_snapshot_id)
    kind = (
        "technical upgrade" if c.technical else ("significant" if c.significant else "noise only")
    )
    click.echo(
        f"change #{c.id} {c.tool_id}/{c.source_id} {c.url}\n"
        f"{c.detected_at:%Y-%m-%d %H:%M} — {kind}: {c.reason}"
    )
    click.echo(
        render_diff(
            diff_texts(old.text, new.text), color=sys.stdout.isatty() if color is None else color
        )
    )


@cli.command()
@click.argument("target")
@click.option("--select", multiple=True, help="CSS selector to keep (repeatable).")
@click.option("--exclude", multiple=True, help="CSS selector to drop (repeatable).")
def extract(target: str, select: tuple[str, ...], exclude: tuple[str, ...]) -> None:
    """Print the normalized text citewatch compares, for a file or a URL."""
    from crawler.probe import extract_target

    with _errors():
        extraction = extract_target(target, select, exclude)
    click.echo(extraction.text)
    click.echo(f"-- {len(extraction.blocks)} blocks, {extraction.method}", err=True)


@cli.command()
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
    from crawler.reporting import ReportError, write_reports  # Jinja2 loads only when reporting

    with _errors():
        try:
            paths = write_reports(
                _store(ctx), catalog, Path(out), formats.split(","), _since(since)
            )
        except ReportError as exc:
            raise click.ClickException(str(exc)) from exc
    for p in paths:
        click.echo(str(p))


def _notify_settings(path: str) -> NotifySettings:
    from crawler.notify_settings import NotifySettingsError, load_settings

    try:
        return load_settings(Path(path))
    except NotifySettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def _print_notified(done: NotifyReport, err: bool = False) -> None:
    for line in done.lines():
        click.echo(line, err=err)


@cli.command()
@click.option(
    "--settings",
    "settings_file",
    default=None,
    envvar="CITEWATCH_NOTIFY",
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
    from crawler.notify import notify_pending, outbox_lines, preview_email
    from crawler.notify_settings import NotifySettings

    if status:
        with _errors():
            click.echo("\n".join(outbox_lines(_store(ctx))))
        return
    if settings_file is None and dry_run is None:
        raise click.UsageError("give --settings FILE (or $CITEWATCH_NOTIFY), or --dry-run FILE")
    settings = _notify_settings(settings_file) if settings_file else NotifySettings("", None, ())
    with _errors():
        store = _store(ctx)
        chosen = catalog or store.last_catalog()
        if chosen is None:
            raise click.ClickException("no catalog: pass --catalog or run `citewatch crawl` first")
        cat = load_catalog(chosen)
        if dry_run is not None:
            path, raised = preview_email(store, cat, settings, Path(dry_run))
            click.echo(f"{path}{'' if raised else ' (nothing raised: it would not be sent)'}")
            return
        done = notify_pending(store, cat, settings)
    _print_notified(done)
    if done.failed:
        raise click.ClickException(f"{len(done.failed)} delivery(ies) failed; kept for retry")


@cli.command()
@click.option("--out", default="demo-out", show_default=True, type=click.Path(file_okay=False))
@click.pass_context
def demo(ctx: click.Context, out: str) -> None:
    """Run the whole pipeline offline on bundled pages and print where the report is.

    The demo keeps its own fresh database in OUT/citewatch.db unless --db is given.
    """
    from crawler.demo import run_demo

    explicit = ctx.parent.params.get("db") if ctx.parent else None
    with _errors():
        run_demo(explicit, Path(out), echo=click.echo)


def main() -> None:
    """Console entry point."""
    cli(obj={})
