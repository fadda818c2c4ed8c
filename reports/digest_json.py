"""The digest as JSON for machines: the same sections, in the same order, as the email."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from reports.context import (
    ChangedSentence,
    CitationGap,
    ReportChange,
    ReportFailure,
    UnwatchedEvidence,
)
from reports.digest import Digest, DigestFlag, DigestReason, DigestResolution, ToolDigest
from reports.render import neutralize


def _time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.isoformat(timespec="seconds")


def _text(value: str | None) -> str | None:
    """Page text stays text in JSON too, but without bidi or control characters."""
    return None if value is None else neutralize(value)


def _sentence(s: ChangedSentence) -> dict[str, Any]:
    return {
        "old": _text(s.old),
        "new": _text(s.new),
        "words": [[op.tag, neutralize(op.text)] for op in s.words],
    }


def _reason(d: DigestReason, digest: Digest) -> dict[str, Any]:
    r = d.reason
    return {
        "new": d.new,
        "kind": r.kind,
        "source": r.source_id,
        "change": r.change_id,
        "text": _text(r.text),
        "old_quote": _text(r.old_quote),
        "new_quote": _text(r.new_quote),
        "matched_terms": list(r.matched_terms),
        "sentences": [_sentence(s) for s in r.sentences],
        "diff": None if r.change_id is None else digest.diff_url(r.change_id),
    }


def _flag(d: DigestFlag, digest: Digest) -> dict[str, Any]:
    f = d.flag
    return {
        "criterion": f.criterion_id,
        "label": f.criterion_label,
        "rating": f.rating,
        "severity": f.severity,
        "opened_at": _time(f.opened_at),
        "grown": d.grown,
        "reasons": [_reason(r, digest) for r in d.reasons],
    }


def _change(c: ReportChange, digest: Digest) -> dict[str, Any]:
    return {
        "id": c.id,
        "source": c.source_id,
        "url": _text(c.url),
        "detected_at": _time(c.detected_at),
        "tier": c.tier,
        "reason": _text(c.reason),
        "added": c.added_count,
        "removed": c.removed_count,
        "diff": digest.diff_url(c.id),
    }


def _failure(x: ReportFailure, new: bool) -> dict[str, Any]:
    return {
        "source": x.source_id,
        "url": _text(x.url),
        "at": _time(x.at),
        "status": x.status,
        "error": _text(x.error),
        "consecutive": x.consecutive,
        "new": new,
    }


def _unwatched(u: UnwatchedEvidence) -> dict[str, Any]:
    return {
        "criterion": u.criterion_id,
        "label": u.criterion_label,
        "source": u.source_id,
        "quote": _text(u.quote),
        "closest": _text(u.closest),
        "score": u.score,
    }


def _gap(g: CitationGap, digest: Digest) -> dict[str, Any]:
    return {
        "criterion": g.criterion_id,
        "label": g.criterion_label,
        "source": g.source_id,
        "change": g.change_id,
        "matched_terms": list(g.matched_terms),
        "sentences": [_sentence(s) for s in g.sentences],
        "diff": digest.diff_url(g.change_id),
    }


def _resolution(d: DigestResolution) -> dict[str, Any]:
    r = d.resolution
    return {
        "criterion": d.criterion_id,
        "label": d.criterion_label,
        "action": r.action,
        "rating_set": r.rating,
        "rating_now": d.rating,
        "by": r.by,
        "at": _time(r.at),
        "note": r.note,
    }


def _tool(t: ToolDigest, digest: Digest) -> dict[str, Any]:
    return {
        "id": t.tool_id,
        "name": t.tool_name,
        "ratings_to_review": [_flag(d, digest) for d in t.flags],
        "evidence_never_found": [_unwatched(u) for u in t.unwatched],
        "significant_changes": [_change(c, digest) for c in t.changes],
        "citation_gaps": [_gap(g, digest) for g in t.suggestions],
        "broken_sources": [_failure(f.failure, f.new) for f in t.failures],
        "resolved": [_resolution(r) for r in t.resolved],
        "minor_changes": [_change(c, digest) for c in t.minor],
        "noise_suppressed": t.noise_count,
    }


def digest_json(digest: Digest) -> dict[str, Any]:
    """The digest as a JSON-ready dict (sections per tool, in reading order)."""
    return {
        "title": digest.title,
        "generated_at": _time(digest.generated_at),
        "since": _time(digest.since),
        "counts": {
            "ratings_to_review": digest.flag_count,
            "evidence_never_found": digest.unwatched_count,
            "significant_changes": digest.change_count,
            "citation_gaps": digest.suggestion_count,
            "broken_sources": digest.failure_count,
            "newly_broken_sources": digest.new_failure_count,
            "minor_changes": digest.minor_count,
            "noise_suppressed": digest.noise_count,
            "still_open": digest.still_open,
            "resolved": digest.resolved_count,
        },
        "tools": [_tool(t, digest) for t in digest.tools],
        "rating_conflicts": [
            {
                "tool": c.tool_id,
                "criterion": c.criterion_id,
                "catalog_rating": c.catalog_rating,
                "review_rating": c.review_rating,
                "set_by": c.set_by,
                "set_at": _time(c.set_at),
                "file": c.file,
            }
            for c in digest.conflicts
        ],
    }


def render_json(digest: Digest) -> str:
    """The digest as indented JSON text."""
    return json.dumps(digest_json(digest), ensure_ascii=False, indent=1) + "\n"
