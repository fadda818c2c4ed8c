"""The `citewatch` command line: the only place that maps errors to exit codes."""

from __future__ import annotations

import getpass
import json
import logging
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from crawler.catalog import RATINGS, CatalogError, load_catalog, normalize_rating, parse_duration
from crawler.crawl import RunReport, SelectionError, run_crawl
from crawler.extract import ExtractError
from crawler.fetch import FetchError
from diffs.text import diff_texts
from storage import NotFound, Store, StoreError, database_url
from storage.records import ChangeRecord, FlagRecord


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
@click.option(
    "--source", "sources", multiple=True, help="Only this source id, or TOOL/SOURCE (repeatable)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the run as one JSON object.")
@click.option(
    "-s", "settings", multiple=True, metavar="KEY=VALUE", help="Scrapy setting (repeatable)."
)
@click.pass_context
def crawl(
    ctx: click.Context,
    catalog: str,
    tools: tuple[str, ...],
    sources: tuple[str, ...],
    as_json: bool,
    settings: tuple[str, ...],
) -> None:
    """Crawl the catalog's sources once now and record what changed."""
    with _errors():
        cat = load_catalog(catalog)
        report = run_crawl(
            _store(ctx), cat, tools=tools, sources=sources, settings=settings_pairs(settings)
        )
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        _print_run(report)


def _print_run(report: RunReport) -> None:
    for s in report.sources:
        what = s.outcome
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
@click.pass_context
def changes(ctx: click.Context, since: str | None, show_all: bool, as_json: bool) -> None:
    """Detected changes (significant ones unless --all)."""
    with _errors():
        rows = [
            c
            for c in _store(ctx).changes(_since(since))
            if show_all or (c.significant and not c.technical)
        ]
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
            click.echo(f"    change #{r.change_id} {r.source_id}: {r.text}")
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
        done = _store(ctx).resolve(
            tool, criterion, action or "set", rating, note, by or getpass.getuser()
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
    help="Comma list of html, md, json.",
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


def _log_to_stderr(logger: logging.Logger) -> None:
    """The scheduler's own log lines (not Alembic's or APScheduler's chatter) to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


@cli.command()
@click.argument("catalog", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--every", default="1d", show_default=True, help="Interval of sources without every:."
)
@click.option(
    "--tick", default=60.0, show_default=True, help="Seconds between looks for due sources."
)
@click.option(
    "--crawl-timeout", default=3600.0, show_default=True, help="Hard limit of one crawl (s)."
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
    from crawler.lock import LockHeld
    from crawler.schedule import Policy
    from crawler.scheduler import RunOptions, serve

    _log_to_stderr(logging.getLogger("citewatch"))
    with _errors():
        pairs = settings_pairs(settings)
        policy = Policy(parse_duration(every), backoff_base=parse_duration(backoff))
        options = RunOptions(
            ctx.obj["db"], str(Path(catalog).resolve()), policy, tick, crawl_timeout,
            tuple(f"{k}={v}" for k, v in pairs.items()), once, max_cycles,
        )  # fmt: skip
        try:
            serve(options)
        except LockHeld as exc:
            raise click.ClickException(str(exc)) from exc


@cli.command()
@click.option("--catalog", default=None, type=click.Path(exists=True, file_okay=False),
              help="Default: the running scheduler's catalog.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def status(ctx: click.Context, catalog: str | None, as_json: bool) -> None:
    """Each source's last fetch, outcome, next due time and breakage; the scheduler's heartbeat."""
    from crawler.status import render, status_report

    with _errors():
        report = status_report(_store(ctx), catalog)
    click.echo(json.dumps(report.as_json()) if as_json else render(report))


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


if __name__ == "__main__":  # `python -m crawler.cli`: how `run` starts its crawl children
    main()
