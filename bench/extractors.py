"""The extractors the offline engine can run in place of the crawl's (``--extractor``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from crawler.catalog.model import Source
from crawler.extract.document import ExtractError, Extraction

Extractor = Callable[[bytes, str | None, str, Source], Extraction]
ROOT = Path(__file__).resolve().parents[1]


def product(body: bytes, content_type: str | None, url: str, source: Source) -> Extraction:
    """citewatch's own extraction, with the source's select/exclude rules (what a crawl runs)."""
    from crawler.extract.document import extract

    return extract(
        body, content_type=content_type, url=url, select=source.select, exclude=source.exclude
    )


def trafilatura_blocks(
    body: bytes, content_type: str | None, url: str, source: Source
) -> Extraction:
    """The research recommendation (tech_scrapy §5.2), for comparison only."""
    import trafilatura

    from crawler.extract.normalize import has_words, normalize_text

    if (content_type or "").startswith("application/pdf"):
        return product(body, content_type, url, source)
    consent = (
        "//*[contains(translate(@id,'COKIE','cokie'),'cookie')"
        " or contains(translate(@class,'COKIE','cokie'),'cookie')"
        " or contains(@id,'consent') or contains(@class,'consent')]"
    )
    out = trafilatura.extract(
        body,
        url=url,
        output_format="markdown",
        include_tables=True,
        include_comments=False,
        include_links=False,
        include_images=False,
        favor_recall=True,
        prune_xpath=[consent],
        deduplicate=False,
        with_metadata=False,
    )
    if not out:
        raise ExtractError("trafilatura returned nothing")
    blocks = tuple(b for line in out.splitlines() if has_words(b := normalize_text(line)))
    return Extraction(blocks, "trafilatura")


EXTRACTORS: dict[str, Extractor] = {"lxml": product, "trafilatura": trafilatura_blocks}

# The product files whose code decides extracted text: a cache of extractions is keyed by them
# (every module of crawler/extract/, so a new extractor or rule module is covered too).
EXTRACTION_FILES = (
    *sorted((ROOT / "crawler" / "extract").glob("*.py")),
    ROOT / "diffs" / "dates.py",  # dated lines are never navigation (crawler/extract/blocks.py)
)
