"""The benchmark catalog built from the corpus, shared by the offline and the replay benchmarks.

One tool per service; every criterion of the built-in taxonomy cites every page of its
service. Evidence quotes are taken from each page's **first** capture, the way an editor
quotes the page they rated: for every criterion, the sentences of that first text that speak
about it (its topic vocabulary), at most ``QUOTES_PER_PAGE`` per page, preferring sentences
with more distinct topic terms. The rule is mechanical on purpose: no quote was chosen
knowing what changed later.

A quote must also belong to the document's first recorded version (the corpus's
``versions.tar.xz``): an editor quotes the document they rate, not a neighbouring document
served on the same page. Until December 2025 Le Chat's five legal documents were one page,
``mistral.ai/terms/``; quoting anything on it made every rating cite, say, the cookie policy
for DPA sentences, and lose them all when the documents moved to pages of their own.
"""

from __future__ import annotations

import json
import re
import tarfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import lxml.etree  # type: ignore[import-untyped]
import lxml.html  # type: ignore[import-untyped]
import yaml

from crawler.catalog.taxonomy import default_taxonomy
from crawler.extract.document import ExtractError, extract
from diffs.sentences import sentences
from diffs.topics import fold, match_terms

# An editor cites a handful of statements per page for a rating, not every mention.
QUOTES_PER_PAGE = 3
# Shorter "sentences" are headings and menu items ("Training", "Data retention"): not claims.
MIN_QUOTE_WORDS = 8
MAX_QUOTE_CHARS = 400
# Editors quote statements: a sentence that ends like one, with no table-cell separators and
# words made of letters (not icon-font class names such as "fa-envelope alpaca-fa-regular").
_STATEMENT_END = tuple('.;:!?)"”’')
MIN_LETTER_WORDS = 0.8


@dataclass(frozen=True, slots=True)
class Page:
    """One page of one corpus document, as the benchmark catalog cites it."""

    service: str
    document: str
    page: str
    url: str
    first_text: str
    # The words of the document's first recorded version that holds this page ("" if none).
    document_words: str = ""

    @property
    def source_id(self) -> str:
        """The catalog source id of this page."""
        return f"{self.document}_{self.page}"[:60]


def captures(doc_dir: Path, archive: str) -> Iterator[tuple[dict[str, Any], bytes]]:
    """Every capture of one page archive in recording order, with its manifest step."""
    steps = json.loads((doc_dir / "manifest.json").read_text())["steps"]
    by_member = {s["capture_member"]: s for s in steps if s["capture_archive"] == archive}
    with tarfile.open(doc_dir / archive, "r|xz") as tf:
        for member in tf:
            fh = tf.extractfile(member)
            if fh is not None:
                yield by_member[member.name], fh.read()


def capture_text(body: bytes, url: str, mime_type: str = "text/html") -> str | None:
    """A capture's text as citewatch extracts it (None when it does not extract)."""
    try:
        return extract(body, content_type=mime_type, url=url).text
    except ExtractError:
        return None


def first_text(doc_dir: Path, archive: str, url: str) -> str:
    """The extracted text of the first capture of a page ('' when it does not extract)."""
    for step, body in captures(doc_dir, archive):
        return capture_text(body, url, step["mime_type"]) or ""
    return ""


_NOT_TEXT = "//script|//style|//noscript|//template"


def raw_text(body: bytes, mime_type: str = "text/html") -> str:
    """A capture's visible words by a neutral, rule-free reading (no citewatch extraction rule).

    HTML: every text node of the document but scripts, styles and templates, one space
    apart; PDF: pypdf's page text. Used for ground truth, which must not depend on the
    extractor being measured.
    """
    if mime_type == "application/pdf":
        from pypdf import PdfReader

        return words_of(" ".join(p.extract_text() or "" for p in PdfReader(BytesIO(body)).pages))
    try:
        root = lxml.html.fromstring(body)
    except (lxml.etree.ParserError, ValueError):
        return ""
    for element in root.xpath(_NOT_TEXT):
        element.drop_tree()
    return words_of(" ".join(root.itertext()))


def version_texts(doc_dir: Path, versions: list[dict[str, Any]]) -> dict[str, str]:
    """The text of each recorded version of a document, by sha."""
    out = {}
    with tarfile.open(doc_dir / "versions.tar.xz", "r:xz") as tf:
        for v in versions:
            fh = tf.extractfile(v["file"].split(":", 1)[1])
            out[v["sha"]] = fh.read().decode("utf-8") if fh is not None else ""
    return out


def previous_version(versions: list[dict[str, Any]], i: int) -> dict[str, Any] | None:
    """The version recorded before ``versions[i]`` for any of its pages (None: the first)."""
    pages = set(versions[i]["pages"])
    earlier = [v for v in versions[:i] if set(v["pages"]) & pages]
    return earlier[-1] if earlier else None


_WORD = re.compile(r"\w+")


def words_of(text: str) -> str:
    """The folded words of a text, one space apart (markdown and list marks dropped)."""
    return " ".join(_WORD.findall(fold(text)))


def document_words(doc_dir: Path, page: str) -> str:
    """The words of the first recorded version of a document that includes this page."""
    manifest = json.loads((doc_dir / "manifest.json").read_text())
    version = next((v for v in manifest["versions"] if page in v["pages"]), None)
    if version is None:
        return ""
    archive, member = version["file"].split(":", 1)
    with tarfile.open(doc_dir / archive, "r:xz") as tf:
        fh = tf.extractfile(member)
        return words_of(fh.read().decode("utf-8")) if fh is not None else ""


def corpus_pages(corpus: Path, documents: Iterable[str] | None = None) -> list[Page]:
    """Every page of the corpus (or of the given service/document keys) with its first text."""
    wanted = set(documents) if documents else None
    out = []
    for manifest in sorted(corpus.glob("*/*/manifest.json")):
        data = json.loads(manifest.read_text())
        key = f"{data['service_slug']}/{data['document_slug']}"
        if wanted is not None and key not in wanted:
            continue
        for page in data["pages"]:
            url = page["urls"][0]
            text = first_text(manifest.parent, page["captures_archive"], url)
            words = document_words(manifest.parent, page["page"])
            out.append(
                Page(data["service_slug"], data["document_slug"], page["page"], url, text, words)
            )
    return out


def is_statement(sentence: str) -> bool:
    """Whether a sentence reads as a statement an editor would quote."""
    words = sentence.split()
    if len(words) < MIN_QUOTE_WORDS or len(sentence) > MAX_QUOTE_CHARS or "|" in sentence:
        return False
    if not sentence.endswith(_STATEMENT_END):
        return False
    lettered = sum(1 for w in words if w.strip(".,;:()\"“”’'").isalpha())
    return lettered >= MIN_LETTER_WORDS * len(words)


def evidence_quotes(text: str, terms: tuple[str, ...], document: str = "") -> list[str]:
    """The sentences of a text that speak about a criterion, most topic terms first.

    With ``document`` (words of the document's first version), only sentences of that
    document count.
    """
    scored = []
    within = f" {document} " if document else ""
    # Sentences of one block each: an editor quotes a statement, never across a line break.
    blocks = (s for line in text.splitlines() for s in sentences(line))
    for position, sentence in enumerate(dict.fromkeys(blocks)):
        if not is_statement(sentence):
            continue
        if within and f" {words_of(sentence)} " not in within:
            continue
        hits = match_terms(sentence, terms)[0]
        if hits:
            scored.append((-len(hits), position, sentence))
    return [s for _, _, s in sorted(scored)[:QUOTES_PER_PAGE]]


# The catalog `kind:` an editor would give each corpus document.
KINDS = {
    "privacy-policy": "privacy-policy",
    "data-processor-agreement": "dpa",
    "terms-of-service": "terms",
    "commercial-terms": "terms",
    "developer-terms": "terms",
    "acceptable-use-policy": "terms",
}


def source_kind(document: str) -> str:
    """The source kind of a corpus document slug ("other" for cookie policies, imprints)."""
    return KINDS.get(document, "other")


def write_catalog(
    folder: Path, pages: Iterable[Page], urls: Mapping[str, str] | None = None
) -> dict[str, Page]:
    """Write the catalog folder; returns the pages by "service/source_id".

    ``urls`` maps "service/source_id" to the URL to crawl (the replay server's), else the
    page's own URL is written.
    """
    criteria = default_taxonomy()
    by_service: dict[str, list[Page]] = {}
    for page in pages:
        by_service.setdefault(page.service, []).append(page)
    (folder / "tools").mkdir(parents=True, exist_ok=True)
    index: dict[str, Page] = {}
    for service, group in by_service.items():
        sources = []
        for p in group:
            index[f"{service}/{p.source_id}"] = p
            url = (urls or {}).get(f"{service}/{p.source_id}", p.url)
            sources.append({"id": p.source_id, "url": url, "kind": source_kind(p.document)})
        ratings = {}
        for criterion in criteria:
            evidence = [
                {"source": p.source_id, "quote": q}
                for p in group
                for q in evidence_quotes(p.first_text, criterion.terms(), p.document_words)
            ]
            rating: dict[str, object] = {
                "rating": "unknown",
                "sources": [p.source_id for p in group],
            }
            if evidence:
                rating["evidence"] = evidence
            ratings[criterion.id] = rating
        tool = {"id": service, "name": service, "sources": sources, "ratings": ratings}
        (folder / "tools" / f"{service}.yaml").write_text(
            yaml.safe_dump(tool, allow_unicode=True, sort_keys=False)
        )
    return index
