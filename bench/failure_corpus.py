"""Run the failure classifier over every real capture of the corpus: how many false failures?

Every capture in the corpus is a page the archive recorded as good content, so each
`blocked` or `suspicious` verdict here is a false one. For every page, captures are taken in
recording order like a crawl would see them (a capture judged failed does not become the last
good version). Also prints the figures the constants in crawler/extract/failures.py rest on: the
smallest text ratio between consecutive good captures (vs COLLAPSE_RATIO), the smallest good
text (vs WALL_MAX_CHARS / CONSENT_MAX_CHARS), and how many good captures carry a challenge or
consent marker in their raw HTML (why markers alone are never enough).

    .venv/bin/python bench/failure_corpus.py [--corpus ../shared/corpus] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
from collections import Counter
from dataclasses import asdict, dataclass
from multiprocessing import Pool
from pathlib import Path
from typing import Any

from crawler.extract.document import ExtractError, extract
from crawler.extract.failures import CHALLENGE_MARKERS, SCAN_BYTES, WIDGET_MARKERS, page_failure

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@dataclass(frozen=True, slots=True)
class Capture:
    """What the classifier said about one capture."""

    page: str
    member: str
    chars: int
    ratio: float | None  # text size / the last good one's, when both were taken at one URL
    failure: str | None  # "class: reason"
    challenge: bool  # a challenge marker occurs in the raw body
    widget: bool  # a captcha/consent marker occurs in the raw body
    head: str  # the text's first characters, to read what a failure was


def _markers(raw: bytes, markers: tuple[str, ...]) -> bool:
    hay = raw[:SCAN_BYTES].decode("utf-8", "replace").lower()
    return any(m in hay for m in markers)


def replay_page(job: tuple[str, str, dict[str, str]]) -> list[Capture]:
    """Classify every capture of one page archive in order (runs in a worker)."""
    archive, page, urls = job
    out: list[Capture] = []
    last_good: tuple[int, str, bytes] | None = None  # characters, archive URL, raw body
    with tarfile.open(archive, "r|xz") as tf:
        for member in tf:
            fh = tf.extractfile(member)
            if fh is None:
                continue
            raw, url = fh.read(), urls[member.name]
            flags = (_markers(raw, CHALLENGE_MARKERS), _markers(raw, WIDGET_MARKERS))
            try:
                text = extract(raw, content_type="text/html", url=url).text
            except ExtractError as exc:
                out.append(Capture(page, member.name, 0, None, f"suspicious: {exc}", *flags, ""))
                continue
            failure = page_failure(
                raw, text, last_good[0] if last_good else None, last_good[2] if last_good else None
            )
            same_url = last_good is not None and last_good[1] == url
            ratio = len(text) / last_good[0] if last_good and same_url else None
            verdict = f"{failure.failure_class}: {failure.reason}" if failure else None
            out.append(Capture(page, member.name, len(text), ratio, verdict, *flags, text[:60]))
            if failure is None:
                last_good = (len(text), url, raw)
    return out


def main(argv: list[str] | None = None) -> int:
    """Classify the corpus and print the false-failure count and the margins."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every failed capture")
    args = parser.parse_args(argv)
    jobs = []
    for manifest in sorted(args.corpus.glob("*/*/manifest.json")):
        data = json.loads(manifest.read_text())
        doc = f"{manifest.parent.parent.name}/{manifest.parent.name}"
        for page in data["pages"]:
            archive = page["captures_archive"]
            urls = {
                s["capture_member"]: s["url"]
                for s in data["steps"]
                if s["capture_archive"] == archive
            }
            jobs.append((str(manifest.parent / archive), f"{doc}/{page['page']}", urls))
    with Pool(args.workers) as pool:
        captures = [c for page in pool.map(replay_page, jobs) for c in page]
    good = [c for c in captures if c.failure is None]
    ratios = [c for c in good if c.ratio is not None]
    smallest_ratio = min(ratios, key=lambda c: c.ratio or 0.0)  # consecutive, same URL
    figures: dict[str, Any] = {
        "pages": len(jobs),
        "captures": len(captures),
        "failures": len(captures) - len(good),
        "failed": [asdict(c) for c in captures if c.failure is not None],
        "smallest_ratio": smallest_ratio.ratio,
        "smallest_ratio_at": f"{smallest_ratio.page} {smallest_ratio.member}",
        "smallest_text_chars": min(c.chars for c in good),
        "good_with_challenge_marker": sum(c.challenge for c in good),
        "good_with_widget_marker": sum(c.widget for c in good),
        "smallest_good_text_with_widget_marker": min(
            (c.chars for c in good if c.widget), default=None
        ),
        "failures_by_text": dict(
            Counter(f"{c.failure.split(':')[0]} {c.head!r}" for c in captures if c.failure)
        ),
    }
    if args.json:
        print(json.dumps(figures, indent=1))
        return 0
    for name, value in figures.items():
        if name not in ("failed", "failures_by_text"):
            print(f"{name:>28}: {value}")
    for text, count in figures["failures_by_text"].items():
        print(f"  {count:>4} x {text}")
    for c in figures["failed"] if args.verbose else []:
        print(f"  {c['page']} {c['member']}: {c['failure']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
