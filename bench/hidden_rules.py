"""How much of each page the hidden-markup rules of crawler/extract/chrome.py would remove.

For every capture of every HTML page of the corpus, each rule (``hidden`` attribute,
``aria-hidden="true"``, inline ``display:none``/``visibility:hidden``) is measured as the
share of the page's text (after the always-dropped markup) it would remove, disclosure panels
left alone. Prints per page the largest share per rule, and how many captures a rule would
exceed ``HIDDEN_MAX_SHARE`` on (where it is skipped). This is the measurement behind the
constant.

    .venv/bin/python bench/hidden_rules.py [--corpus ../shared/corpus]
"""

from __future__ import annotations

import argparse
import json
import sys
from multiprocessing import Pool
from pathlib import Path

import lxml.html  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_catalog import captures

from crawler.extract import chrome
from crawler.extract.document import ExtractError, decode

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
RULES = ("hidden attribute", "aria-hidden", "inline style")


def page_shares(job: tuple[str, str]) -> tuple[str, list[tuple[float, ...]]]:
    """The share of text each rule would remove, for every capture of one page."""
    doc_dir, archive = job
    out: list[tuple[float, ...]] = []
    for _step, body in captures(Path(doc_dir), archive):
        try:
            root = lxml.html.document_fromstring(decode(body, "text/html").lstrip("\ufeff"))
        except (ExtractError, ValueError, lxml.etree.ParserError):
            continue
        chrome._drop(
            el for el in root.iter() if not isinstance(el.tag, str) or chrome._droppable(el)
        )
        panels = chrome._disclosure_panels(root)
        total = chrome._chars(root) or 1
        shares = []
        for candidates, rule in chrome._HIDDEN_RULES:
            found = [el for el in root.xpath(candidates) if rule(el) and el not in panels]
            hidden = chrome._outermost(found)
            shares.append(sum(chrome._chars(el) for el in hidden) / total)
        out.append(tuple(shares))
    return f"{Path(doc_dir).parent.name}/{Path(doc_dir).name}#{archive}", out


def main() -> int:
    """Print the largest share per rule and page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    jobs = []
    for manifest in sorted(args.corpus.glob("*/*/manifest.json")):
        for page in json.loads(manifest.read_text())["pages"]:
            if page["mime_type"] == "text/html":
                jobs.append((str(manifest.parent), page["captures_archive"]))
    with Pool(2) as pool:
        results = pool.map(page_shares, jobs)
    print(f"{'page':<100} {'captures':>8} " + " ".join(f"{r:>16}" for r in RULES))
    over = [0] * len(RULES)
    top = [0.0] * len(RULES)
    for name, shares in results:
        worst = [max((s[i] for s in shares), default=0.0) for i in range(len(RULES))]
        for i in range(len(RULES)):
            over[i] += sum(1 for s in shares if s[i] > chrome.HIDDEN_MAX_SHARE)
            top[i] = max(top[i], worst[i])
        print(f"{name[:100]:<100} {len(shares):>8} " + " ".join(f"{w:>16.1%}" for w in worst))
    print(
        "\nlargest share removed: "
        + ", ".join(f"{r} {t:.1%}" for r, t in zip(RULES, top, strict=True))
    )
    print(f"captures over HIDDEN_MAX_SHARE={chrome.HIDDEN_MAX_SHARE}: "
          + ", ".join(f"{r} {n}" for r, n in zip(RULES, over, strict=True)))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
