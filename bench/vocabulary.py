"""Vocabulary leave-one-service-out, from one replay: would each topic term survive without the
service it is scored on?

A term (of one criterion, ``crawler/taxonomy.yaml``) is *decisive* for a flag when removing it
removes the flag: no other term of that criterion matched the changed sentences, no evidence
reason names the criterion on that step, and the source's kind alone would not raise it
(``worker.Flag.by_kind``). A decisive flag is true when the label lists the criterion, false
otherwise (an extra criterion on a substantive change, or any flag on a capture without a
substantive label; upgrade-only captures count neither way). For fold S, the terms whose
decisive false flags outnumber their decisive true flags on the other services are dropped,
and S's flags are scored with the remaining vocabulary: exact, since a dropped term can only
remove flags, and the replay noted every term that matched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace

import scoring
from scoring import FlagFigures, Pair, ratio
from truth import Truth
from worker import Flag, StepRecord

Term = tuple[str, str]  # (criterion, term)
Records = Mapping[tuple[str, int], StepRecord]


def survives(flags: Sequence[Flag], dropped: frozenset[Term]) -> bool:
    """Whether a criterion's flags on one step stand without the dropped terms."""
    for f in flags:
        if f.kind != "topic" or f.by_kind or not f.terms:
            return True  # an evidence reason, the kind rule, or terms the replay did not note
        if any((f.criterion, t) not in dropped for t in f.terms):
            return True
    return False


def kept(flags: Sequence[Flag], dropped: frozenset[Term]) -> tuple[Flag, ...]:
    """The flags of the criteria that still stand without the dropped terms."""
    standing = {
        c for c in {f.criterion for f in flags}
        if survives([f for f in flags if f.criterion == c], dropped)
    }  # fmt: skip
    return tuple(f for f in flags if f.criterion in standing)


def decisive(pairs: Sequence[Pair], quotes: bool) -> Counter[tuple[str, str, str, bool]]:
    """(service, criterion, term, true?) -> decisive flags, over scored steps."""
    out: Counter[tuple[str, str, str, bool]] = Counter()
    for t, r in pairs:
        if t.upgrade_only:
            continue
        flags = r.flags if quotes else r.topic_flags
        truth = t.label.criteria if t.substantive and t.label is not None else frozenset()
        for c in {f.criterion for f in flags}:
            mine = [f for f in flags if f.criterion == c]
            terms = {x for f in mine if f.kind == "topic" for x in f.terms}
            for term in terms:
                if not survives(mine, frozenset({(c, term)})):
                    out[(t.service, c, term, c in truth)] += 1
    return out


def drops(counts: Counter[tuple[str, str, str, bool]], held_out: str) -> frozenset[Term]:
    """The terms fold ``held_out`` drops: more decisive false than true flags elsewhere."""
    true: Counter[Term] = Counter()
    false: Counter[Term] = Counter()
    for (service, c, term, right), n in counts.items():
        if service != held_out:
            (true if right else false)[(c, term)] += n
    return frozenset(k for k in false if false[k] > true[k])


def _with(pairs: Sequence[Pair], dropped: frozenset[Term], quotes: bool) -> list[Pair]:
    out: list[Pair] = []
    for t, r in pairs:
        if quotes:
            out.append((t, replace(r, flags=kept(r.flags, dropped))))
        else:
            out.append((t, replace(r, topic_flags=kept(r.topic_flags, dropped))))
    return out


def _cells(x: FlagFigures) -> str:
    return f"{ratio(x.hits, x.labelled):>13} {ratio(x.hits, x.raised):>13} {x.noise_flags:>3}"


def report(truth: Truth, records: Records) -> str:
    """The vocabulary LOSO tables (with quotes and topics only) and each fold's drops."""
    pairs = scoring.pairs_of(truth, records, lambda t: True)
    lines = ["\ndev corpus: vocabulary leave-one-service-out (one replay, decisive terms)"]
    for quotes in (True, False):
        counts = decisive(pairs, quotes)
        which = "with quotes" if quotes else "topics only"
        lines.append(f"\n  {which}: shipped vocabulary > fold's vocabulary")
        lines.append(f"  {'service':<11} {'crit recall':>13} {'precision':>13} {'noise':>3}")
        loso: list[Pair] = []
        fold_drops: list[str] = []

        def flag_figures(p: Sequence[Pair], q: bool = quotes) -> FlagFigures:
            return scoring.Figures.of(p).quotes if q else scoring.Figures.of(p).topics

        for s in truth.services():
            mine = [(t, r) for t, r in pairs if t.service == s]
            dropped = drops(counts, s)
            after = _with(mine, dropped, quotes)
            loso += after
            before_cells, after_cells = _cells(flag_figures(mine)), _cells(flag_figures(after))
            lines.append(f"  {s:<11} {before_cells}  >  {after_cells}")
            names = ", ".join(f"{c}:{term}" for c, term in sorted(dropped)) or "nothing"
            fold_drops.append(f"    fold {s} drops {names}")
        pooled = f"{_cells(flag_figures(pairs))}  >  {_cells(flag_figures(loso))}"
        lines.append(f"  {'POOLED':<11} {pooled}")
        lines += fold_drops
        lines.append(_decisive_table(counts))
    return "\n".join(lines)


def _decisive_table(counts: Counter[tuple[str, str, str, bool]]) -> str:
    """Every term decisive for some flag: true and false decisive flags, pooled."""
    true: Counter[Term] = Counter()
    false: Counter[Term] = Counter()
    for (_s, c, term, right), n in counts.items():
        (true if right else false)[(c, term)] += n
    terms = sorted(set(true) | set(false), key=lambda k: (-false[k], -true[k], k))
    rows = [f"    decisive terms (true/false flags, pooled): {len(terms)}"]
    rows += [f"      {c}:{term} {true[(c, term)]}/{false[(c, term)]}" for c, term in terms]
    return "\n".join(rows)
