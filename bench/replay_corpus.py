"""Replay real capture history through `citewatch crawl --json` and score what it alerts on.

    python bench/replay_corpus.py [--shared ../shared] [--services vibe,deepseek] [--skip-idle]

The replay server (../shared/tools/replay_server.py) serves the dev corpus with a clock; each
tick is one tracking run of the archive. After every tick this script runs one real crawl
(a `citewatch crawl --json` child process, Scrapy and all) of a catalog that cites every page,
and compares what citewatch said with the corpus labels:

- raw page changes: page captures that are scored steps (the bytes changed);
- recall: substantive real changes that were alerted (changed + significant) / substantive
  real changes; also shown for every real change and for `scope: text` ones;
- false alerts: alerts on captures that are not a substantive real change, as a count and as
  a share of raw page changes; alert precision: alerts on substantive changes / alerts;
  alerts and flags on a change the corpus recorded only inside a declaration upgrade
  (`bench/upgrades.py`, a real change it never labelled) are counted apart.

`--skip-idle` crawls only on ticks where a selected page got a new capture (a crawl of
unchanged pages can only answer 304/unchanged, so the scores are the same).
`--loso FILE` takes the per-fold knob choices of `bench/noise_offline.py --loso --loso-out
FILE` and replays each service whose fold chose other values with those values (through
`bench/tuned.py`), so the per-service figures are leave-one-service-out figures too. Every
table is per service and pooled, with the worst service beside the pooled figure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from corpus_catalog import corpus_pages  # noqa: E402
from corpus_catalog import write_catalog as bench_catalog  # noqa: E402
from upgrades import absorbed_steps  # noqa: E402

# The replay server is on 127.0.0.1: crawls refuse it unless allowed (crawler/fetch/destinations.py)
CRAWL_SETTINGS = ("DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "CITEWATCH_ALLOW_PRIVATE=True")


@dataclass
class Observation:
    """One page capture that citewatch saw (possibly several corpus steps in one tick)."""

    doc: str
    page: str
    steps: tuple[int, ...]
    scored: bool
    real: bool
    substantive: bool
    scope: str | None
    criteria: tuple[str, ...]
    outcome: str
    significant: bool | None
    flags: tuple[str, ...]
    # The corpus recorded this change only inside a declaration upgrade (bench/upgrades.py):
    # a real text change without a label, neither substantive nor not.
    upgrade: bool = False


@dataclass
class Corpus:
    """Manifest and label look-ups by document and step."""

    root: Path
    steps: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    in_upgrade: set[tuple[str, int]] = field(default_factory=set)

    def find_upgrades(self, documents: set[str]) -> None:
        """Note the steps of these documents recorded only inside an upgrade."""
        for doc in documents:
            self.in_upgrade.update((doc, n) for n in absorbed_steps(self.root / doc))

    @classmethod
    def load(cls, root: Path) -> Corpus:
        corpus = cls(root)
        for manifest in root.glob("*/*/manifest.json"):
            data = json.loads(manifest.read_text())
            doc = f"{data['service_slug']}/{data['document_slug']}"
            for step in data["steps"]:
                corpus.steps[(doc, step["step"])] = step
        for label in json.loads((root / "labels.json").read_text()):
            corpus.labels[label["version_sha"]] = label
        return corpus

    def judge(
        self, doc: str, steps: tuple[int, ...]
    ) -> tuple[bool, bool, bool, str | None, tuple[str, ...]]:
        """(scored, real, substantive, scope, criteria) over the steps seen at once."""
        scored = real = substantive = False
        scope: str | None = None
        criteria: list[str] = []
        for n in steps:
            step = self.steps[(doc, n)]
            scored |= bool(step["scored"])
            if step["real_change"] and step["scored"]:
                real = True
                label = self.labels.get(step["version_sha"] or "", {})
                substantive |= bool(label.get("substantive"))
                scope = label.get("scope", step.get("change_scope"))
                criteria.extend(c for c in label.get("criteria", ()) if c not in criteria)
        return scored, real, substantive, scope, tuple(criteria)


def _post(base: str, path: str) -> Any:
    import urllib.request

    req = urllib.request.Request(base + path, method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def _get(base: str, path: str) -> Any:
    import urllib.request

    with urllib.request.urlopen(base + path, timeout=60) as resp:
        return json.loads(resp.read())


def write_catalog(
    folder: Path,
    corpus: Path,
    sources: dict[str, Any],
    services: set[str] | None,
    documents: set[str] | None,
) -> dict[str, tuple[str, str]]:
    """One tool per service citing each page at the replay server's URL; every criterion
    cites every page of its service, with evidence quotes from the page's first capture
    (`bench/corpus_catalog.py`, shared with `bench/flags_offline.py`)."""
    urls: dict[str, str] = {}
    wanted: set[str] = set()
    for doc in sources["documents"]:
        if services and doc["service_slug"] not in services:
            continue
        key = f"{doc['service_slug']}/{doc['document_slug']}"
        if documents and key not in documents:
            continue
        wanted.add(key)
        for page in doc["pages"]:
            sid = f"{doc['document_slug']}_{page['page']}"[:60]
            urls[f"{doc['service_slug']}/{sid}"] = page["url"]
    pages = [p for p in corpus_pages(corpus, wanted) if f"{p.service}/{p.source_id}" in urls]
    index = bench_catalog(folder, pages, urls)
    return {key: (f"{p.service}/{p.document}", p.page) for key, p in index.items()}


def crawl(catalog: Path, db: str, tuning: dict[str, float] | None = None) -> dict[str, Any]:
    """One real crawl run, as an operator or scheduler would start it (``tuning``: with these
    calibrated constants instead of the shipped ones, through bench/tuned.py)."""
    cmd = [str(ROOT / ".venv" / "bin" / "citewatch")]
    if tuning:
        cmd = [sys.executable, str(ROOT / "bench" / "tuned.py"), json.dumps(tuning)]
    cmd += ["--db", db, "crawl", str(catalog), "--json"]
    for setting in CRAWL_SETTINGS:
        cmd += ["-s", setting]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    # 3 and 4: the run was recorded and some (or all) of its sources failed (README, "Exit
    # codes"); the replay's injected faults do that on purpose.
    if done.returncode not in (0, 3, 4):
        raise SystemExit(f"crawl failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def replay(args: argparse.Namespace) -> list[Observation]:
    """Run the whole replay; one observation per page capture seen."""
    sys.path.insert(0, str(args.shared / "tools"))
    from replay_server import ReplayServer  # type: ignore[import-not-found]

    corpus = Corpus.load(args.shared / "corpus")
    services = set(args.services.split(",")) if args.services else None
    documents = set(args.documents.split(",")) if args.documents else None
    observations: list[Observation] = []
    with (
        ReplayServer(str(args.shared / "corpus"), port=0) as srv,
        tempfile.TemporaryDirectory() as tmp,
    ):
        base = srv.base_url
        index = write_catalog(
            Path(tmp) / "catalog",
            args.shared / "corpus",
            _get(base, "/_control/sources.json"),
            services,
            documents,
        )
        corpus.find_upgrades({doc for doc, _page in index.values()})
        db = f"sqlite:///{tmp}/replay.db"
        seen: dict[tuple[str, str], int] = {}
        tick, ticks = 0, _get(base, "/_control/state")["ticks"]
        while True:
            state = _get(base, "/_control/state")
            fresh = _advanced(state, index, seen)
            if fresh or not args.skip_idle or tick == 0:
                run = crawl(Path(tmp) / "catalog", db, getattr(args, "tuning", None))
                observations += _observe(run, index, fresh, corpus)
            tick += 1
            if (args.max_ticks and tick >= args.max_ticks) or state["at_end"]:
                break
            _post(base, "/_control/advance")
            if tick % 25 == 0:
                print(f"  tick {tick}/{ticks}, {len(observations)} captures seen", file=sys.stderr)
    return observations


def _advanced(
    state: Any, index: dict[str, tuple[str, str]], seen: dict[tuple[str, str], int]
) -> dict[tuple[str, str], tuple[int, ...]]:
    """Pages whose step moved since the last look, with the steps they went through."""
    wanted = set(index.values())
    out: dict[tuple[str, str], tuple[int, ...]] = {}
    for doc in state["documents"]:
        for page in doc["pages"]:
            doc_key = "/".join(page["path"].strip("/").split("/")[:2])
            key = (doc_key, page["page"])
            if key not in wanted or page["pre_history"]:
                continue
            before = seen.get(key)
            if before != page["step"]:
                first = 1 if before is None else before + 1
                out[key] = tuple(range(first, page["step"] + 1))
                seen[key] = page["step"]
    return out


def _observe(
    run: dict[str, Any],
    index: dict[str, tuple[str, str]],
    fresh: dict[tuple[str, str], tuple[int, ...]],
    corpus: Corpus,
) -> list[Observation]:
    out = []
    for src in run["sources"]:
        key = index[f"{src['tool']}/{src['source']}"]
        steps = fresh.get(key)
        if not steps:
            if src["outcome"] == "changed" and src["significant"]:
                print(f"  alert without a new capture: {key}", file=sys.stderr)
            continue
        # Step numbers count captures of the whole document: keep this page's own.
        steps = tuple(n for n in steps if corpus.steps[(key[0], n)]["page"] == key[1])
        scored, real, substantive, scope, criteria = corpus.judge(key[0], steps)
        upgrade = not real and any((key[0], n) in corpus.in_upgrade for n in steps)
        out.append(
            Observation(
                key[0],
                key[1],
                steps,
                scored,
                real,
                substantive,
                scope,
                criteria,
                src["outcome"],
                src["significant"],
                tuple(src["flags"]),
                upgrade,
            )
        )
    return out


def score(obs: list[Observation]) -> dict[str, Any]:
    """The figures: recall, false alerts, flag quality."""
    scored = [o for o in obs if o.scored]
    alert = [o for o in scored if o.outcome == "changed" and o.significant]
    subst = [o for o in scored if o.substantive]
    real = [o for o in scored if o.real]
    text = [o for o in subst if o.scope == "text"]
    false_alerts = [o for o in alert if not o.substantive and not o.upgrade]
    missed = [o for o in subst if not (o.outcome == "changed" and o.significant)]
    judged = [o for o in alert if not o.upgrade]
    with_criteria = [o for o in subst if o.criteria]
    tp = sum(len(set(o.flags) & set(o.criteria)) for o in subst)
    labelled = sum(len(o.criteria) for o in subst)
    raised = sum(len(o.flags) for o in subst)
    return {
        "raw_page_changes": len(scored),
        "text_changed": sum(1 for o in scored if o.outcome == "changed"),
        "alerts": len(alert),
        "substantive_changes": len(subst),
        "recall_substantive": _ratio(len(subst) - len(missed), len(subst)),
        "recall_substantive_text_scope": _ratio(sum(1 for o in text if o not in missed), len(text)),
        "recall_all_real": _ratio(sum(1 for o in real if o in alert), len(real)),
        "false_alerts": len(false_alerts),
        "false_alert_rate": _ratio(len(false_alerts), len(scored)),
        "alert_precision": _ratio(sum(1 for o in judged if o.substantive), len(judged)),
        "alerts_on_upgrade_recorded": sum(1 for o in alert if o.upgrade),
        "flags_on_non_substantive": sum(
            len(o.flags) for o in scored if not o.substantive and not o.upgrade
        ),
        # Of those, on a change the corpus recorded and labels non-substantive (the rest are
        # on captures where it recorded no change at all).
        "flags_on_labelled_non_substantive": sum(
            len(o.flags) for o in scored if o.real and not o.substantive
        ),
        "flags_on_upgrade_recorded": sum(len(o.flags) for o in scored if o.upgrade),
        "criteria_recall": _ratio(tp, labelled),
        "criteria_precision": _ratio(tp, raised),
        "substantive_with_criteria": len(with_criteria),
        "missed": [f"{o.doc}#{o.page} steps {o.steps}" for o in missed],
        "false": [f"{o.doc}#{o.page} steps {o.steps}" for o in false_alerts],
    }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--services", default="", help="comma list of service slugs (default: all)")
    parser.add_argument("--documents", default="", help="comma list of service/document slugs")
    parser.add_argument("--skip-idle", action="store_true", help="crawl only when a page advanced")
    parser.add_argument("--max-ticks", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    parser.add_argument(
        "--loso", type=Path, help="per-fold knob choices (offline --loso-out): LOSO figures"
    )
    args = parser.parse_args()
    started = time.monotonic()
    obs = replay(args)
    if args.loso:
        obs = _loso(args, obs)
    figures = score(obs)
    figures["seconds"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps(figures))
        return
    by_doc: dict[str, list[Observation]] = {}
    for o in obs:
        by_doc.setdefault(o.doc, []).append(o)
    print(
        f"{'document':45} {'raw':>5} {'alerts':>6} {'subst':>5} {'recall':>6} {'false':>5} "
        "(+ on changes recorded only in an upgrade)"
    )
    for doc, rows in sorted(by_doc.items()):
        f = score(rows)
        recall = "-" if f["recall_substantive"] is None else f["recall_substantive"]
        print(
            f"{doc:45} {f['raw_page_changes']:>5} {f['alerts']:>6} {f['substantive_changes']:>5} "
            f"{recall:>6} {f['false_alerts']:>5} (+{f['alerts_on_upgrade_recorded']})"
        )
    by_service: dict[str, list[Observation]] = {}
    for o in obs:
        by_service.setdefault(o.doc.split("/")[0], []).append(o)
    print(
        f"\n{'service':12} {'subst':>5} {'criteria recall':>16} {'precision':>10} "
        "non-subst flags (on labelled ones) + flags on changes recorded only in an upgrade"
    )
    for service, rows in sorted(by_service.items()):
        f = score(rows)
        print(
            f"{service:12} {f['substantive_changes']:>5} {f['criteria_recall']!s:>16} "
            f"{f['criteria_precision']!s:>10} {f['flags_on_non_substantive']:>6} "
            f"({f['flags_on_labelled_non_substantive']}) + {f['flags_on_upgrade_recorded']}"
        )
    print(_headline(by_service, figures))
    print(json.dumps(figures, indent=1))


HEADLINE = (
    ("recall (substantive)", "recall_substantive", min),
    ("false alerts / raw page changes", "false_alert_rate", max),
    ("alert precision", "alert_precision", min),
    ("criteria recall", "criteria_recall", min),
    ("criteria precision", "criteria_precision", min),
    ("flags on non-substantive changes", "flags_on_non_substantive", max),
)


def _headline(by_service: dict[str, list[Observation]], pooled: dict[str, Any]) -> str:
    """Each figure pooled, beside the worst service's."""
    per = {service: score(rows) for service, rows in by_service.items()}
    lines = ["\ndev corpus: headline (pooled | worst service)"]
    for title, key, worst in HEADLINE:
        known = {s: f[key] for s, f in per.items() if f[key] is not None}
        if not known:
            continue
        bad = worst(known, key=lambda s: known[s])
        lines.append(f"  {title:<34} {pooled[key]!s:>8} | {bad} {known[bad]}")
    return "\n".join(lines)


def _loso(args: argparse.Namespace, obs: list[Observation]) -> list[Observation]:
    """Replace each service's observations by a replay with the knob values its fold chose
    (written by the offline benches' --loso-out), where those differ from the shipped ones."""
    document = json.loads(args.loso.read_text())
    shipped = document["shipped"]
    for service, chosen in sorted(document["choices"].items()):
        tuning = {k: v for k, v in chosen.items() if v != shipped.get(k)}
        if not tuning or (args.services and service not in args.services.split(",")):
            continue
        print(f"  LOSO: {service} with {tuning}", file=sys.stderr)
        again = argparse.Namespace(**{**vars(args), "services": service, "tuning": tuning})
        obs = [o for o in obs if o.doc.split("/")[0] != service] + replay(again)
    return obs


if __name__ == "__main__":
    main()
