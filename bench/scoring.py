"""The benches' one scoring: step records against the corpus's ground truth, per service.

Over scored steps (a capture whose bytes changed, with a usable label; the corpus README):

- raw page changes: scored steps; alerts: steps the crawl alerts on (``alert``);
- recall: substantive changes alerted / substantive changes. A change is one recorded version
  (one label): a version of a multi-page document that the corpus attributes to several pages
  of one tracking run counts once, found when any of those pages' captures is alerted (the
  others may have changed only noise, as ChatGPT's second privacy page did when the first was
  rewritten), and its flags are the union of theirs;
- false alerts: alerts on anything but a substantive change, also per raw page change;
  alerts on a change the corpus recorded only inside an upgrade (``upgrade_only``: a real
  change without a label) are neither, and counted apart;
- alert precision: alerts on substantive changes / alerts, upgrade-only ones left out of both;
- minor: changes the product put in its ``minor`` tier (and of them, substantive ones);
- criteria recall / precision over the substantive changes (labelled criteria found / labelled;
  found / raised), with the catalog's quotes and with topics only; noise flags: criteria
  flagged on captures without a substantive label (upgrade-only ones apart).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from truth import StepTruth, Truth
from worker import Flag, StepRecord

Pair = tuple[StepTruth, StepRecord]


def alert(r: StepRecord) -> bool:
    """Whether a crawl alerts on this capture: a changed version in the substantive tier."""
    return r.outcome == "changed" and r.tier == "substantive"


def versions(pairs: Sequence[Pair]) -> list[list[Pair]]:
    """The substantive changes among these captures: captures grouped by recorded version."""
    groups: dict[tuple[str, str], list[Pair]] = {}
    for t, r in pairs:
        if t.substantive and t.label is not None:
            groups.setdefault((t.doc, t.label.sha), []).append((t, r))
    return list(groups.values())


def criteria(flags: Iterable[Flag]) -> frozenset[str]:
    """The criteria a capture's flags name."""
    return frozenset(f.criterion for f in flags)


@dataclass(frozen=True, slots=True)
class FlagFigures:
    """Flag quality over a set of captures, for one catalog (with quotes or topics only)."""

    labelled: int
    raised: int
    hits: int
    noise_flags: int
    noise_flagged: int  # captures with noise flags
    noise_on_labelled: int  # of the noise flags, on a change the corpus labels non-substantive
    upgrade_flags: int

    @classmethod
    def of(
        cls, pairs: Sequence[Pair], flags: Callable[[StepRecord], frozenset[str]]
    ) -> FlagFigures:
        """Count the flags of these captures (a substantive change: of all its captures)."""
        labelled = raised = hits = noise = flagged = on_labelled = upgrade = 0
        for group in versions(pairs):
            label = group[0][0].label
            assert label is not None
            got = frozenset().union(*(flags(r) for _, r in group))
            labelled += len(label.criteria)
            raised += len(got)
            hits += len(got & label.criteria)
        for t, r in pairs:
            got = flags(r)
            if t.substantive:
                continue
            elif t.upgrade_only:
                upgrade += len(got)
            elif got:
                noise += len(got)
                flagged += 1
                on_labelled += len(got) if t.label is not None else 0
        return cls(labelled, raised, hits, noise, flagged, on_labelled, upgrade)

    @property
    def recall(self) -> float | None:
        """Labelled criteria flagged / labelled criteria."""
        return self.hits / self.labelled if self.labelled else None

    @property
    def precision(self) -> float | None:
        """Labelled criteria flagged / criteria flagged on substantive changes."""
        return self.hits / self.raised if self.raised else None


@dataclass(frozen=True, slots=True)
class Figures:
    """Every figure of one service (or of the pooled corpus)."""

    raw: int
    alerts: int
    substantive: int
    alerted: int
    false_alerts: int
    upgrade_alerts: int
    minor: int
    minor_substantive: int
    quotes: FlagFigures
    topics: FlagFigures
    ms: float  # mean analysis time per capture (scored or not)
    misses: tuple[tuple[str, int], ...]
    false: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, pairs: Sequence[Pair], every: Sequence[StepRecord] = ()) -> Figures:
        """The figures of these scored captures (``every``: all records, for the timing)."""
        alerted = [(t, r) for t, r in pairs if alert(r)]
        changes = versions(pairs)
        found = [g for g in changes if any(alert(r) for _, r in g)]
        false = [(t, r) for t, r in alerted if not t.substantive and not t.upgrade_only]
        minor = [(t, r) for t, r in pairs if r.tier == "minor"]
        return cls(
            raw=len(pairs),
            alerts=len(alerted),
            substantive=len(changes),
            alerted=len(found),
            false_alerts=len(false),
            upgrade_alerts=sum(1 for t, _ in alerted if t.upgrade_only),
            minor=len(minor),
            minor_substantive=sum(1 for t, _ in minor if t.substantive),
            quotes=FlagFigures.of(pairs, lambda r: criteria(r.flags)),
            topics=FlagFigures.of(pairs, lambda r: criteria(r.topic_flags)),
            ms=sum(r.ms for r in every) / len(every) if every else 0.0,
            misses=tuple((g[0][0].doc, g[0][0].step) for g in changes if g not in found),
            false=tuple((t.doc, t.step) for t, _ in false),
        )

    @property
    def recall(self) -> float | None:
        """Substantive changes alerted / substantive changes."""
        return self.alerted / self.substantive if self.substantive else None

    @property
    def false_rate(self) -> float | None:
        """False alerts per raw page change."""
        return self.false_alerts / self.raw if self.raw else None

    @property
    def precision(self) -> float | None:
        """Alerts on substantive changes / alerts (upgrade-only alerts left out of both)."""
        judged = self.alerts - self.upgrade_alerts
        return self.alerted / judged if judged else None


@dataclass(frozen=True, slots=True)
class Scores:
    """Figures per service and pooled, with what they were computed from."""

    truth: Truth
    records: Mapping[tuple[str, int], StepRecord]
    services: Mapping[str, Figures]
    pooled: Figures


def pairs_of(
    truth: Truth, records: Mapping[tuple[str, int], StepRecord], keep: Callable[[StepTruth], bool]
) -> list[Pair]:
    """(truth, record) of every scored step that was replayed and is kept."""
    steps = sorted(truth.steps.items())
    return [(t, records[k]) for k, t in steps if t.scored and k in records and keep(t)]


def score(
    truth: Truth,
    records: Mapping[tuple[str, int], StepRecord],
    keep: Callable[[StepTruth], bool] = lambda t: True,
    group: Callable[[StepTruth], str] = lambda t: t.service,
) -> Scores:
    """Figures per group (service by default) and pooled."""
    pairs = pairs_of(truth, records, keep)
    groups: dict[str, list[Pair]] = {}
    timing: dict[str, list[StepRecord]] = {}
    for t, r in pairs:
        groups.setdefault(group(t), []).append((t, r))
    for k, r in records.items():
        if k in truth.steps:
            timing.setdefault(group(truth.steps[k]), []).append(r)
    services = {g: Figures.of(p, timing.get(g, ())) for g, p in sorted(groups.items())}
    return Scores(truth, records, services, Figures.of(pairs, list(records.values())))


# --- printing ----------------------------------------------------------------------------------


def ratio(a: int, b: int) -> str:
    """ "a/b=0.xx", or "-" without a denominator."""
    return f"{a}/{b}={a / b:.2f}" if b else "-"


def alert_table(scores: Scores, title: str = "service") -> str:
    """Alert figures per service and pooled."""
    head = (
        f"dev corpus: alerts\n{title:<40} {'raw':>5} {'alerts':>6} {'recall(subst)':>13} "
        f"{'FA':>4} {'FA/raw':>7} {'precision':>14} {'minor':>7} {'upg':>4} {'ms/capt':>7}"
    )
    rows = [head]
    for name, f in [*scores.services.items(), ("POOLED", scores.pooled)]:
        rate = f"{100 * f.false_rate:.2f}%" if f.false_rate is not None else "-"
        rows.append(
            f"{name:<40} {f.raw:>5} {f.alerts:>6} {ratio(f.alerted, f.substantive):>13} "
            f"{f.false_alerts:>4} {rate:>7} "
            f"{ratio(f.alerted, f.alerts - f.upgrade_alerts):>14} "
            f"{f.minor:>4}({f.minor_substantive}) {f.upgrade_alerts:>4} {f.ms:>7.1f}"
        )
    return "\n".join(rows)


def flag_table(scores: Scores, title: str = "service") -> str:
    """Flag figures per service and pooled, with quotes and topics only."""
    head = (
        f"\ndev corpus: flags   with quotes | topics only (catalog without quotes)\n"
        f"{title:<12} {'subst':>5} {'crit recall':>13} {'precision':>13} {'noise':>5} {'upg':>4}"
        f" | {'crit recall':>13} {'precision':>13} {'noise':>5} {'upg':>4}"
    )
    rows = [head]
    for name, f in [*scores.services.items(), ("POOLED", scores.pooled)]:
        cells = [
            f"{ratio(x.hits, x.labelled):>13} {ratio(x.hits, x.raised):>13} "
            f"{x.noise_flags:>5} {x.upgrade_flags:>4}"
            for x in (f.quotes, f.topics)
        ]
        rows.append(f"{name:<12} {f.substantive:>5} {cells[0]} | {cells[1]}")
    rows.append("noise: criteria flagged on captures without a substantive label; upg: on changes")
    rows.append("the corpus recorded only inside a declaration upgrade (bench/upgrades.py)")
    return "\n".join(rows)


Measure = Callable[[Figures], tuple[float | None, str]]


def _flag_measures(
    name: str, pick: Callable[[Figures], FlagFigures]
) -> list[tuple[str, Measure, bool]]:
    return [
        (
            f"crit recall ({name})",
            lambda f: (pick(f).recall, ratio(pick(f).hits, pick(f).labelled)),
            True,
        ),
        (
            f"crit precision ({name})",
            lambda f: (pick(f).precision, ratio(pick(f).hits, pick(f).raised)),
            True,
        ),
        (f"noise flags ({name})", lambda f: (pick(f).noise_flags, str(pick(f).noise_flags)), False),
    ]


# (name, (value, printed), higher is better)
_HEADLINE: tuple[tuple[str, Measure, bool], ...] = (
    ("recall", lambda f: (f.recall, ratio(f.alerted, f.substantive)), True),
    ("false alerts/raw", lambda f: (f.false_rate, f"{f.false_alerts}/{f.raw}"), False),
    (
        "alert precision",
        lambda f: (f.precision, ratio(f.alerted, f.alerts - f.upgrade_alerts)),
        True,
    ),
    *_flag_measures("quotes", lambda f: f.quotes),
    *_flag_measures("topics", lambda f: f.topics),
)


def headline(scores: Scores) -> str:
    """Each figure pooled, beside the worst service's."""
    rows = ["\ndev corpus: headline (pooled | worst service)"]
    for name, get, higher in _HEADLINE:
        values = [(get(f), s) for s, f in scores.services.items()]
        ranked = [(v, s, text) for (v, text), s in values if v is not None]
        worst = min(ranked, key=lambda x: x[0] if higher else -x[0]) if ranked else None
        pooled = get(scores.pooled)[1]
        rows.append(f"  {name:<24} {pooled:>14} | " + (f"{worst[1]} {worst[2]}" if worst else "-"))
    return "\n".join(rows)


def unseen_list(truth: Truth) -> str:
    """The substantive changes no crawler could see."""
    rows = [f"\nsubstantive changes no crawler could see (not scored): {len(truth.unseen)}"]
    rows += [f"  {u.doc}#{u.step}: {u.why} | {u.label[:120]}" for u in truth.unseen]
    return "\n".join(rows)
