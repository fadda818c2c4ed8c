"""A probe's findings for one source, built from its fetch result without storing anything
(pure: the fetch is done by runner.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from crawler.catalog.model import Source, Tool
from crawler.extract.document import ExtractError, Extraction, extract
from crawler.extract.failures import fetch_failure, wall_failure
from crawler.fetch.request import FetchResult
from crawler.probe.checks import chrome_share, shell_verdict, suggest_select
from diffs.anchors import ALTERED_MIN_SCORE, anchor_in, closest
from diffs.text import NAV_MARK

# Lines of the extracted text shown, and characters of each: enough to recognise the page.
FIRST_LINES = 5
LINE_CHARS = 160

Match = Literal["exact", "reworded", "none"]


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteProbe:
    """One evidence quote looked for in the page, as the crawl will look for it."""

    criterion: str
    quote: str
    found: bool  # on the page as written: the crawl watches the rating by it
    match: Match  # exact; reworded (a passage scores ALTERED_MIN_SCORE+); none
    score: float  # 100 when exact, else the closest passage's score (0: no text)
    closest: str | None  # the page's passage most like the quote (None when exact)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceProbe:
    """What one fetch of a source gives, and what the crawl would make of it."""

    tool: str
    source: str
    url: str
    final_url: str | None
    status: int | None
    error: str | None  # why there is no usable text (fetch or extraction), else None
    failure_class: str | None  # as a crawl would class the failure
    method: str | None  # extraction method, e.g. html/4, pdf/1, pdf-ocr/1
    chars: int
    blocks: int
    title: str | None
    first_lines: tuple[str, ...]
    js_shell: str | None  # why it looks like a JavaScript shell, else None
    bot_wall: str | None  # why it looks like a bot challenge or consent wall, else None
    chrome_share: float  # share of the text in the site's navigation runs
    suggest_select: str | None  # CSS that keeps the document and drops most chrome
    quotes: tuple[QuoteProbe, ...]

    @property
    def ok(self) -> bool:
        """Fetched, readable, neither shell nor wall, and every quote found as written."""
        clean = self.error is None and self.js_shell is None and self.bot_wall is None
        return clean and all(q.found for q in self.quotes)


def probe_source(tool: Tool, source: Source, result: FetchResult) -> SourceProbe:
    """The findings for one fetched source (never raises for a bad page: it is data)."""
    if result.error is not None or result.body is None or not 200 <= (result.status or 0) < 300:
        kind = result.error_kind or ("http" if result.status else "other")
        failure = fetch_failure(result.status, kind, result.error)
        return _failed(tool, source, result, failure.reason, failure.failure_class)
    try:
        extraction = _extract(result, source, source.select)
    except ExtractError as exc:
        wall = wall_failure(result.body, "")
        reason = wall.reason if wall else None
        return _failed(tool, source, result, str(exc), "suspicious", reason)
    wall = wall_failure(result.body, extraction.text)
    text = extraction.text

    def tried(select: Sequence[str]) -> tuple[str, ...] | None:
        try:
            return _extract(result, source, select).blocks
        except ExtractError:
            return None

    suggested = None if source.select else suggest_select(extraction.blocks, tried)
    return SourceProbe(
        tool=tool.id,
        source=source.id,
        url=result.url,
        final_url=result.final_url or result.url,
        status=result.status,
        error=None,
        failure_class=None,
        method=extraction.method,
        chars=len(text),
        blocks=len(extraction.blocks),
        title=_title(extraction.blocks),
        first_lines=tuple(_short(b) for b in extraction.blocks[:FIRST_LINES]),
        js_shell=shell_verdict(result.body, text),
        bot_wall=wall.reason if wall else None,
        chrome_share=round(chrome_share(extraction.blocks), 3),
        suggest_select=suggested,
        quotes=quote_probes(tool, source.id, text),
    )


def quote_probes(tool: Tool, source_id: str, text: str) -> tuple[QuoteProbe, ...]:
    """Each evidence quote of the tool's ratings that cites this source, looked for in the
    text the way a crawl anchors it first (diffs.anchors: exactly, else the closest passage)."""
    out = []
    for rating in tool.ratings:
        for evidence in rating.evidence:
            if evidence.source == source_id:
                out.append(_quote(rating.criterion, evidence.quote, text))
    return tuple(out)


def _quote(criterion: str, quote: str, text: str) -> QuoteProbe:
    if text and anchor_in(quote, text) is not None:
        return QuoteProbe(criterion=criterion, quote=quote, found=True, match="exact",
                          score=100.0, closest=None)  # fmt: skip
    score, passage = closest(quote, text) if text else (0.0, None)
    match: Match = "reworded" if score >= ALTERED_MIN_SCORE else "none"
    return QuoteProbe(criterion=criterion, quote=quote, found=False, match=match, score=score,
                      closest=passage)  # fmt: skip


def _extract(result: FetchResult, source: Source, select: Sequence[str]) -> Extraction:
    assert result.body is not None  # checked by the caller
    url = result.final_url or result.url
    return extract(result.body, content_type=result.content_type, url=url, select=select,
                   exclude=source.exclude)  # fmt: skip


def _failed(
    tool: Tool,
    source: Source,
    result: FetchResult,
    error: str,
    failure_class: str,
    wall: str | None = None,
) -> SourceProbe:
    """A source with no usable text: its quotes cannot be found."""
    raw = result.body or b""
    return SourceProbe(
        tool=tool.id, source=source.id, url=result.url, final_url=result.final_url,
        status=result.status, error=error, failure_class=failure_class, method=None, chars=0,
        blocks=0, title=None, first_lines=(), js_shell=shell_verdict(raw, "") if raw else None,
        bot_wall=wall, chrome_share=0.0, suggest_select=None,
        quotes=quote_probes(tool, source.id, ""),
    )  # fmt: skip


def _title(blocks: Sequence[str]) -> str | None:
    """The first heading, else the first block."""
    heading = next((b for b in blocks if b.lstrip("» ").startswith("#")), None)
    first = heading or next((b for b in blocks if not b.startswith(NAV_MARK)), None)
    return _short(first.lstrip("» ").lstrip("# ").strip()) if first else None


def _short(line: str) -> str:
    return line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 1] + "…"
