"""The corpus's ground truth, step by step: what each scored capture is, by the corpus alone.

Read from the manifests and ``labels.json`` only (and the corpus's own version texts and raw
captures for the two derived facts below), never from citewatch's extractor, so that what
counts against the product does not depend on the product:

- ``upgrade_only``: the step's change was recorded only inside a declaration upgrade
  (``bench/upgrades.py``): a real change without a label, counted apart;
- ``against_stub``: the step's label was written against a stub version (under
  ``STUB_CHARS`` characters, such as Mistral's "Redirecting to legal.mistral.ai"), which
  citewatch never stores (a *suspicious* fetch): it compares with the last good text, so the
  label's criteria (everything the document speaks about) describe another comparison;
- ``unseen``: substantive changes no crawler could see: the version was made from a page's
  first capture (nothing to compare with) or from an unscored step, or the capture's raw
  words and links are those of the capture before it. They are listed, never scored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import cache
import lxml.html  # type: ignore[import-untyped]
from corpus_catalog import captures, previous_version, raw_text, version_texts
from upgrades import corpus_absorbed

# A recorded version shorter than this is a redirect or loading stub, not a document (the
# shortest real document of the corpus, an imprint, has 2,294 characters).
STUB_CHARS = 200
_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Label:
    """A hand label of one recorded change (labels.json)."""

    sha: str
    substantive: bool
    scope: str
    criteria: frozenset[str]
    noise_kind: str | None
    why: str


@dataclass(frozen=True, slots=True)
class StepTruth:
    """What the corpus says about one capture of one page."""

    doc: str  # service/document
    step: int
    page: str
    date: str
    scored: bool
    label: Label | None  # the label of the change this capture records (real changes only)
    upgrade_only: bool = False
    against_stub: bool = False

    @property
    def service(self) -> str:
        """The service slug."""
        return self.doc.split("/", 1)[0]

    @property
    def substantive(self) -> bool:
        """A labelled substantive change."""
        return self.label is not None and self.label.substantive


@dataclass(frozen=True, slots=True)
class Unseen:
    """A substantive change no crawler could see, and why."""

    doc: str
    step: int
    why: str
    label: str


@dataclass(frozen=True, slots=True)
class Truth:
    """Ground truth of the whole corpus."""

    steps: Mapping[tuple[str, int], StepTruth]
    unseen: tuple[Unseen, ...]

    def services(self) -> tuple[str, ...]:
        """The services, sorted."""
        return tuple(sorted({t.service for t in self.steps.values()}))


def _label(data: Mapping[str, Any]) -> Label:
    return Label(
        data["version_sha"], bool(data["substantive"]), data["scope"],
        frozenset(data["criteria"]), data.get("noise_kind"), data["why"],
    )  # fmt: skip


def _stubbed(doc_dir: Path, data: Mapping[str, Any]) -> set[str]:
    """The version shas of this document whose previous recorded version is a stub."""
    versions = data["versions"]
    texts = version_texts(doc_dir, versions)
    out: set[str] = set()
    for i, version in enumerate(versions):
        before = previous_version(versions, i)
        if before is not None and len(texts[before["sha"]].strip()) < STUB_CHARS:
            out.add(version["sha"])
    return out


def _reading(body: bytes, mime: str) -> tuple[str, tuple[str, ...]]:
    """A capture's raw words and link targets."""
    links: tuple[str, ...] = ()
    if mime == "text/html":
        try:
            links = tuple(sorted(lxml.html.fromstring(body).xpath("//a/@href")))
        except ValueError:
            links = ()
    return raw_text(body, mime), links


def _unchanged_steps(doc_dir: Path, wanted: set[int]) -> list[int]:
    """Of the wanted steps, those whose raw words and links equal the previous capture's."""
    data = json.loads((doc_dir / "manifest.json").read_text())
    out = []
    for page in data["pages"]:
        before: tuple[bytes, str] | None = None
        for step, body in captures(doc_dir, page["captures_archive"]):
            if step["step"] in wanted and before is not None:
                now, then = _reading(body, step["mime_type"]), _reading(*before)
                out += [step["step"]] if now == then else []
            before = (body, step["mime_type"])
    return out


def _job(args: tuple[str, list[int]]) -> list[int]:
    return _unchanged_steps(Path(args[0]), set(args[1]))


def _compute(corpus: Path, workers: int) -> dict[str, Any]:
    """Ground truth as JSON-ready lists (what the cache stores)."""
    labels = {x["version_sha"]: x for x in json.loads((corpus / "labels.json").read_text())}
    steps, unseen, checks = [], [], []
    for manifest in sorted(corpus.glob("*/*/manifest.json")):
        data = json.loads(manifest.read_text())
        doc = f"{data['service_slug']}/{data['document_slug']}"
        stubbed = _stubbed(manifest.parent, data)
        substantive = []
        for s in data["steps"]:
            label = labels.get(s["version_sha"] or "") if s["real_change"] else None
            steps.append([doc, s["step"], s["page"], s["date"], s["scored"], label,
                          s["version_sha"] in stubbed])  # fmt: skip
            if label and label["substantive"] and not s["scored"]:
                why = "first capture of its page" if s["window_start"] else "unscored step"
                unseen.append([doc, s["step"], why, label["why"]])
            elif label and label["substantive"]:
                substantive.append(s["step"])
        checks.append((str(manifest.parent), substantive))
    with Pool(workers) as pool:
        for (folder, _), same in zip(checks, pool.map(_job, checks), strict=True):
            doc = "/".join(Path(folder).parts[-2:])
            for n in same:
                why = "raw words and links equal the capture before"
                unseen.append([doc, n, why, next(x[5]["why"] for x in steps if x[:2] == [doc, n])])
    upgrade = sorted(corpus_absorbed(corpus, workers))
    return {"steps": steps, "unseen": unseen, "upgrade": [list(u) for u in upgrade]}


def load_truth(corpus: Path, workers: int = 2, folder: Path | None = None) -> Truth:
    """The corpus's ground truth (cached in ``folder`` by corpus and bench code)."""
    files = [corpus / "labels.json", *sorted(corpus.glob("*/*/manifest.json"))]
    files += [_HERE / f for f in ("truth.py", "upgrades.py", "corpus_catalog.py")]
    path = (folder / f"truth-{cache.key([str(corpus)], files)}.json.gz") if folder else None
    raw = cache.read(path) if path else None
    if raw is None:
        raw = _compute(corpus, workers)
        if path:
            cache.write(path, raw)
    upgrade = {(d, n) for d, n in raw["upgrade"]}
    steps = {
        (doc, n): StepTruth(
            doc, n, page, date, scored, _label(label) if label else None, (doc, n) in upgrade, stub
        )
        for doc, n, page, date, scored, label, stub in raw["steps"]
    }
    unseen = tuple(Unseen(*u) for u in raw["unseen"])
    return Truth(steps, unseen)
