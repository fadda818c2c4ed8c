"""The same pages give the same verdicts in every process: hash seeds do not leak into output.

Two child processes with different ``PYTHONHASHSEED`` each extract, diff, assess and flag the
bundled demo pages (every version of every page, against every taxonomy criterion), and, when
``../shared`` is beside the checkout, replay two corpus documents through the offline engine;
their outputs must be byte-identical. A set iterated into output, or a dict built from one,
would show here and not in a single-process test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

CHILD = r"""
import json, sys
from pathlib import Path
from crawler.extract.document import extract
from crawler.catalog.taxonomy import default_taxonomy
from diffs.flags import Quote, RatingRef, flag_change
from diffs.significance import assess
from diffs.text import diff_blocks

site = Path(sys.argv[1])
criteria = {c.id: c for c in default_taxonomy()}
out = []
for page in sorted(p for p in site.iterdir() if p.is_dir()):
    texts = [extract(v.read_bytes(), content_type="text/html", url=v.as_uri())
             for v in sorted(page.glob("v*.html"))]
    for old, new in zip(texts, texts[1:]):
        diff = diff_blocks(old.blocks, new.blocks)
        ratings = [RatingRef(tool="t", criterion=c, rating="yes", sources=(page.name,),
                             quotes=(Quote(page.name, old.blocks[len(old.blocks) // 2]),))
                   for c in sorted(criteria)]
        flags = flag_change(page.name, old.text, new.text, diff, ratings, criteria)
        out.append([page.name, new.blocks, repr(assess(diff)), repr(flags)])
print(json.dumps(out))
"""


def _run(seed: str, *args: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_demo_pages_give_the_same_output_under_two_hash_seeds() -> None:
    site = str(ROOT / "crawler" / "demo" / "site")
    first, second = _run("1", "-c", CHILD, site), _run("4242", "-c", CHILD, site)
    assert first == second
    assert len(first) > 1000  # the pages were really read


def test_corpus_replay_gives_the_same_records_under_two_hash_seeds() -> None:
    if not (SHARED / "corpus" / "labels.json").exists():
        if os.environ.get("CI"):
            raise AssertionError("../shared is missing; CI runs with it beside the checkout")
        return
    args = [str(ROOT / "bench" / "offline.py"), "--no-cache", "--dump", "-",
            "--documents", "deepseek/privacy-policy,vibe/privacy-policy"]  # fmt: skip
    runs = [json.loads(_run(seed, *args)) for seed in ("7", "99")]
    for records in runs:
        for record in records:
            record.pop("ms")  # the only field that may differ: time taken
    assert runs[0] == runs[1]
    assert any(r["tier"] == "substantive" for r in runs[0])
