"""What a `citewatch crawl --json` child reported, read by the scheduler and logged."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from crawler.run.supervisor import ChildExit

# Outcomes that put something new in the database (a version, a change, a failure).
RECORDED_NEWS = frozenset({"new", "changed", "failed"})


def run_report(stdout: str) -> dict[str, Any] | None:
    """The child's `crawl --json` object; None when it printed none (it did not finish).

    The exit code does not tell: a finished crawl exits 3 or 4 when sources failed.
    """
    try:
        report = json.loads(stdout)
    except ValueError:
        return None
    if not isinstance(report, dict) or not isinstance(report.get("sources"), list):
        return None
    return report


def outcome_lines(report: dict[str, Any]) -> list[str]:
    """One grep-able line per changed source, per flag and per failed fetch."""
    lines: list[str] = []
    for s in report["sources"]:
        key = f"{s['tool']}/{s['source']}"
        if s["outcome"] == "changed":
            flags = ",".join(s["flags"]) or "-"
            lines.append(f"changed {key} tier={s['tier']} flags={flags} change={s['change']}")
            lines += [
                f"flagged {s['tool']}/{c} source={s['source']} change={s['change']}"
                for c in s["flags"]
            ]
        elif s["outcome"] == "failed":
            error = one_line(s["error"] or "", 200)
            lines.append(f"failed {key} class={s['failure_class'] or '-'} error={error}")
    return lines


def one_line(text: str, limit: int = 300) -> str:
    """The end of a text as one line (a child's stderr, an error)."""
    return " ".join(text.split())[-limit:]


def summary(report: dict[str, Any], done: ChildExit) -> str:
    """One line about a finished child: outcomes and errors."""
    outcomes = Counter(
        s["outcome"] + (f" ({s['error']})"[:80] if s["error"] else "") for s in report["sources"]
    )
    parts = ", ".join(f"{n} {what}" for what, n in outcomes.most_common())
    return f"run {report['run_id']}: {parts} in {done.seconds:.1f} s"
