"""The offline replay engine: every capture of the corpus through the crawl's own decision code.

Each page's captures, in recording order, go through ``crawler.ingest.analysis.analyze`` (extract,
failure classes, diff, assess, flag), exactly as successive crawls would see them: a fetch
with the capture's bytes, its real MIME type and its manifest date; the previous *version*
(not the previous capture: a collapsed page or a challenge is a failed fetch, never a
version) with the date it was taken; evidence anchors carried from version to version. The
catalog is the benchmark catalog of ``bench/corpus_catalog.py``. Flagging runs twice per
capture: with the catalog's evidence quotes, and with the same catalog without any quote
("topics only": real catalogs often have none). Both runs share one extraction.

Used by ``bench/noise_offline.py``, ``bench/flags_offline.py`` and the regression gate
(``tests/test_bench_gate.py``):

    .venv/bin/python bench/offline.py [--corpus DIR] [--documents s/d,...] [--dump FILE]
        [--write-baseline] [--no-cache] [--knob NAME=VALUE]...
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import baseline
import cache
import scoring
import worker
from corpus_catalog import corpus_pages, write_catalog
from truth import load_truth
from worker import PageJob, StepRecord

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@dataclass(frozen=True, slots=True)
class Prepared:
    """A catalog written for a corpus, and one job per page (biggest first)."""

    corpus: Path
    catalog: Path
    jobs: tuple[PageJob, ...]


@contextmanager
def prepare(corpus: Path, documents: Sequence[str] = ()) -> Iterator[Prepared]:
    """Write the benchmark catalog (in a temporary folder) and list the page jobs."""
    pages = corpus_pages(corpus, documents or None)
    with tempfile.TemporaryDirectory(prefix="citewatch-bench-") as tmp:
        index = write_catalog(Path(tmp), pages)
        jobs = []
        for key, page in index.items():
            doc = f"{page.service}/{page.document}"
            manifest = json.loads((corpus / doc / "manifest.json").read_text())
            entry = next(p for p in manifest["pages"] if p["page"] == page.page)
            jobs.append(
                PageJob(
                    doc=doc,
                    doc_dir=str(corpus / doc),
                    archive=entry["captures_archive"],
                    page=page.page,
                    service=page.service,
                    source_id=key.split("/", 1)[1],
                    captures=entry["captures"],
                )
            )
        jobs.sort(key=lambda j: (-j.captures, j.doc, j.page))
        yield Prepared(corpus, Path(tmp), tuple(jobs))


def replay(
    prepared: Prepared,
    knob_values: Mapping[str, float] | None = None,
    *,
    extractor: str = "lxml",
    workers: int = 2,
    cache_dir: Path | None = None,
    label: str = "",
) -> dict[tuple[str, int], StepRecord]:
    """Replay every page (in worker processes) with these knob values; records by (doc, step)."""
    settings = worker.Settings(
        catalog=str(prepared.catalog),
        extractor=extractor,
        knobs=tuple(sorted((knob_values or {}).items())),
        cache=str(cache_dir) if cache_dir else None,
    )
    out: dict[tuple[str, int], StepRecord] = {}
    started = time.perf_counter()
    with Pool(workers, initializer=worker.init, initargs=(settings,)) as pool:
        for n, records in enumerate(pool.imap_unordered(worker.replay_page, prepared.jobs), 1):
            out.update(((r.doc, r.step), r) for r in records)
            print(
                f"\r  {label or 'replay'}: {n}/{len(prepared.jobs)} pages, "
                f"{time.perf_counter() - started:.0f} s",
                end="" if n < len(prepared.jobs) else "\n",
                file=sys.stderr,
            )
    return out


def knob_values(pairs: Sequence[str]) -> dict[str, float]:
    """Knob values from NAME=VALUE options."""
    out: dict[str, float] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        out[name] = float(value) if "." in value else int(value)
    return out


def add_common(parser: argparse.ArgumentParser) -> None:
    """The options every offline bench takes."""
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--documents", default="", help="comma list of service/document slugs")
    parser.add_argument("--no-cache", action="store_true", help="extract every capture anew")
    parser.add_argument(
        "--knob", action="append", default=[], metavar="NAME=VALUE", help="run with a value"
    )


def cache_folder(args: argparse.Namespace) -> Path | None:
    """The cache folder the options ask for (None: no cache)."""
    return None if args.no_cache else cache.default_dir()


def main(argv: list[str] | None = None) -> int:
    """Replay the corpus, print the scores; optionally dump records or write the baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common(parser)
    parser.add_argument("--dump", type=Path, help="write every step record as JSON ('-': stdout)")
    parser.add_argument("--json", action="store_true", help="print the gate's figures as JSON")
    parser.add_argument("--write-baseline", action="store_true", help=f"pin {baseline.PATH}")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    documents = [d for d in args.documents.split(",") if d]
    with prepare(args.corpus, documents) as prepared:
        records = replay(
            prepared, knob_values(args.knob), workers=args.workers, cache_dir=cache_folder(args)
        )
    if args.dump:
        rows = [asdict(records[k]) for k in sorted(records)]
        text = json.dumps(rows, indent=0, sort_keys=True)
        if str(args.dump) == "-":
            print(text)
        else:
            args.dump.write_text(text)
        return 0
    truth = load_truth(args.corpus, args.workers, cache_folder(args))
    seconds = time.perf_counter() - started
    scores = scoring.score(truth, records)
    if args.json:
        print(json.dumps(baseline.figures(scores)))
        return 0
    print(scoring.alert_table(scores))
    print(scoring.flag_table(scores))
    print(scoring.headline(scores))
    print(scoring.unseen_list(truth))
    print(f"\nwall={seconds:.1f}s  workers={args.workers}")
    if args.write_baseline:
        baseline.write(scores)
        print(f"baseline written to {baseline.PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
