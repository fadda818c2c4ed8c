"""Evidence anchors in the database: upserted with each fetch, refreshed by reviews."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.models import AnchorRow
from storage.records import AnchorState
from storage.upsert import upsert

KEY = ("tool_id", "criterion_id", "source_id", "quote_sha")  # uq_anchors_quote


def quote_sha(quote: str) -> str:
    """The key of a quote (quotes can be longer than an index entry may be)."""
    return hashlib.sha256(quote.encode("utf-8")).hexdigest()


def put_anchors(s: Session, states: Sequence[AnchorState], at: datetime) -> None:
    """Insert or update anchors by (tool, criterion, source, quote): INSERT … ON CONFLICT DO
    UPDATE, so a review and a crawl anchoring the same quote at once both succeed."""
    rows = {
        (a.tool_id, a.criterion_id, a.source_id, quote_sha(a.quote)): {
            "tool_id": a.tool_id,
            "criterion_id": a.criterion_id,
            "source_id": a.source_id,
            "quote_sha": quote_sha(a.quote),
            "quote": a.quote,
            "wording": a.wording,
            "prefix": a.prefix,
            "suffix": a.suffix,
            "status": a.status,
            "score": a.score,
            "passage": a.passage,
            "updated_at": at,
        }
        for a in states
    }  # the last state of a quote given twice wins, as it did row by row
    upsert(s, AnchorRow, list(rows.values()), KEY)
    s.flush()


def get_anchors(
    s: Session, tool_id: str, source_id: str | None = None, criterion_id: str | None = None
) -> list[AnchorState]:
    """A tool's anchors, optionally of one source or one criterion, in a stable order."""
    query = sa.select(AnchorRow).filter_by(tool_id=tool_id)
    if source_id is not None:
        query = query.filter_by(source_id=source_id)
    if criterion_id is not None:
        query = query.filter_by(criterion_id=criterion_id)
    return [anchor_state(r) for r in s.scalars(query.order_by(AnchorRow.id))]


def anchor_state(r: AnchorRow) -> AnchorState:
    """A stored anchor row as a record."""
    return AnchorState(
        tool_id=r.tool_id,
        criterion_id=r.criterion_id,
        source_id=r.source_id,
        quote=r.quote,
        wording=r.wording,
        prefix=r.prefix,
        suffix=r.suffix,
        status=r.status,
        score=r.score,
        passage=r.passage,
    )
