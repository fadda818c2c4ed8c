"""The JSON shapes of a change and a flag, shared by `citewatch changes|flags --json` and the
web app's API (crawler/web/api.py): one definition, so the two never drift apart."""

from __future__ import annotations

from typing import Any

from storage.records import ChangeRecord, FlagRecord, ReviewRecord


def change_json(c: ChangeRecord) -> dict[str, Any]:
    """A change as `citewatch changes --json` and the web API print it."""
    return {
        "id": c.id,
        "tool": c.tool_id,
        "source": c.source_id,
        "url": c.url,
        "detected_at": c.detected_at.isoformat(),
        "significant": c.significant,
        "tier": c.tier,
        "technical": c.technical,
        "reason": c.reason,
        "noise": list(c.noise),
        "added": c.added,
        "removed": c.removed,
    }


def flag_json(f: FlagRecord) -> dict[str, Any]:
    """A flag as `citewatch flags --json` and the web API print it."""
    return {
        "id": f.id,
        "tool": f.tool_id,
        "criterion": f.criterion_id,
        "status": f.status,
        "severity": f.severity,
        "opened_at": f.opened_at.isoformat(),
        "resolved_at": f.resolved_at.isoformat() if f.resolved_at else None,
        "resolution": resolution_json(f.resolution),
        "reasons": [
            {
                "change": r.change_id,
                "source": r.source_id,
                "kind": r.kind,
                "text": r.text,
                "sentences": [{"old": o, "new": n} for o, n in r.sentences],
                "matched_terms": list(r.matched_terms),
                "old_quote": r.old_quote,
                "new_quote": r.new_quote,
                "failure_class": r.failure_class,
                "broken_since": r.broken_since.isoformat() if r.broken_since else None,
            }
            for r in f.reasons
        ],
    }


def resolution_json(r: ReviewRecord | None) -> dict[str, Any] | None:
    """The review that resolved a flag, as its JSON shows it (None: open)."""
    if r is None:
        return None
    return {
        "action": r.action,
        "rating": r.rating,
        "by": r.by,
        "at": r.at.isoformat(),
        "note": r.note,
    }
