"""Page changes the corpus recorded only inside a declaration upgrade, so never labelled.

Open Terms Archive records a text version when its extraction of a capture changes. When a
page changes so that the document's declaration no longer extracts it (a stale selector),
no version is recorded; when the declaration is later fixed, the new text arrives in an
``upgrade`` version, which the corpus does not score (its README: "raw changes that matter
to a reader may have been filtered out by the declarations"). The captures in between are
scored as "no real change" although the page's text did change, in words that the upgrade
version then holds.

Perplexity's DPA is the case in the dev corpus: capture 225 rewrites the addendum ("any
terms of service", subprocessors on a Trust Center list), the corpus's declaration is
upgraded at 227 and records that text as an upgrade. A flag or an alert on 225 is on a real
change with no label, not on a non-substantive one.

The rule is mechanical and uses only the corpus's own data, never citewatch's extractor (the
thing measured must not decide what counts against it): an upgrade's word bigrams added (or
removed) against the version before it (the corpus's ``versions.tar.xz`` texts) belong to
the **first** scored step of the window between the two versions whose *raw* capture text
(``corpus_catalog.raw_text``: every text node of the HTML, no rule) newly contains at least
half of the added bigrams (or newly lacks at least half of the removed ones). When that step
is a recorded real change, its label already covers the upgrade's words and nothing is
counted apart.

    .venv/bin/python bench/upgrades.py [CORPUS]   # lists (document, step) of every such step
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import pairwise
from multiprocessing import Pool
from pathlib import Path
from typing import Any

from corpus_catalog import captures, previous_version, raw_text, version_texts, words_of

# The share of an upgrade's added (or removed) bigrams a capture must newly hold (or lack).
SHARE = 0.5

Bigrams = frozenset[tuple[str, str]]


def bigrams(text: str) -> Bigrams:
    """The word bigrams of a text (case-folded)."""
    return frozenset(pairwise(words_of(text).split()))


def _upgrades(
    data: dict[str, Any], texts: dict[str, str]
) -> Iterator[tuple[int, int, Bigrams, Bigrams]]:
    """(first step, last step, bigrams added, bigrams removed) of each upgrade's window."""
    step_of = {s["snapshot_sha"]: s["step"] for s in data["steps"]}
    versions = data["versions"]
    for i, upgrade in enumerate(versions):
        if upgrade["kind"] != "upgrade":
            continue
        before = previous_version(versions, i)
        if before is None:
            continue
        old, new = bigrams(texts[before["sha"]]), bigrams(texts[upgrade["sha"]])
        start = max((step_of.get(s, 0) for s in before["snapshot_shas"]), default=0)
        end = min((step_of[s] for s in upgrade["snapshot_shas"] if s in step_of), default=0)
        if end > start and (new - old or old - new):
            yield start, end, new - old, old - new


def _raw_bigrams(doc_dir: Path, data: dict[str, Any], wanted: set[int]) -> dict[int, Bigrams]:
    """Raw-text bigrams of the wanted steps and of the capture before each (keyed -step)."""
    out: dict[int, Bigrams] = {}
    for page in data["pages"]:
        before: tuple[bytes, str] | None = None
        for step, body in captures(doc_dir, page["captures_archive"]):
            n = step["step"]
            if n in wanted:
                out[n] = bigrams(raw_text(body, step["mime_type"]))
                out[-n] = bigrams(raw_text(*before)) if before else frozenset()
            before = (body, step["mime_type"])
    return out


def _share(part: Bigrams, text: Bigrams) -> float:
    return len(part & text) / len(part) if part else 0.0


def _newly(now: Bigrams, then: Bigrams, added: Bigrams, removed: Bigrams) -> bool:
    """Whether a capture newly holds half the upgrade's added or lacks half its removed bigrams."""
    gained = _share(added, now) >= SHARE > _share(added, then)
    lost = 1 - _share(removed, now) >= SHARE > 1 - _share(removed, then) if removed else False
    return gained or lost


def absorbed_steps(doc_dir: Path) -> set[int]:
    """The scored steps of one document whose change the corpus recorded only in an upgrade."""
    data = json.loads((doc_dir / "manifest.json").read_text())
    windows = list(_upgrades(data, version_texts(doc_dir, data["versions"])))
    scored = {s["step"]: s for s in data["steps"] if s["scored"]}
    wanted = {n for start, end, _a, _r in windows for n in range(start + 1, end) if n in scored}
    if not wanted:
        return set()
    raw = _raw_bigrams(doc_dir, data, wanted)
    out: set[int] = set()
    for start, end, added, removed in windows:
        for n in sorted(wanted & set(range(start + 1, end))):
            if _newly(raw[n], raw[-n], added, removed):
                if not scored[n]["real_change"]:
                    out.add(n)
                break
    return out


def corpus_absorbed(corpus: Path, workers: int = 2) -> set[tuple[str, int]]:
    """(service/document, step) of every such step in the corpus."""
    dirs = [m.parent for m in sorted(corpus.glob("*/*/manifest.json"))]
    with Pool(workers) as pool:
        found = pool.map(absorbed_steps, dirs)
    return {
        (f"{d.parent.name}/{d.name}", n)
        for d, steps in zip(dirs, found, strict=True)
        for n in steps
    }


if __name__ == "__main__":
    import sys

    default = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    for key in sorted(corpus_absorbed(Path(sys.argv[1]) if len(sys.argv) > 1 else default)):
        print(*key)
