"""Work bounds on hostile page sizes: time and peak memory of one change's analysis.

Each case runs in a fresh child process (so its peak RSS is its own) through the crawl's
decision code for one changed page — extraction, block diff, significance, sentences, flags
with an evidence quote — and prints seconds and peak RSS next to the targets of issue 14
(a 20 MB page diffs in <= 500 MB and <= 10 s).

    .venv/bin/python bench/bounds.py
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from crawler.extract.document import extract
from diffs.flags import Quote, RatingRef, flag_change
from diffs.significance import assess
from crawler.catalog.taxonomy import default_taxonomy
from diffs.text import diff_blocks

case = sys.argv[2]
if case == "tiny-paragraphs":  # 400,000 paragraphs of one word, first and last changed
    paras = [f"p{i}" for i in range(400_000)]
    edited = ["first changed", *paras[1:-1], "last changed"]
else:  # a 20 MB policy: 40,000 long paragraphs, two distant edits
    sentence = "Customer data is processed in the European Union and kept for thirty days. "
    paras = [f"Clause {i}. " + sentence * 6 for i in range(40_000)]
    edited = list(paras)
    edited[10] = edited[10].replace("thirty", "ninety")
    edited[-10] = edited[-10].replace("European Union", "United States")
old_html = ("<html><body><h1>Policy</h1>" + "".join(f"<p>{p}</p>" for p in paras)).encode()
new_html = ("<html><body><h1>Policy</h1>" + "".join(f"<p>{p}</p>" for p in edited)).encode()
started = time.perf_counter()
old = extract(old_html, content_type="text/html", url="u").blocks
new = extract(new_html, content_type="text/html", url="u").blocks
diff = diff_blocks(old, new)
verdict = assess(diff)
rating = RatingRef(tool="t", criterion="server-location", rating="yes", sources=("p",),
                   quotes=(Quote("p", "Customer data is processed in the European Union"),))
flags = flag_change("p", "\n".join(old), "\n".join(new), diff, [rating],
                    {c.id: c for c in default_taxonomy()})
print(json.dumps({"bytes": len(new_html), "seconds": time.perf_counter() - started,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "tier": verdict.tier, "hunks": len(diff.hunks),
                  "reasons": len(flags.reasons)}))
"""


def main() -> int:
    """Run each case in a child and print its figures."""
    print(f"{'case':<18} {'MB':>6} {'seconds':>8} {'peak RSS MB':>12} tier         hunks reasons")
    for case in ("tiny-paragraphs", "long-policy"):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(ROOT), case],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            print(
                f"{case}: failed after {time.perf_counter() - started:.1f} s: {done.stderr[-500:]}"
            )
            continue
        r = json.loads(done.stdout)
        print(f"{case:<18} {r['bytes'] / 1e6:>6.1f} {r['seconds']:>8.1f} {r['rss_mb']:>12.0f} "
              f"{r['tier']:<12} {r['hunks']:>5} {r['reasons']:>7}")  # fmt: skip
    print(f"(this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
