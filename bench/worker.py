"""The offline engine's worker: one page's captures through ``crawler.ingest.analysis.analyze``.

Bench-only patches, installed once per worker process (``init``):

- the knob values of the run (``bench/knobs.py``);
- ``crawler.ingest.analysis.extract_source`` answers from a cache keyed by the body's hash, so the
  second flagging of a capture (topics only) does not extract again, and runs of knobs that
  do not touch extraction reuse the extractions on disk (keyed by the extractor, the
  extraction knobs' values, the product's ``HTML_RULES``/``PDF_RULES``/``TEXT_RULES`` and
  the source of the extraction modules);
- ``diffs.flags.topic_reason`` is wrapped to note, per flagged criterion, which topic terms
  matched and whether the source's kind alone would raise the flag (vocabulary LOSO).
"""

from __future__ import annotations

import hashlib
import inspect
import time
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import cache
import extractors
import knobs
from corpus_catalog import captures

import crawler.extract.document
import crawler.ingest.analysis
import diffs.flags
from crawler.catalog.model import Catalog, Source, Tool, load_catalog
from crawler.extract.document import ExtractError, Extraction
from crawler.fetch.request import FetchResult
from crawler.ingest.analysis import Analysis, analyze, anchor_states, stored_anchors
from diffs.text import diff_blocks, split_blocks
from diffs.topics import match_terms, without_references
from storage.records import AnchorState, SnapshotRecord


@dataclass(frozen=True, slots=True)
class Settings:
    """What every worker of one replay runs with."""

    catalog: str
    extractor: str
    knobs: tuple[tuple[str, float], ...]
    cache: str | None


@dataclass(frozen=True, slots=True)
class PageJob:
    """One page of one document to replay."""

    doc: str
    doc_dir: str
    archive: str
    page: str
    service: str
    source_id: str
    captures: int


@dataclass(frozen=True, slots=True)
class Flag:
    """One reason a change puts a rating in doubt."""

    criterion: str
    kind: str  # evidence-lost | evidence-altered | topic
    words: tuple[str, ...]  # the page's words that matched
    terms: tuple[str, ...] = ()  # the vocabulary entries that matched (topic reasons)
    by_kind: bool = False  # the source's kind alone would raise this topic reason


@dataclass(frozen=True, slots=True)
class StepRecord:
    """What the crawl's decision code made of one capture."""

    doc: str
    step: int
    page: str
    outcome: str  # new | changed | unchanged | failed
    failure_class: str | None
    significant: bool | None
    tier: str  # substantive | minor | noise
    reason: str
    summary: str  # removed and added text, for reading misses and false alerts
    flags: tuple[Flag, ...]  # with the catalog's evidence quotes
    topic_flags: tuple[Flag, ...]  # with a catalog without quotes
    ms: float

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StepRecord:
        """A record back from ``dataclasses.asdict`` JSON."""

        def flags(rows: list[dict[str, Any]]) -> tuple[Flag, ...]:
            return tuple(
                Flag(r["criterion"], r["kind"], tuple(r["words"]), tuple(r["terms"]), r["by_kind"])
                for r in rows
            )

        fields = {**data, "flags": flags(data["flags"]), "topic_flags": flags(data["topic_flags"])}
        return cls(**fields)


_STATE: dict[str, Any] = {}
_TOPICS: dict[str, tuple[tuple[str, ...], bool]] = {}
_ORIGINAL_TOPIC_REASON = diffs.flags.topic_reason
_TOPIC_SIGNATURE = inspect.signature(_ORIGINAL_TOPIC_REASON)


def _recording_topic_reason(*args: Any, **kwargs: Any) -> Any:
    """diffs.flags.topic_reason, noting the terms that matched and the kind fallback."""
    reason = _ORIGINAL_TOPIC_REASON(*args, **kwargs)
    if reason is not None:
        bound = _TOPIC_SIGNATURE.bind(*args, **kwargs)
        bound.apply_defaults()
        criterion, changed = bound.arguments["criterion"], bound.arguments["changed"]
        terms = criterion.terms()
        found = (
            t for c in changed for text in c.texts()
            for t in match_terms(without_references(text), terms)[0]
        )  # fmt: skip
        statements = getattr(diffs.flags, "_statements", None)
        kind_alone = bound.arguments.get("kind") in criterion.kinds and (
            statements is None or bool(statements(changed))
        )
        _TOPICS[reason.criterion] = (tuple(dict.fromkeys(found)), kind_alone)
    return reason


def init(settings: Settings) -> None:
    """Install the run's knobs and the bench patches in this worker process."""
    knobs.apply(dict(settings.knobs))
    extract = extractors.EXTRACTORS[settings.extractor]
    catalog = load_catalog(settings.catalog)
    folder = None
    if settings.cache:
        rules = (
            crawler.extract.document.HTML_RULES,
            crawler.extract.document.PDF_RULES,
            crawler.extract.document.TEXT_RULES,
        )
        shaping = [kv for kv in settings.knobs if knobs.knob(kv[0]).extraction]
        key = cache.key([settings.extractor, rules, shaping], extractors.EXTRACTION_FILES)
        folder = Path(settings.cache) / f"extract-{key}"
    _STATE.update(catalog=catalog, extract=extract, folder=folder, memo={})
    crawler.ingest.analysis.extract_source = _extract_source
    diffs.flags.topic_reason = _recording_topic_reason


def _extract_source(body: bytes, content_type: str | None, url: str, source: Source) -> Extraction:
    """The run's extractor, answered from the page's cache when this body was seen."""
    memo: dict[str, Extraction | str] = _STATE["memo"]
    sha = hashlib.sha256(body).hexdigest()
    if sha not in memo:
        try:
            memo[sha] = _STATE["extract"](body, content_type, url, source)
        except ExtractError as exc:
            memo[sha] = str(exc)
        _STATE["dirty"] = True
    got = memo[sha]
    if isinstance(got, str):
        raise ExtractError(got)
    return got


def _cache_file(job: PageJob) -> Path | None:
    folder: Path | None = _STATE["folder"]
    return folder / f"{job.doc.replace('/', '_')}_{job.page}.json.gz" if folder else None


def _load_memo(job: PageJob) -> None:
    """This page's cached extractions (identical texts shared, so memory stays small)."""
    memo: dict[str, Extraction | str] = {}
    path = _cache_file(job)
    stored = cache.read(path) if path else None
    if stored:
        texts = {sha: Extraction(tuple(b), m) for sha, (b, m) in stored["texts"].items()}
        memo = {body: texts.get(ref, ref[1:]) for body, ref in stored["bodies"].items()}
    _STATE.update(memo=memo, dirty=False)


def _save_memo(job: PageJob) -> None:
    path = _cache_file(job)
    if path is None or not _STATE["dirty"]:
        return
    texts: dict[str, tuple[tuple[str, ...], str]] = {}
    bodies: dict[str, str] = {}
    for body, got in _STATE["memo"].items():
        if isinstance(got, str):
            bodies[body] = "!" + got
            continue
        ref = hashlib.sha256(repr((got.blocks, got.method)).encode()).hexdigest()
        texts[ref] = (got.blocks, got.method)
        bodies[body] = ref
    cache.write(path, {"texts": texts, "bodies": bodies})


def _flags(analysis: Analysis, topics: dict[str, tuple[tuple[str, ...], bool]]) -> tuple[Flag, ...]:
    out = []
    for r in analysis.reasons:
        noted = topics.get(r.criterion) if r.kind == "topic" else None
        terms, kind_alone = noted or ((), False)
        out.append(Flag(r.criterion, r.kind, tuple(r.matched_terms), terms, kind_alone))
    return tuple(out)


def _tier(analysis: Analysis) -> str:
    """The change's tier; a product without tiers: substantive when significant, else noise."""
    tier = getattr(analysis, "tier", None)
    if tier:
        return str(tier)
    return "substantive" if analysis.significant else "noise"


def _reason(analysis: Analysis) -> str:
    if analysis.outcome == "failed":
        return analysis.error or ""
    change = analysis.versions[-1][1] if analysis.versions else None
    return change.reason if change is not None else analysis.outcome


def _summary(old: str, new: str) -> str:
    diff = diff_blocks(split_blocks(old), split_blocks(new))
    gone = " / ".join(diff.removed_text())[:160]
    came = " / ".join(diff.added_text())[:160]
    return f"-[{gone}] +[{came}]"


def _tools(job: PageJob) -> tuple[Catalog, Tool, Tool, Source]:
    catalog: Catalog = _STATE["catalog"]
    tool = next(t for t in catalog.tools if t.id == job.service)
    source = next(s for s in tool.sources if s.id == job.source_id)
    bare = replace(tool, ratings=tuple(replace(r, evidence=()) for r in tool.ratings))
    return catalog, tool, bare, source


def replay_page(job: PageJob) -> list[StepRecord]:
    """Analyze every capture of one page in order, as successive crawls would."""
    _load_memo(job)
    catalog, tool, bare, source = _tools(job)
    previous: SnapshotRecord | None = None
    raws: dict[str, bytes] = {}
    anchors: dict[tuple[str, str], AnchorState] = {}
    out: list[StepRecord] = []
    for step, body in captures(Path(job.doc_dir), job.archive):
        started = time.perf_counter()
        when = datetime.fromisoformat(step["date"])
        result = FetchResult(
            key=source.id, url=step["url"], final_url=step["url"], redirects=(), status=200,
            content_type=step["mime_type"], etag=None, last_modified=None, body=body,
            error=None, error_kind=None, retry_after=None, started_at=when, elapsed_ms=0,
        )  # fmt: skip
        runs = []
        for which, stored in ((tool, list(anchors.values())), (bare, [])):
            _TOPICS.clear()
            analysis = analyze(
                result, which, source, catalog, partial(lambda p: p, previous), raws.__getitem__,
                partial(stored_anchors, stored),
            )  # fmt: skip
            runs.append((analysis, dict(_TOPICS)))
        (quoted, quoted_topics), (topical, topical_topics) = runs
        assert (quoted.outcome, quoted.significant) == (topical.outcome, topical.significant)
        tier = _tier(quoted)
        summary = ""
        if previous is not None and quoted.outcome == "changed" and tier != "noise":
            summary = _summary(previous.text, quoted.versions[-1][0].text)
        for a in anchor_states(quoted.evidence):
            anchors[(a.criterion_id, a.quote)] = a
        for snap, _change in quoted.versions:
            raw_sha = hashlib.sha256(snap.raw).hexdigest()
            raws = {raw_sha: snap.raw}
            previous = SnapshotRecord(
                id=0, source_pk=0, taken_at=when, raw_sha=raw_sha,
                text_sha=hashlib.sha256(snap.text.encode()).hexdigest(), text=snap.text,
                extract_key=snap.extract_key, content_type=snap.content_type,
                final_url=snap.final_url, technical=snap.technical,
            )  # fmt: skip
        out.append(
            StepRecord(
                doc=job.doc,
                step=step["step"],
                page=job.page,
                outcome=quoted.outcome,
                failure_class=quoted.failure_class,
                significant=quoted.significant,
                tier=tier,
                reason=_reason(quoted),
                summary=summary,
                flags=_flags(quoted, quoted_topics),
                topic_flags=_flags(topical, topical_topics),
                ms=round((time.perf_counter() - started) * 1000, 2),
            )
        )
    _save_memo(job)
    return out
