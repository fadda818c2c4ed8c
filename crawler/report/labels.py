"""Editors' decisions as hand labels, in the shape of the corpus's labels.json: one label per
change an editor judged, so that a directory can measure citewatch's precision on its own
history (`citewatch labels export`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from crawler.ingest.review import resolution_of
from storage import Store
from storage.records import FlagRecord, ReasonRecord, ReviewRecord

__all__ = ["ChangeLabel", "change_labels", "labels_json"]

# An excerpt is the changed text the decision was about, as a reader's reminder (labels.json's
# own are at most 300 characters); page text is untrusted and a change's sentences may be huge.
MAX_EXCERPT_CHARS = 1_000
# What an editor's decision says about the change it judged.
_HOW = {"confirm": "confirmed", "dismiss": "dismissed as noise"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeLabel:
    """A change as the editors judged it (the fields of labels.json)."""

    service: str  # the tool id
    document: str  # the source id
    version_sha: str  # the new version's text sha-256
    date: str  # when the change was detected, ISO 8601
    scope: str  # "text": citewatch compares normalized text
    substantive: bool  # confirmed or set on some rating; false when every decision dismissed
    noise_kind: str | None  # "other" when not substantive: an editor's note says which noise
    criteria: tuple[str, ...]  # the criteria whose flag was confirmed or set
    why: str  # each decision: criterion, what, who, the note
    excerpt: str  # the changed sentences, new wording first


@dataclass(frozen=True, slots=True)
class _Judged:
    criterion: str
    review: ReviewRecord
    reason: ReasonRecord


def change_labels(store: Store) -> list[ChangeLabel]:
    """A label for every change that a standing editor decision judged, oldest change first.

    A decision re-opened since is withdrawn and gives no label until the flag is resolved
    again; a recovered source and a broken-source flag (no change) give none either.
    """
    judged: dict[int, list[_Judged]] = {}
    for f in store.flags("resolved"):
        done = resolution_of(f)
        if done is None or done.action == "recovered":
            continue
        for r in _change_reasons(f):
            assert r.change_id is not None  # _change_reasons keeps only changes' reasons
            judged.setdefault(r.change_id, []).append(_Judged(f.criterion_id, done, r))
    changes = {c.id: c for c in store.changes(ids=judged)}
    out = []
    for change_id in sorted(judged):
        c, items = changes[change_id], judged[change_id]
        kept = sorted({j.criterion for j in items if j.review.action in ("confirm", "set")})
        out.append(
            ChangeLabel(
                service=c.tool_id,
                document=c.source_id,
                version_sha=store.snapshot(c.new_snapshot_id).text_sha,
                date=c.detected_at.isoformat(),
                scope="text",
                substantive=bool(kept),
                noise_kind=None if kept else "other",
                criteria=tuple(kept),
                why="; ".join(_why(j) for j in items),
                excerpt=_excerpt([j.reason for j in items]),
            )
        )
    return out


def labels_json(labels: Sequence[ChangeLabel]) -> list[dict[str, Any]]:
    """The labels as labels.json holds them."""
    return [
        {
            "service": x.service,
            "document": x.document,
            "version_sha": x.version_sha,
            "date": x.date,
            "scope": x.scope,
            "substantive": x.substantive,
            "noise_kind": x.noise_kind,
            "criteria": list(x.criteria),
            "why": x.why,
            "excerpt": x.excerpt,
        }
        for x in labels
    ]


def _change_reasons(f: FlagRecord) -> list[ReasonRecord]:
    """The flag's reasons that are changes (one each: a change may give several reasons)."""
    seen: dict[int, ReasonRecord] = {}
    for r in f.reasons:
        if r.change_id is not None:
            seen.setdefault(r.change_id, r)
    return list(seen.values())


def _why(j: _Judged) -> str:
    r = j.review
    how = f"set {r.rating}" if r.action == "set" else _HOW.get(r.action, r.action)
    return f"{j.criterion}: {how} by {r.by} ({r.at:%Y-%m-%d}) — {r.note}"


def _excerpt(reasons: Sequence[ReasonRecord]) -> str:
    """The changed sentences, the new wording (or the removed one), within MAX_EXCERPT_CHARS."""
    parts: list[str] = []
    for r in reasons:
        for old, new in r.sentences:
            text = new or old
            if text and text not in parts:
                parts.append(" ".join(text.split()))
    text = " ... ".join(parts)
    return text if len(text) <= MAX_EXCERPT_CHARS else text[: MAX_EXCERPT_CHARS - 1] + "…"
