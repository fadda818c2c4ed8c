"""The citewatch command line with calibrated constants replaced (for the LOSO replay only).

    python bench/tuned.py '{"diffs.text.PAIR_CUTOFF": 40.0}' --db URL crawl CATALOG --json

The crawl's decisions (extraction, diff, significance, flags) run in this process, so patching
the product's modules here (``bench/knobs.py``, which checks the patch reaches every reader)
makes the crawl decide as it would have shipped with those values. Not a product feature.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import knobs

import diffs.flags  # noqa: F401
from crawler.cli import main

if __name__ == "__main__":
    values = json.loads(sys.argv[1])
    knobs.apply(values)
    sys.argv = ["citewatch", *sys.argv[2:]]
    main()
