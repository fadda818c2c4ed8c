"""`citewatch probe`: fetch the selected sources once with the crawl's own fetch child, and
report what a crawl would make of each, storing nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from crawler.catalog.model import Catalog
from crawler.fetch.parent import QUIET, FetchDisplay, fetch_all
from crawler.fetch.selection import fetch_request, select_sources
from crawler.probe.report import SourceProbe, probe_source
from crawler.run.limits import crawl_limits, with_soft_stop


@dataclass(frozen=True, slots=True)
class ProbeReport:
    """Every probed source, in catalog order."""

    catalog: str
    started_at: datetime
    sources: tuple[SourceProbe, ...]


def probe_catalog(
    catalog: Catalog,
    *,
    tools: Sequence[str] = (),
    sources: Sequence[str] = (),
    settings: Mapping[str, str] | None = None,
    timeout: float,
    display: FetchDisplay = QUIET,
) -> ProbeReport:
    """Fetch each selected source once (unconditionally: no stored validators) and build its
    findings; nothing is written anywhere but the fetch child's own temporary folder."""
    picked = select_sources(catalog, tools, sources)
    limits = crawl_limits(timeout)
    spider_settings = with_soft_stop(settings or {}, limits.fetch_s)
    started = datetime.now(UTC)
    requests = [fetch_request(tool, source) for tool, source in picked]
    results = fetch_all(requests, settings=spider_settings, timeout=limits.fetch_s, display=display)
    found = tuple(
        probe_source(tool, source, result)
        for (tool, source), result in zip(picked, results, strict=True)
    )
    return ProbeReport(str(catalog.path), started, found)
