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

The rule is mechanical, with the corpus's own attribution evidence (word bigrams, as its
README attributes versions to pages): a scored step without a recorded change, between an
upgrade version and the version before it, whose added (or removed) word bigrams are at
least half among the bigrams the upgrade added (or removed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import pairwise
from multiprocessing import Pool
from pathlib import Path
from typing import Any

from corpus_catalog import capture_text, captures, previous_version, version_texts, words_of

# A step's change counts as the upgrade's when at least this share of its added (or removed)
# word bigrams are among the upgrade's.
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


def absorbed_steps(doc_dir: Path) -> set[int]:
    """The scored steps of one document whose change the corpus recorded only in an upgrade."""
    data = json.loads((doc_dir / "manifest.json").read_text())
    windows = list(_upgrades(data, version_texts(doc_dir, data["versions"])))
    if not windows:
        return set()
    out: set[int] = set()
    for page in data["pages"]:
        previous: Bigrams | None = None
        for step, body in captures(doc_dir, page["captures_archive"]):
            text = capture_text(body, step["url"])
            if text is None:
                continue
            now = bigrams(text)
            if previous is not None and step["scored"] and not step["real_change"]:
                n = step["step"]
                for start, end, added, removed in windows:
                    if start < n < end and _theirs(now - previous, previous - now, added, removed):
                        out.add(n)
            previous = now
    return out


def _theirs(gained: Bigrams, lost: Bigrams, added: Bigrams, removed: Bigrams) -> bool:
    """Whether a step's change is mostly the upgrade's (added or removed the same bigrams)."""
    return bool(
        (gained and len(gained & added) >= SHARE * len(gained))
        or (lost and len(lost & removed) >= SHARE * len(lost))
    )


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
