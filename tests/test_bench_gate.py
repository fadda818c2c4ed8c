"""The regression gate: the offline engine on the whole dev corpus against the pinned baseline.

Runs ``bench/offline.py --json`` (every capture of ``../shared/corpus`` through the crawl's
own decision code, with and without evidence quotes; about 2-3 minutes on two cores with a
cold extraction cache) and compares each service's and the pooled figures with
``bench/baseline.json``. Tolerances (``bench/baseline.py``): no fewer substantive changes
alerted; false alerts at most max(2, 10 %) above the pin; criteria recall and precision, with
quotes and topics only, at most 0.02 below; no more noise flags. An improvement passes and is
printed: re-pin with ``.venv/bin/python bench/offline.py --write-baseline`` (and say so in
the commit). Skips without ``../shared``, except in CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT / "bench"))

import baseline  # noqa: E402


@pytest.mark.slow
def test_offline_figures_do_not_regress() -> None:
    if not (SHARED / "corpus" / "labels.json").exists():
        if os.environ.get("CI"):
            pytest.fail("../shared is missing; CI runs with it beside the checkout")
        pytest.skip("../shared (the corpus) is not beside this checkout")
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "offline.py"), "--json"],
        capture_output=True, text=True, timeout=1500, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    now = json.loads(done.stdout)
    pinned = baseline.read()
    assert set(now) >= set(pinned), f"services missing: {set(pinned) - set(now)}"
    worse, better = baseline.compare(now, pinned)
    if better:
        print("better than the pinned baseline (re-pin with bench/offline.py --write-baseline):")
        print("\n".join(f"  {line}" for line in better))
    assert not worse, "regressions against bench/baseline.json:\n" + "\n".join(worse)
