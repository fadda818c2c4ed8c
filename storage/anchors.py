"""Evidence anchors in the database: upserted with each fetch, refreshed by reviews."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.models import AnchorRow
from storage.records import AnchorState


def quote_sha(quote: str) -> str:
    """The key of a quote (quotes can be longer than an index entry may be)."""
    return hashlib.sha256(quote.encode("utf-8")).hexdigest()


def put_anchors(s: Session, states: Sequence[AnchorState], at: datetime) -> None:
    """Insert or update anchors by (tool, criterion, source, quote)."""
    for a in states:
        row = s.scalars(
            sa.select(AnchorRow).filter_by(
                tool_id=a.tool_id,
                criterion_id=a.criterion_id,
                source_id=a.source_id,
                quote_sha=quote_sha(a.quote),
            )
        ).first()
        if row is None:
            row = AnchorRow(
                tool_id=a.tool_id,
                criterion_id=a.criterion_id,
                source_id=a.source_id,
                quote_sha=quote_sha(a.quote),
                quote=a.quote,
            )
            s.add(row)
        row.wording, row.prefix, row.suffix = a.wording, a.prefix, a.suffix
        row.status, row.score, row.passage, row.updated_at = a.status, a.score, a.passage, at
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
