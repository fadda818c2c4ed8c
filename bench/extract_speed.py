"""Extraction speed benchmark (not a test): `extract` of the corpus's legal pages of 300-500 KB.

    .venv/bin/python bench/extract_speed.py [--corpus DIR] [--sample 40] [--code DIR]

Takes the distinct HTML captures of the dev corpus whose body is 300-500 KB (the issue's size
of a legal page), every k-th of them so that at most --sample remain, and times
`crawler.extract.extract` on each: CPU time of the process (time.process_time), best of
REPEATS, so the figure is the code's rather than the shared machine's queue (wall time at a
load average of 8 was 4-5 times the CPU time). Prints the median and worst milliseconds.
With --code DIR, the same bodies are also timed with that checkout's code (a child process,
PYTHONPATH=DIR), in the same run, and the two extractions' texts are compared (they must be
identical).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
MIN_BYTES, MAX_BYTES = 300_000, 500_000  # the legal page: 300-500 KB of HTML
REPEATS = 3  # best of three per body: the machine is shared


def sample(corpus: Path, folder: Path, wanted: int) -> list[tuple[str, Path]]:
    """Write the sampled bodies into `folder`: (url, file) in corpus order."""
    found: list[tuple[str, str, str, str]] = []  # (manifest dir, archive, member, url)
    seen: set[str] = set()
    for manifest in sorted(corpus.glob("*/*/manifest.json")):
        for step in json.loads(manifest.read_text())["steps"]:
            size, sha = step.get("bytes") or 0, step.get("sha256")
            if step.get("mime_type") != "text/html" or not MIN_BYTES <= size <= MAX_BYTES:
                continue
            if sha in seen:
                continue
            seen.add(sha)
            found.append(
                (str(manifest.parent), step["capture_archive"], step["capture_member"], step["url"])
            )
    step_k = max(1, len(found) // wanted)
    chosen = found[::step_k][:wanted]
    out: list[tuple[str, Path]] = []
    by_archive: dict[tuple[str, str], dict[str, str]] = {}
    for doc_dir, archive, member, url in chosen:
        by_archive.setdefault((doc_dir, archive), {})[member] = url
    for (doc_dir, archive), members in by_archive.items():
        with tarfile.open(Path(doc_dir) / archive, "r|xz") as tf:
            for entry in tf:
                if entry.name in members:
                    fh = tf.extractfile(entry)
                    if fh is None:
                        continue
                    body = fh.read()
                    target = folder / f"{len(out):03d}.html"
                    target.write_bytes(body)
                    out.append((members[entry.name], target))
    return out


def measure(bodies: list[tuple[str, Path]]) -> dict[str, object]:
    """Time the extraction of each body (this process's code): ms, and a hash of the texts."""
    from crawler.extract import ExtractError, extract

    ms: list[float] = []
    texts = hashlib.sha256()
    for url, path in bodies:
        body = path.read_bytes()
        best = float("inf")
        for _ in range(REPEATS):
            started = time.process_time()
            try:
                text = extract(body, content_type="text/html", url=url).text
            except ExtractError as exc:
                text = f"error: {exc}"
            best = min(best, time.process_time() - started)
        ms.append(best * 1000)
        texts.update(text.encode())
    return {"ms": ms, "texts": texts.hexdigest()}


def run_child(code: Path, listing: Path) -> dict[str, object]:
    """Measure with the code at `code` in a child process."""
    env = dict(os.environ, PYTHONPATH=str(code))
    args = [sys.executable, str(Path(__file__)), "--measure", str(listing)]
    done = subprocess.run(args, env=env, cwd=code, check=True, stdout=subprocess.PIPE)
    figures: dict[str, object] = json.loads(done.stdout)
    return figures


def line(name: str, figures: dict[str, object]) -> str:
    """Median and worst ms of one code version."""
    ms = figures["ms"]
    assert isinstance(ms, list)
    return f"{name}: median {statistics.median(ms):.1f} ms, worst {max(ms):.1f} ms (CPU)"


def main(argv: list[str] | None = None) -> int:
    """Sample, measure (and --code DIR), print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--code", type=Path, help="also measure this checkout (before/after)")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        listing = json.loads(args.measure.read_text())
        print(json.dumps(measure([(url, Path(p)) for url, p in listing])))
        return 0
    with tempfile.TemporaryDirectory(prefix="extract-speed-") as scratch:
        bodies = sample(args.corpus, Path(scratch), args.sample)
        listing = Path(scratch) / "listing.json"
        listing.write_text(json.dumps([(url, str(p)) for url, p in bodies]))
        sizes = sorted(p.stat().st_size for _, p in bodies)
        print(f"{len(bodies)} distinct captures of {sizes[0]:,}-{sizes[-1]:,} bytes")
        before = run_child(args.code.resolve(), listing) if args.code else None
        now = run_child(ROOT, listing)
    if before is not None:
        print(line(f"before ({args.code})", before))
        same = "identical" if before["texts"] == now["texts"] else "DIFFERENT"
    print(line("now", now))
    if before is not None:
        print(f"texts: {same}")
    print(f"(machine load average: {os.getloadavg()[0]:.1f}; 2 CPUs shared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
