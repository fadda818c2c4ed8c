"""`citewatch probe CATALOG`: the onboarding dry run — what a crawl would make of each source
(final URL, text, JavaScript shell, bot wall, evidence quotes, a `select` hint), storing
nothing."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

from crawler.catalog.model import load_catalog
from crawler.cli.exits import ALL_FAILED, OK, SOME_FAILED
from crawler.cli.options import (
    budget_option,
    check_settings,
    settings_option,
    verbose_option,
)
from crawler.cli.support import cli_errors, settings_pairs

if TYPE_CHECKING:
    from crawler.probe import ProbeReport, SourceProbe


@click.command()
@click.argument("catalog", type=click.Path(exists=True, file_okay=False))
@click.option("--tool", "tools", multiple=True, help="Only this tool (repeatable).")
@click.option(
    "--source", "sources", multiple=True, help="Only this source id, or TOOL/SOURCE (repeatable)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as one JSON object.")
@settings_option("Scrapy setting (repeatable).")
@budget_option("--timeout", "Time budget of the fetch (s).")
@verbose_option()
@click.pass_context
def probe(
    ctx: click.Context,
    catalog: str,
    tools: tuple[str, ...],
    sources: tuple[str, ...],
    as_json: bool,
    settings: tuple[str, ...],
    budget: float,
    verbose: bool,
) -> None:
    """Fetch each source once, store nothing, and report what a crawl would see.

    Exits 0 when every source reads well and every evidence quote is found as written,
    3 when some source or quote needs attention, 4 when no source could be read (README).
    """
    with cli_errors():
        pairs = settings_pairs(settings)
        check_settings(pairs)
        cat = load_catalog(catalog)
        # The fetch and extraction stages load here, not when another command starts.
        from crawler.cli.progress import fetch_display
        from crawler.probe import probe_catalog

        with fetch_display(show_progress=not as_json, verbose=verbose) as display:
            report = probe_catalog(
                cat, tools=tools, sources=sources, settings=pairs, timeout=budget,
                display=display,
            )  # fmt: skip
    if as_json:
        click.echo(json.dumps(as_json_object(report), ensure_ascii=False))
    else:
        for found in report.sources:
            click.echo(_text(found))
    ctx.exit(probe_exit(report))


def probe_exit(report: ProbeReport) -> int:
    """OK when every source is fine, ALL_FAILED when none could be read, else SOME_FAILED."""
    if all(s.ok for s in report.sources):
        return OK
    unreadable = [s for s in report.sources if s.error is not None or s.bot_wall is not None]
    return ALL_FAILED if len(unreadable) == len(report.sources) else SOME_FAILED


def as_json_object(report: ProbeReport) -> dict[str, Any]:
    """The `probe --json` object (its shape is in the README)."""
    return {
        "catalog": report.catalog,
        "started_at": report.started_at.isoformat(),
        "ok": all(s.ok for s in report.sources),
        "sources": [{**asdict(s), "ok": s.ok} for s in report.sources],
    }


def _text(s: SourceProbe) -> str:
    """One source's findings for a person: a headline, then one line per finding."""
    lines = [f"{s.tool}/{s.source}: {'ok' if s.ok else 'NEEDS ATTENTION'}"]
    moved = f" → {s.final_url}" if s.final_url and s.final_url != s.url else ""
    lines.append(f"  fetched: {s.url}{moved} (status {s.status if s.status else '-'})")
    if s.error is not None:
        lines.append(f"  failed [{s.failure_class}]: {s.error}")
    else:
        lines.append(f"  extracted: {s.chars} characters, {s.blocks} blocks ({s.method})")
        lines.append(f"  title: {s.title or '-'}")
        lines += [f"  | {line}" for line in s.first_lines]
    if s.js_shell:
        lines.append(f"  looks like a JavaScript shell: {s.js_shell}")
    if s.bot_wall:
        lines.append(f"  looks like a bot wall: {s.bot_wall}")
    if s.suggest_select:
        share = f"{s.chrome_share:.0%}"
        lines.append(f"  {share} of the text is navigation: try  select: [{s.suggest_select!r}]")
    for q in s.quotes:
        if q.found:
            lines.append(f'  quote found ({q.criterion}): "{q.quote}"')
            continue
        kind = "reworded on the page?" if q.match == "reworded" else "nothing close"
        near = f' closest ({q.score:.0f}%): "{q.closest}"' if q.closest else ""
        lines.append(f'  quote NOT FOUND ({q.criterion}, {kind}): "{q.quote}"{near}')
    return "\n".join(lines)
