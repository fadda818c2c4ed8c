"""Work bounds on hostile page sizes: time and peak memory of one change's analysis.

Each case runs in two fresh child processes (so each peak RSS is its own): the first extracts
both versions of one changed page and hands their texts to the second, which runs the
crawl's decision code on them — block diff, significance, sentences, flags with an evidence
quote — as the crawl does with a stored text and a new one. Both print seconds and peak RSS;
the second is what the targets of issue 14 bound (a 20 MB page diffs in <= 500 MB and
<= 10 s). The cases also include pages changed throughout (read coarsely, diffs.scale).

    .venv/bin/python bench/bounds.py
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

EXTRACT = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from crawler.extract.document import extract

case, out = sys.argv[2], sys.argv[3]
sentence = "Customer data is processed in the European Union and kept for thirty days. "
if case == "tiny-paragraphs":  # 400,000 paragraphs of one word, first and last changed
    paras = [f"p{i}" for i in range(400_000)]
    edited = ["first changed", *paras[1:-1], "last changed"]
elif case == "long-policy":  # a 20 MB policy: 40,000 long paragraphs, two distant edits
    paras = [f"Clause {i}. " + sentence * 6 for i in range(40_000)]
    edited = list(paras)
    edited[10] = edited[10].replace("thirty", "ninety")
    edited[-10] = edited[-10].replace("European Union", "United States")
elif case == "policy-rewritten":  # the same 20 MB policy, every paragraph reworded
    paras = [f"Clause {i}. " + sentence * 6 for i in range(40_000)]
    edited = [p.replace("thirty", "sixty") for p in paras]
else:  # "one-block": one 20 MB paragraph, two distant edits
    paras = [sentence * 260_000]
    edited = [paras[0].replace("thirty", "ninety", 1)[::-1].replace(
        "ytriht", "ytxis", 1)[::-1]]
old_html = ("<html><body><h1>Policy</h1>" + "".join(f"<p>{p}</p>" for p in paras)).encode()
new_html = ("<html><body><h1>Policy</h1>" + "".join(f"<p>{p}</p>" for p in edited)).encode()
started = time.perf_counter()
old = extract(old_html, content_type="text/html", url="u").text
new = extract(new_html, content_type="text/html", url="u").text
seconds = time.perf_counter() - started
with open(out, "w", encoding="utf-8") as fh:
    json.dump([old, new], fh)
print(json.dumps({"bytes": len(new_html), "seconds": seconds,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

ANALYSE = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from diffs.flags import Quote, RatingRef, flag_change
from diffs.significance import assess
from crawler.catalog.taxonomy import default_taxonomy
from diffs.text import diff_blocks, split_blocks

with open(sys.argv[2], encoding="utf-8") as fh:
    old_text, new_text = json.load(fh)
criteria = {c.id: c for c in default_taxonomy()}
started = time.perf_counter()
diff = diff_blocks(split_blocks(old_text), split_blocks(new_text))
verdict = assess(diff)
rating = RatingRef(tool="t", criterion="server-location", rating="yes", sources=("p",),
                   quotes=(Quote("p", "Customer data is processed in the European Union"),))
flags = flag_change("p", old_text, new_text, diff, [rating], criteria)
print(json.dumps({"seconds": time.perf_counter() - started,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "tier": verdict.tier, "hunks": len(diff.hunks),
                  "reasons": len(flags.reasons)}))
"""


def _child(code: str, *args: str) -> dict[str, Any] | str:
    """Run one child; its JSON line, or the tail of its error."""
    done = subprocess.run(
        [sys.executable, "-c", code, str(ROOT), *args],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return done.stderr[-500:]
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


CASES = ("tiny-paragraphs", "long-policy", "policy-rewritten", "one-block")


def main() -> int:
    """Run each case's two children and print their figures."""
    print(f"{'case':<17} {'MB':>5} | extraction: {'s':>5} {'RSS MB':>6} | analysis: {'s':>5} "
          f"{'RSS MB':>6}  tier         hunks reasons")  # fmt: skip
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            texts = str(Path(tmp) / "texts.json")
            e = _child(EXTRACT, case, texts)
            a = _child(ANALYSE, texts) if isinstance(e, dict) else e
        if isinstance(e, str) or isinstance(a, str):
            print(f"{case}: failed: {e if isinstance(e, str) else a}")
            continue
        print(f"{case:<17} {e['bytes'] / 1e6:>5.1f} | {e['seconds']:>17.1f} {e['rss_mb']:>6.0f} "
              f"| {a['seconds']:>15.1f} {a['rss_mb']:>6.0f}  {a['tier']:<12} {a['hunks']:>5} "
              f"{a['reasons']:>7}")  # fmt: skip
    print(f"(this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
